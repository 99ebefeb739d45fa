/**
 * Conversation-actor handlers for what we send: `outbound.create` stores an agent's (or AI's,
 * or a schedule's) message as pending once per idempotency key, after the state-dependent rules
 * (conversation still takes replies, messaging window); `outbound.result` records what the
 * provider answered. The provider call itself happens between the two, outside the actor, so a
 * slow Graph API never holds the conversation's mailbox.
 */
import { ConflictError } from '../../src/errors.js';
import type { Conversation } from '../../src/models/conversation.js';
import { emitEvents } from '../../src/events/publish.js';
import { contacts } from '../../src/models/contact.js';
import { claimMessageRef, findMessageById, messageRefId, messages, setMessageFields, type Message } from '../../src/models/message.js';
import {
  assertChannelSupports,
  assertConversationAcceptsReplies,
  assertInsideMessagingWindow,
  latest,
  type OutgoingType,
} from '../../src/services/outbound-rules.js';
import { countSent, messageCreatedEvent, messageCreatedId, statusEvent } from './message-events.js';
import { insertOnce, type ConversationHandler } from './state.js';

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

/** Whether this ask stored the message, or found it stored by an earlier one with the same key; and the message. */
export interface OutboundCreateReply {
  created: boolean;
  /** As stored (dates as ISO strings: replies cross processes). */
  message: Message;
}

/** What recording a send's outcome changed, and the message after it when it changed. */
export interface OutboundResultReply {
  changed: boolean;
  message?: Message;
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

/** A new outbound message as stored: pending in conversation `c`, not yet handed to the provider. */
export const pendingOutbound = (message: OutboundDraft, c: Pick<Conversation, '_id' | 'contact_id' | 'channel'>) => ({
  ...message,
  conversation_id: c._id,
  contact_id: c.contact_id,
  channel: c.channel,
  direction: 'outbound' as const,
  external_id: null,
  status: 'pending' as const,
  delivery_errors: [],
  sent_at: new Date(message.sent_at),
  send_attempted_at: null,
});

const conflict = () => ConflictError('This idempotency_key was already used for a message in another conversation; use a new key per message');

/**
 * Stores an outbound message as pending and announces it; a second ask with the same id finds
 * it (and announces it if a crash came between the two).
 */
const createOutbound: ConversationHandler<OutboundCreatePayload, OutboundCreateReply> = async (c, { kind, message }) => {
  const existing = await findMessageById(message._id);
  if (existing && (existing.conversation_id !== c._id || existing.tenant_id !== c.tenant_id)) throw conflict();
  if (!existing) {
    assertConversationAcceptsReplies(c);
    assertChannelSupports(c.channel, kind, message.text);
    const contact = await contacts.findOwnedOrNull(c.tenant_id, c.contact_id);
    // The contact's time covers the customer's messages in other conversations on this channel too.
    assertInsideMessagingWindow(c.channel, kind, latest(contact?.last_inbound_at ?? null, c.last_inbound_at), new Date());
  }
  const { stored, committed } = await insertOnce(
    messages,
    pendingOutbound(message, c),
    messageCreatedId(c.tenant_id, message._id),
  );
  // The same key used at once in another conversation (another actor) won this claim.
  if (stored.conversation_id !== c._id) throw conflict();
  if (!committed) await emitEvents(c.tenant_id, [messageCreatedEvent(c, stored)]);
  return { state: c, reply: { created: !existing && !committed, message: stored } };
};

/**
 * Records the provider's answer to a pending message: sent (its provider id claimed in
 * message_refs, so delivery statuses find it; the conversation's counters and preview move) or
 * failed with the provider's error. A message already settled is left alone.
 */
const recordOutboundResult: ConversationHandler<OutboundResultPayload, OutboundResultReply> = async (c, { messageId, outcome }) => {
  const m = await findMessageById(messageId);
  if (!m || m.conversation_id !== c._id || m.status !== 'pending') return { state: c, reply: { changed: false } };
  if (outcome.status === 'failed') {
    const set = { status: 'failed' as const, delivery_errors: [outcome.error], updated_at: new Date() };
    const failed: Message = { ...m, ...set };
    if (!(await setMessageFields(m._id, 'pending', set))) return { state: c, reply: { changed: false } };
    await emitEvents(c.tenant_id, [statusEvent(c, failed)]);
    return { state: c, reply: { changed: true, message: failed } };
  }
  const set = { external_id: outcome.externalId, status: 'sent' as const, updated_at: new Date() };
  const sent: Message = { ...m, ...set };
  await claimMessageRef({ _id: messageRefId(c.tenant_id, c.channel, outcome.externalId), tenant_id: c.tenant_id, message_id: m._id, conversation_id: c._id });
  // The message first, then the conversation with the events: a crash in between is finished by
  // the provider's own `sent` status webhook, which finds the send not yet counted.
  if (!(await setMessageFields(m._id, 'pending', set))) return { state: c, reply: { changed: false } };
  return { state: await countSent(c, sent), reply: { changed: true, message: sent } };
};

/** Take a pending message for its one hand-over to the provider. */
export interface OutboundAttemptPayload {
  messageId: string;
}

/**
 * Claims the one hand-over of a pending message to the provider: true for the first caller only
 * (the request that stored it, or the sweeper after a crash), so two processes never both send
 * it. The claim is written before the provider is called; a message found claimed but still
 * pending was left by a crash mid-send, and whether the provider has it cannot be known.
 */
const attemptOutbound: ConversationHandler<OutboundAttemptPayload, { granted: boolean }> = async (c, { messageId }) => {
  const m = await findMessageById(messageId);
  if (!m || m.conversation_id !== c._id || m.status !== 'pending' || m.send_attempted_at) return { state: c, reply: { granted: false } };
  return { state: c, reply: { granted: await setMessageFields(m._id, 'pending', { send_attempted_at: new Date() }) } };
};

/** The outbound message types of the conversation actor. */
export const outboundHandlers = {
  'outbound.create': createOutbound,
  'outbound.attempt': attemptOutbound,
  'outbound.result': recordOutboundResult,
};
