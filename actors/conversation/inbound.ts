/**
 * Conversation-actor handlers for what channels tell us: a new inbound message (or an echo of
 * one the business sent from another tool), and a delivery status of a message we sent.
 */
import { emitEvent } from '../../src/events/publish.js';
import { EVENTS, type Audience } from '../../src/events/types.js';
import { isDuplicateKey } from '../../src/errors.js';
import { naturalId } from '../../src/ids.js';
import { ContactModel } from '../../src/models/contact.js';
import type { Conversation } from '../../src/models/conversation.js';
import { DELIVERY_ORDER, MessageModel, MessageRefModel, type DeliveryStatus, type Message } from '../../src/models/message.js';
import { presentConversation, presentMessage } from '../../src/presenters/conversation.js';
import { saveConversation, type ConversationHandler } from './state.js';

/** Who may see events of this conversation. */
export const audienceOf = (c: Conversation): Audience => ({
  scope: 'conversation',
  conversationId: c._id,
  divisionId: c.division_id,
  assigneeId: c.assignee_id,
});

/** A message as the inbound pipeline hands it over (dates as ISO strings: asks cross processes). */
export interface InboundMessagePayload {
  message: Omit<Message, 'created_at' | 'updated_at' | 'sent_at' | 'conversation_id'> & { sent_at: string };
}

/** The inbound handler's answer. */
export interface InboundReply {
  messageId: string;
  duplicate: boolean;
}

/** The conversation list's one-line preview of a message. */
export const preview = (m: Pick<Message, 'text' | 'type'>) => (m.text ? m.text.slice(0, 140) : `[${m.type}]`);

/** Stores a message once, threads it into the conversation, and announces both. */
const receiveInbound: ConversationHandler<InboundMessagePayload, InboundReply> = async (c, { message }) => {
  const sentAt = new Date(message.sent_at);
  const doc = { ...message, conversation_id: c._id, sent_at: sentAt };
  try {
    await MessageModel.create(doc);
  } catch (err) {
    // Meta retries deliveries; the natural `_id` makes the second copy a no-op.
    if (isDuplicateKey(err)) return { state: c, reply: { messageId: message._id, duplicate: true } };
    throw err;
  }
  if (message.external_id) await claimRef(c, message._id, message.external_id);
  const stored = (await MessageModel.findById(message._id).lean<Message>().exec()) as Message;
  const fromCustomer = message.direction === 'inbound';
  const isNewest = !c.last_message_at || sentAt >= c.last_message_at;
  const set: Partial<Conversation> = {
    message_count: c.message_count + 1,
    ...(fromCustomer ? { unread_count: c.unread_count + 1, last_inbound_at: maxDate(c.last_inbound_at, sentAt) } : {}),
    ...(isNewest ? { last_message_at: sentAt, last_message_preview: preview(message) } : {}),
    // A customer writing again reopens a resolved conversation (closed ones release their slot).
    ...(fromCustomer && c.status === 'resolved' ? { status: 'open' as const } : {}),
  };
  const next = await saveConversation(c, set);
  if (fromCustomer) {
    await ContactModel.updateOne({ _id: message.contact_id }, { $max: { last_inbound_at: sentAt } }).exec();
  }
  await emitEvent(c.tenant_id, EVENTS.messageCreated, presentMessage(stored), audienceOf(next));
  await emitEvent(c.tenant_id, EVENTS.conversationUpdated, presentConversation(next), audienceOf(next));
  return { state: next, reply: { messageId: message._id, duplicate: false } };
};

/** Claims a provider message id for our message, so statuses and reactions find it by `_id`; a second claim is a no-op. */
export async function claimRef(c: Conversation, messageId: string, externalId: string): Promise<void> {
  try {
    await MessageRefModel.create({ _id: naturalId('message-ref', c.tenant_id, c.channel, externalId), tenant_id: c.tenant_id, message_id: messageId, conversation_id: c._id });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

const maxDate = (a: Date | null, b: Date) => (a && a > b ? a : b);

/** A delivery status for one of this conversation's messages. */
export interface DeliveryStatusPayload {
  messageId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  errors?: unknown[];
}

const rank = (s: DeliveryStatus) => DELIVERY_ORDER.indexOf(s as (typeof DELIVERY_ORDER)[number]);

/**
 * Moves a message's delivery state forward only: statuses arrive out of order, and a late
 * `delivered` must never override `read`; `failed` is final and is not taken after `read`.
 */
const applyDeliveryStatus: ConversationHandler<DeliveryStatusPayload, { changed: boolean }> = async (c, p) => {
  const m = await MessageModel.findById(p.messageId).lean<Message>().exec();
  if (!m || m.conversation_id !== c._id) return { state: c, reply: { changed: false } };
  return { state: c, reply: { changed: await advanceStatus(c, m, p.status, p.errors) } };
};

/** Moves one message's state forward if `status` is ahead of it, and announces it. */
async function advanceStatus(c: Conversation, m: Message, status: DeliveryStatusPayload['status'], errors?: unknown[]): Promise<boolean> {
  const advances = status === 'failed' ? m.status !== 'failed' && m.status !== 'read' : m.status !== 'failed' && rank(status) > rank(m.status);
  if (!advances) return false;
  await MessageModel.updateOne({ _id: m._id }, { $set: { status, ...(errors?.length ? { delivery_errors: errors } : {}) } }).exec();
  await emitEvent(c.tenant_id, EVENTS.messageUpdated, presentMessage({ ...m, status, ...(errors?.length ? { delivery_errors: errors } : {}) }), audienceOf(c));
  return true;
}

/** A watermark receipt: every message we sent up to this time was delivered, or read. */
export interface DeliveryWatermarkPayload {
  status: 'delivered' | 'read';
  watermark: string;
}

/** Messenger reports deliveries and reads as a time, not per message: advance all up to it. */
const applyDeliveryWatermark: ConversationHandler<DeliveryWatermarkPayload, { changed: number }> = async (c, p) => {
  const sent = await MessageModel.find({ tenant_id: c.tenant_id, conversation_id: c._id, direction: 'outbound', sent_at: { $lte: new Date(p.watermark) } })
    .sort({ sent_at: 1, _id: 1 })
    .lean<Message[]>()
    .exec();
  let changed = 0;
  for (const m of sent) if (await advanceStatus(c, m, p.status)) changed++;
  return { state: c, reply: { changed } };
};

/** The inbound message types of the conversation actor. */
export const inboundHandlers = {
  inbound: receiveInbound,
  delivery_status: applyDeliveryStatus,
  delivery_watermark: applyDeliveryWatermark,
};
