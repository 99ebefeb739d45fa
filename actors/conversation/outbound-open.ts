/**
 * A business-initiated message (a campaign's): stored like any outbound message (pending, once
 * per id), but it may be the first message of its conversation, which it then starts, with the
 * campaign's sending account, so agents see the conversation in the inbox and the customer's
 * answer threads under it. The provider call and the result go through the usual
 * `outbound.attempt` / `outbound.result` (outbound.ts).
 */
import { EVENTS } from '../../src/events/types.js';
import { StaleWriteError } from '../../src/errors.js';
import type { Conversation } from '../../src/models/conversation.js';
import { contacts } from '../../src/models/contact.js';
import { messages } from '../../src/models/message.js';
import { presentConversation } from '../../src/presenters/conversation.js';
import { assertChannelSupports, assertInsideMessagingWindow, messagingWindowApplies } from '../../src/services/outbound-rules.js';
import { messageCreatedEvent, messageCreatedId } from './message-events.js';
import { emptyConversation } from './inbound.js';
import { outboundHandlers, pendingOutbound, type OutboundCreatePayload, type OutboundCreateReply } from './outbound.js';
import { changeEvent, commitNewConversation, insertOnce } from './state.js';

/** Store this message, starting the conversation with it if there is none yet. */
export interface OutboundOpenPayload extends OutboundCreatePayload {
  /** Where the conversation starts if this message is its first. */
  start: Pick<Conversation, 'contact_id' | 'channel' | 'account_id' | 'division_id'>;
  /** True when the sender just claimed the contact's slot for this conversation id: nothing is stored under it yet. */
  fresh?: boolean;
}

/**
 * Stores the message; when the conversation does not exist yet (the sender just claimed the
 * contact's slot for it), creates it with `conversation.created` and `message.created`.
 */
export async function openOutbound(c: Conversation | null, p: OutboundOpenPayload, conversationId: string): Promise<{ state: Conversation; reply: OutboundCreateReply }> {
  if (c) return outboundHandlers['outbound.create'](c, p);
  const { message } = p;
  assertChannelSupports(p.start.channel, p.kind, message.text);
  // A template needs no window, so the contact (its last inbound time) is read only for the others.
  const contact = messagingWindowApplies(p.start.channel, p.kind) ? await contacts.findOwnedOrNull(message.tenant_id, p.start.contact_id) : null;
  assertInsideMessagingWindow(p.start.channel, p.kind, contact?.last_inbound_at ?? null, new Date());
  const { stored } = await insertOnce(messages, pendingOutbound(message, { _id: conversationId, ...p.start }), messageCreatedId(message.tenant_id, message._id));
  const first = emptyConversation(conversationId, message.tenant_id, p.start);
  if (!(await commitNewConversation(first, (created) => [changeEvent(created, EVENTS.conversationCreated, presentConversation(created)), messageCreatedEvent(created, stored)]))) {
    // Created meanwhile (by a previous owner of this actor): reload, and store it there.
    throw new StaleWriteError('conversation', conversationId, 0);
  }
  return { state: first, reply: { created: true, message: stored } };
}
