/**
 * The SLA listener: keeps each conversation's SLA record (services/sla-clock.ts) from the
 * conversation's events, in seq order per tenant. Any change of the conversation may start,
 * pause, resume, re-scope or stop its clocks; an agent's or AI agent's message meets the
 * first-response clock. Breaches of clocks nobody met are recorded by the sweeper job.
 * A failure retries the event (the cursor waits): a skipped change would leave a clock wrong.
 */
import { applyConversationChange, applyReply, type ConversationSnapshot } from '../../services/sla-clock.js';
import type { DurableListener } from '../listener.js';
import { EVENTS, type DomainEvent } from '../types.js';

/** What the clock reads of a presented conversation (every conversation event carries one). */
interface ConversationData {
  id: string;
  status: ConversationSnapshot['status'];
  channel: string;
  division_id: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
}

/** What the clock reads of a presented message. */
interface MessageData {
  conversation_id: string;
  direction: 'inbound' | 'outbound';
  sender_type: string;
  sent_at: string;
}

// Messages that answer the customer; `system` ones (a survey link, a closing message) do not.
const REPLY_SENDERS = new Set(['agent', 'ai']);

/** The durable SLA listener. */
export const slaListener: DurableListener = {
  name: 'sla',
  runs: 'durable',
  onFailure: 'retry',
  events: [EVENTS.conversationCreated, EVENTS.conversationUpdated, EVENTS.conversationAssigned, EVENTS.conversationTransferred, EVENTS.conversationTakeover, EVENTS.messageCreated],
  async handle(e: DomainEvent) {
    if (e.event === EVENTS.messageCreated) {
      const m = e.data as MessageData;
      if (m.direction === 'outbound' && REPLY_SENDERS.has(m.sender_type)) await applyReply(e.tenant_id, m.conversation_id, new Date(m.sent_at), e.seq);
      return;
    }
    const c = e.data as ConversationData;
    await applyConversationChange(
      e.tenant_id,
      { id: c.id, status: c.status, channel: c.channel, division_id: c.division_id, tags: c.tags, created_at: new Date(c.created_at), updated_at: new Date(c.updated_at) },
      e.seq,
      e.event === EVENTS.conversationCreated,
    );
  },
};
