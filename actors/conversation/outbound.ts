/**
 * Conversation-actor handlers for what we send: `outbound.create` stores an agent's (or AI's,
 * or a schedule's) message as pending once per idempotency key, after the state-dependent rules
 * (conversation still takes replies, messaging window); `outbound.result` records what the
 * provider answered. The provider call itself happens between the two, outside the actor, so a
 * slow Graph API never holds the conversation's mailbox.
 */
import { ConflictError, isDuplicateKey } from '../../src/errors.js';
import { emitEvent } from '../../src/events/publish.js';
import { EVENTS } from '../../src/events/types.js';
import { ContactModel, type Contact } from '../../src/models/contact.js';
import { MessageModel, type Message } from '../../src/models/message.js';
import { presentConversation, presentMessage } from '../../src/presenters/conversation.js';
import {
  assertChannelSupports,
  assertConversationAcceptsReplies,
  assertInsideMessagingWindow,
  latest,
  type OutgoingType,
} from '../../src/services/outbound-rules.js';
import { audienceOf, claimRef, preview } from './inbound.js';
import { saveConversation, type ConversationHandler } from './state.js';

/** The fields of a new outbound message the sender decides; the actor adds the conversation's. */
export interface OutboundDraft {
  _id: string;
  tenant_id: string;
  sender_type: 'agent' | 'ai' | 'system';
  sender_id: string | null;
  idempotency_key: string | null;
  type: string;
  text: string | null;
  content: Record<string, unknown>;
  reply_to_external_id: string | null;
  /** ISO time of the send request: the message's place in the conversation. */
  sent_at: string;
}

/** Store this message as pending (once). */
export interface OutboundCreatePayload {
  /** Which rules apply (the stored `type` of a media message is its media type). */
  kind: OutgoingType;
  message: OutboundDraft;
}

/** Whether this ask stored the message, or found it stored by an earlier one with the same key. */
export interface OutboundCreateReply {
  created: boolean;
}

/** A provider error as stored in `delivery_errors` (and presented as `errors`). */
export interface DeliveryError {
  code: string | number | null;
  message: string;
  /** Whether sending again later may succeed (rate limits, timeouts); a new request is still needed. */
  retryable: boolean;
  http_status: number | null;
}

/** What the provider answered to the send. */
export interface OutboundResultPayload {
  messageId: string;
  outcome: { status: 'sent'; externalId: string } | { status: 'failed'; error: DeliveryError };
}

const conflict = () => ConflictError('This idempotency_key was already used for a message in another conversation; use a new key per message');

/** Stores an outbound message as pending and announces it; a second ask with the same id is a no-op. */
const createOutbound: ConversationHandler<OutboundCreatePayload, OutboundCreateReply> = async (c, { kind, message }) => {
  const existing = await MessageModel.findById(message._id).lean<Message>().exec();
  if (existing) {
    if (existing.conversation_id !== c._id || existing.tenant_id !== c.tenant_id) throw conflict();
    return { state: c, reply: { created: false } };
  }
  assertConversationAcceptsReplies(c);
  assertChannelSupports(c.channel, kind, message.text);
  const contact = await ContactModel.findById(c.contact_id).lean<Contact>().exec();
  // The contact's time covers the customer's messages in other conversations on this channel too.
  assertInsideMessagingWindow(c.channel, kind, latest(contact?.last_inbound_at ?? null, c.last_inbound_at), new Date());
  const doc: Omit<Message, 'created_at' | 'updated_at'> = {
    ...message,
    conversation_id: c._id,
    contact_id: c.contact_id,
    channel: c.channel,
    direction: 'outbound',
    external_id: null,
    status: 'pending',
    delivery_errors: [],
    sent_at: new Date(message.sent_at),
  };
  try {
    await MessageModel.create(doc);
  } catch (err) {
    // The same key used at once in another conversation (another actor) lost this claim.
    if (!isDuplicateKey(err)) throw err;
    const winner = await MessageModel.findById(message._id).lean<Message>().exec();
    if (winner?.conversation_id !== c._id) throw conflict();
    return { state: c, reply: { created: false } };
  }
  const stored = (await MessageModel.findById(message._id).lean<Message>().exec()) as Message;
  await emitEvent(c.tenant_id, EVENTS.messageCreated, presentMessage(stored), audienceOf(c));
  return { state: c, reply: { created: true } };
};

/**
 * Records the provider's answer to a pending message: sent (its provider id claimed in
 * message_refs, so delivery statuses find it; the conversation's counters and preview move) or
 * failed with the provider's error. A message already settled is left alone.
 */
const recordOutboundResult: ConversationHandler<OutboundResultPayload, { changed: boolean }> = async (c, { messageId, outcome }) => {
  const m = await MessageModel.findById(messageId).lean<Message>().exec();
  if (!m || m.conversation_id !== c._id || m.status !== 'pending') return { state: c, reply: { changed: false } };
  let next = c;
  if (outcome.status === 'sent') {
    await claimRef(c, m._id, outcome.externalId);
    await MessageModel.updateOne({ _id: m._id }, { $set: { external_id: outcome.externalId, status: 'sent' } }).exec();
    const isNewest = !c.last_message_at || m.sent_at >= c.last_message_at;
    next = await saveConversation(c, {
      message_count: c.message_count + 1,
      ...(isNewest ? { last_message_at: m.sent_at, last_message_preview: preview(m) } : {}),
    });
  } else {
    await MessageModel.updateOne({ _id: m._id }, { $set: { status: 'failed', delivery_errors: [outcome.error] } }).exec();
  }
  const updated = (await MessageModel.findById(m._id).lean<Message>().exec()) as Message;
  await emitEvent(c.tenant_id, EVENTS.messageUpdated, presentMessage(updated), audienceOf(next));
  if (next !== c) await emitEvent(c.tenant_id, EVENTS.conversationUpdated, presentConversation(next), audienceOf(next));
  return { state: next, reply: { changed: true } };
};

/** The outbound message types of the conversation actor. */
export const outboundHandlers = {
  'outbound.create': createOutbound,
  'outbound.result': recordOutboundResult,
};
