/**
 * Conversation-actor handlers for what channels tell us: a new inbound message (or an echo of
 * one the business sent from another tool), and a delivery status of a message we sent.
 *
 * Retries are the normal case (Meta redelivers, the recovery pass reprocesses), so each
 * handler can run again after stopping anywhere: the message's natural id makes its insert a
 * claim, its `message.created` event id says whether it was threaded into the conversation,
 * and a status's event id says whether its advance was announced.
 */
import { EVENTS } from '../../src/events/types.js';
import { emitEvents } from '../../src/events/publish.js';
import { StaleWriteError } from '../../src/errors.js';
import { findEventsByIds } from '../../src/models/event.js';
import type { Conversation } from '../../src/models/conversation.js';
import {
  claimMessageRef,
  DELIVERY_ORDER,
  findMessageById,
  messageRefId,
  messages,
  outboundSentUntil,
  setMessageFields,
  type DeliveryStatus,
  type Message,
} from '../../src/models/message.js';
import { presentConversation } from '../../src/presenters/conversation.js';
import { countSent, messageCreatedEvent, messageCreatedId, preview, statusEvent } from './message-events.js';
import { changeEvent, commitConversation, commitNewConversation, insertOnce, type ConversationHandler } from './state.js';

/** A message as the inbound pipeline hands it over (dates as ISO strings: asks cross processes). */
export interface InboundMessagePayload {
  message: Omit<Message, 'created_at' | 'updated_at' | 'sent_at' | 'conversation_id'> & { sent_at: string };
  /** Where the conversation starts if this message is its first. */
  start: Pick<Conversation, 'contact_id' | 'channel' | 'account_id' | 'division_id'>;
  /** True when the sender just claimed the contact's slot for this new conversation id: nothing is stored under it yet. */
  fresh: boolean;
}

/** The inbound handler's answer. */
export interface InboundReply {
  messageId: string;
  duplicate: boolean;
  /** True when this message started the conversation. */
  created: boolean;
}

/** Stores a message once, threads it into the conversation (starting it if needed), and announces both. */
export async function receiveInbound(c: Conversation | null, p: InboundMessagePayload, conversationId: string): Promise<{ state: Conversation | null; reply: InboundReply }> {
  const { message } = p;
  const duplicate = { messageId: message._id, duplicate: true, created: false };
  const { stored, committed } = await insertOnce(
    messages,
    { ...message, conversation_id: conversationId, sent_at: new Date(message.sent_at) },
    messageCreatedId(message.tenant_id, message._id),
  );
  // Meta's retry of a message already threaded (here, or into an earlier conversation) changes nothing.
  if (committed || stored.conversation_id !== conversationId) return { state: c, reply: duplicate };
  // Delivery statuses name messages the business sent: an echo's provider id is claimed for them.
  if (stored.direction === 'outbound' && stored.external_id) {
    await claimMessageRef({ _id: messageRefId(stored.tenant_id, stored.channel, stored.external_id), tenant_id: stored.tenant_id, message_id: stored._id, conversation_id: conversationId });
  }
  if (!c) {
    const first = firstConversation(conversationId, p, stored);
    if (await commitNewConversation(first, (created) => [changeEvent(created, EVENTS.conversationCreated, presentConversation(created)), messageCreatedEvent(created, stored)])) {
      return { state: first, reply: { messageId: stored._id, duplicate: false, created: true } };
    }
    // Created meanwhile by a previous owner of this actor: reload and thread into it.
    throw new StaleWriteError('conversation', conversationId, 0);
  }
  const next = await commitConversation(c, threadedFields(c, stored), (after) => [messageCreatedEvent(after, stored), changeEvent(after, EVENTS.conversationUpdated, presentConversation(after))]);
  return { state: next, reply: { messageId: stored._id, duplicate: false, created: false } };
}

/** What one more message changes on a conversation. */
function threadedFields(c: Conversation, m: Message): Partial<Conversation> {
  const fromCustomer = m.direction === 'inbound';
  const isNewest = !c.last_message_at || m.sent_at >= c.last_message_at;
  return {
    message_count: c.message_count + 1,
    ...(fromCustomer ? { unread_count: c.unread_count + 1, last_inbound_at: maxDate(c.last_inbound_at, m.sent_at) } : {}),
    ...(isNewest ? { last_message_at: m.sent_at, last_message_preview: preview(m) } : {}),
    // A customer writing again reopens a resolved conversation (closed ones release their slot).
    ...(fromCustomer && c.status === 'resolved' ? { status: 'open' as const } : {}),
  };
}

/** A conversation as its first message starts it. */
function firstConversation(id: string, p: InboundMessagePayload, m: Message): Conversation {
  const empty = emptyConversation(id, m.tenant_id, p.start);
  return { ...empty, ...threadedFields(empty, m) };
}

/** A conversation with nothing in it yet, starting where `start` says (version 1). */
export function emptyConversation(id: string, tenantId: string, start: InboundMessagePayload['start']): Conversation {
  const now = new Date();
  return {
    _id: id,
    tenant_id: tenantId,
    ...start,
    assignee_id: null,
    status: 'open',
    tags: [],
    read_markers: {},
    message_count: 0,
    unread_count: 0,
    note_count: 0,
    last_message_at: null,
    last_inbound_at: null,
    last_message_preview: null,
    closed_at: null,
    version: 1,
    outbox: [],
    created_at: now,
    updated_at: now,
  };
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
  const m = await findMessageById(p.messageId);
  if (!m || m.conversation_id !== c._id) return { state: c, reply: { changed: false } };
  const { state, changed } = await advanceStatus(c, m, p.status, p.errors);
  return { state, reply: { changed } };
};

/** Moves one message's state forward if `status` is ahead of it, and announces it. */
async function advanceStatus(c: Conversation, m: Message, status: DeliveryStatusPayload['status'], errors?: unknown[]): Promise<{ state: Conversation; changed: boolean }> {
  if (m.status === status) return { state: await finishAnnouncement(c, m), changed: false };
  const advances = status === 'failed' ? m.status !== 'failed' && m.status !== 'read' : m.status !== 'failed' && rank(status) > rank(m.status);
  if (!advances) return { state: c, changed: false };
  const set = { status, ...(errors?.length ? { delivery_errors: errors } : {}), updated_at: new Date() };
  if (!(await setMessageFields(m._id, m.status, set))) return { state: c, changed: false };
  await emitEvents(c.tenant_id, [statusEvent(c, { ...m, ...set })]);
  return { state: c, changed: true };
}

/**
 * The same status again (a retry, or the provider's `sent` after our own record of the send):
 * if a crash came between writing the status and announcing it, announce it now; a send the
 * provider accepted but the conversation never counted is counted now.
 */
async function finishAnnouncement(c: Conversation, m: Message): Promise<Conversation> {
  const event = statusEvent(c, m);
  if ((await findEventsByIds(c.tenant_id, [event.id])).length > 0) return c;
  if (m.status === 'sent' && m.direction === 'outbound' && m.sender_type !== 'external') return countSent(c, m);
  await emitEvents(c.tenant_id, [event]);
  return c;
}

/** A watermark receipt: every message we sent up to this time was delivered, or read. */
export interface DeliveryWatermarkPayload {
  status: 'delivered' | 'read';
  watermark: string;
}

/** Messenger reports deliveries and reads as a time, not per message: advance all still behind it. */
const applyDeliveryWatermark: ConversationHandler<DeliveryWatermarkPayload, { changed: number }> = async (c, p) => {
  const behind = DELIVERY_ORDER.slice(0, rank(p.status));
  const sent = await outboundSentUntil(c.tenant_id, c._id, new Date(p.watermark), behind);
  let changed = 0;
  let state = c;
  for (const m of sent) {
    const step = await advanceStatus(state, m, p.status);
    state = step.state;
    if (step.changed) changed++;
  }
  return { state, reply: { changed } };
};

/** The delivery message types of the conversation actor (inbound messages have their own entry, see index.ts). */
export const inboundHandlers = {
  delivery_status: applyDeliveryStatus,
  delivery_watermark: applyDeliveryWatermark,
};
