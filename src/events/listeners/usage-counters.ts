/**
 * The usage-counters listener: counts each tenant's messages, AI replies and new conversations
 * per calendar month of the tenant's time zone (the monthly plan limits, services/billing-usage.ts).
 * Idempotent by seq (each month's document keeps the last seq counted), so a replay after a crash
 * counts nothing twice; a failure retries the event, as a skipped one would leave a count short.
 */
import { countEventUsage } from '../../services/billing-usage.js';
import type { DurableListener } from '../listener.js';
import { EVENTS, type DomainEvent } from '../types.js';

/** What the counters read of a presented message or conversation. */
interface CountedFacts {
  sender_type?: string;
  sent_at?: string;
  created_at?: string;
}

/** The durable usage-counters listener. */
export const usageCountersListener: DurableListener = {
  name: 'usage-counters',
  runs: 'durable',
  onFailure: 'retry',
  events: [EVENTS.messageCreated, EVENTS.conversationCreated],
  async handle(e: DomainEvent) {
    const facts = e.data as CountedFacts;
    if (e.event === EVENTS.conversationCreated) {
      return countEventUsage(e.tenant_id, new Date(facts.created_at ?? e.created_at), { conversations: 1 }, e.seq);
    }
    const inc = facts.sender_type === 'ai' ? { messages: 1, ai_replies: 1 } : { messages: 1 };
    return countEventUsage(e.tenant_id, new Date(facts.sent_at ?? e.created_at), inc, e.seq);
  },
};
