/**
 * The analytics listener: keeps the report roll-ups (services/analytics-rollup.ts) from
 * conversation and message events, and the WhatsApp delivery roll-ups
 * (services/analytics-delivery.ts) from message events, in seq order per tenant. Idempotent by seq (each roll-up
 * document keeps the last seq applied), so a replay after a crash counts nothing twice. A
 * failure retries the event: a skipped one would leave a count short for good.
 */
import { rollUpDelivery, type DeliveryFacts } from '../../services/analytics-delivery.js';
import { rollUpConversation, rollUpMessage, type ConversationFacts, type MessageFacts } from '../../services/analytics-rollup.js';
import type { DurableListener } from '../listener.js';
import { EVENTS, type DomainEvent } from '../types.js';

/** The durable analytics listener. */
export const analyticsListener: DurableListener = {
  name: 'analytics',
  runs: 'durable',
  onFailure: 'retry',
  events: [EVENTS.conversationCreated, EVENTS.conversationUpdated, EVENTS.conversationAssigned, EVENTS.conversationTransferred, EVENTS.conversationTakeover, EVENTS.messageCreated, EVENTS.messageUpdated],
  async handle(e: DomainEvent) {
    if (e.event === EVENTS.messageUpdated) return rollUpDelivery(e.tenant_id, e.data as DeliveryFacts, e.seq);
    if (e.event === EVENTS.messageCreated) {
      await rollUpMessage(e.tenant_id, e.data as MessageFacts, e.seq);
      return rollUpDelivery(e.tenant_id, e.data as DeliveryFacts, e.seq);
    }
    return rollUpConversation(e.tenant_id, e.data as ConversationFacts, e.seq, e.event === EVENTS.conversationCreated);
  },
};
