/**
 * What the conversation actor's message handlers share: how a message is announced, and how a
 * sent message is counted on its conversation. Event ids derive from the message and its
 * status, so each announcement happens once however often a handler runs again.
 */
import { audienceOf } from '../../src/events/audience.js';
import { draftEvent, eventIdOf } from '../../src/events/publish.js';
import { EVENTS, type EventDraft } from '../../src/events/types.js';
import type { Conversation } from '../../src/models/conversation.js';
import type { Message } from '../../src/models/message.js';
import { presentConversation, presentMessage } from '../../src/presenters/conversation.js';
import { changeEvent, commitConversation } from './state.js';

/** The conversation list's one-line preview of a message. */
export const preview = (m: Pick<Message, 'text' | 'type'>) => (m.text ? m.text.slice(0, 140) : `[${m.type}]`);

const messageKey = (messageId: string) => `message:${messageId}`;
const statusKey = (m: Pick<Message, '_id' | 'status'>) => `${messageKey(m._id)}:status:${m.status}`;

/** The id of the event that announces a stored message: present once the message is threaded. */
export const messageCreatedId = (tenantId: string, messageId: string) => eventIdOf(tenantId, messageKey(messageId), EVENTS.messageCreated);

/** The event that announces a stored message. */
export const messageCreatedEvent = (c: Conversation, m: Message): EventDraft =>
  draftEvent(c.tenant_id, messageKey(m._id), EVENTS.messageCreated, presentMessage(m), audienceOf(c));

/** The event of a message reaching its current status: one per message and status. */
export const statusEvent = (c: Conversation, m: Message): EventDraft =>
  draftEvent(c.tenant_id, statusKey(m), EVENTS.messageUpdated, presentMessage(m), audienceOf(c));

/**
 * Counts a message the provider accepted on its conversation (count, last activity, preview),
 * announcing the message's `sent` and the conversation in the same commit, so "announced" and
 * "counted" are one fact.
 */
export function countSent(c: Conversation, sent: Message): Promise<Conversation> {
  const isNewest = !c.last_message_at || sent.sent_at >= c.last_message_at;
  return commitConversation(c, { message_count: c.message_count + 1, ...(isNewest ? { last_message_at: sent.sent_at, last_message_preview: preview(sent) } : {}) }, (after) => [
    statusEvent(after, sent),
    changeEvent(after, EVENTS.conversationUpdated, presentConversation(after)),
  ]);
}
