/**
 * Outgoing webhooks (issue 11): for each event, queues one pending delivery per active webhook
 * of the tenant subscribed to its type (one unordered insert; the ids derive from webhook and
 * seq, so a replayed event queues nothing new), marks those webhooks as having work, and wakes
 * their senders (src/services/outgoing-webhook-sender.ts), which send in seq order per webhook.
 * Cheap for tenants without webhooks: the subscriptions are a per-process cache.
 */
import { markWebhooksPending } from '../../models/outgoing-webhook.js';
import { deliveryIdOf, queueDeliveries } from '../../models/outgoing-webhook-delivery.js';
import { wakeWebhooks } from '../../services/outgoing-webhook-sender.js';
import { subscribersOf } from '../../services/outgoing-webhook-subscriptions.js';
import type { DurableListener } from '../listener.js';
import type { DomainEvent } from '../types.js';

/** Queues and wakes the deliveries of one event. */
async function handle(e: DomainEvent): Promise<void> {
  const ids = await subscribersOf(e.tenant_id, e.event);
  if (ids.length === 0) return;
  const now = new Date();
  await queueDeliveries(
    ids.map((webhookId) => ({
      _id: deliveryIdOf(webhookId, e.seq),
      tenant_id: e.tenant_id,
      webhook_id: webhookId,
      seq: e.seq,
      event_id: e.id,
      event: e.event,
      test: false,
      status: 'pending' as const,
      attempts: [],
      attempt_count: 0,
      next_attempt_at: now,
      delivered_at: null,
    })),
  );
  await markWebhooksPending(e.tenant_id, ids, now);
  wakeWebhooks(ids);
}

/** The durable outgoing-webhooks listener. */
export const outgoingWebhooksListener: DurableListener = {
  name: 'outgoing-webhooks',
  runs: 'durable',
  events: 'all',
  // A database hiccup must not lose a delivery: try the event again, holding the later ones.
  onFailure: 'retry',
  handle,
};
