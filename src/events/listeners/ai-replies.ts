/**
 * The AI-replies listener: AI agents answer customers' messages and hand conversations to humans
 * (services/ai-replies.ts), and learn from the conversation's events when humans took it (a
 * takeover, a transfer by a person, an agent's reply), after which the AI stays silent there.
 * A failure skips the event (logged): an answer minutes late, after retries held up every later
 * message of the tenant, would serve the customer worse than the human queue does.
 */
import { answerCustomerMessage, noteHumansTookOver, type MessageData } from '../../services/ai-replies.js';
import type { DurableListener } from '../listener.js';
import { EVENTS, type DomainEvent } from '../types.js';

/** The durable AI-replies listener. */
export const aiRepliesListener: DurableListener = {
  name: 'ai-replies',
  runs: 'durable',
  onFailure: 'skip',
  events: [EVENTS.messageCreated, EVENTS.conversationTakeover, EVENTS.conversationTransferred],
  async handle(e: DomainEvent) {
    if (e.event === EVENTS.conversationTakeover) {
      const c = e.data as { id: string; taken_over_by: string };
      return noteHumansTookOver(e, c.id, c.taken_over_by);
    }
    if (e.event === EVENTS.conversationTransferred) {
      const c = e.data as { id: string; transfer: { transferred_by: string } };
      return noteHumansTookOver(e, c.id, c.transfer.transferred_by);
    }
    const m = e.data as MessageData;
    if (m.direction === 'outbound' && m.sender_type === 'agent') return noteHumansTookOver(e, m.conversation_id, m.sender_id);
    return answerCustomerMessage(e);
  },
};
