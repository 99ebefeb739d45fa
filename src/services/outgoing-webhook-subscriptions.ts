/**
 * Which of a tenant's active outgoing webhooks receive an event type, remembered per process
 * (services/shared-cache.ts): the listener asks for every event of every tenant, and most
 * tenants have no webhook, so the answer must not cost a query each time. Every change of a
 * webhook (create, update, delete, auto-disable) forgets the tenant's entry in every process.
 */
import { ALL_EVENTS, outgoingWebhooks, type OutgoingWebhook } from '../models/outgoing-webhook.js';
import { sharedCache } from './shared-cache.js';

/** What the listener needs of an active webhook. */
export type Subscription = Pick<OutgoingWebhook, '_id' | 'events'>;

// Most webhooks a tenant may keep (services/outgoing-webhooks.ts enforces it on create).
export const MAX_OUTGOING_WEBHOOKS = 20;

const subscriptions = sharedCache<Subscription[]>('outgoing-webhooks', { ttlMs: 30_000 });

/** The tenant's active webhooks, remembered. */
function activeOf(tenantId: string): Promise<Subscription[]> {
  return subscriptions.get(tenantId, async () =>
    (await outgoingWebhooks.find({ tenant_id: tenantId, is_active: true }, { created_at: 1, _id: 1 }, MAX_OUTGOING_WEBHOOKS * 2)).map((w) => ({ _id: w._id, events: [...w.events] })),
  );
}

/** The ids of the tenant's active webhooks. */
export async function activeWebhookIds(tenantId: string): Promise<string[]> {
  return (await activeOf(tenantId)).map((w) => w._id);
}

/** The ids of the tenant's active webhooks that receive `event`. */
export async function subscribersOf(tenantId: string, event: string): Promise<string[]> {
  return (await activeOf(tenantId)).filter((w) => w.events.includes(ALL_EVENTS) || w.events.includes(event)).map((w) => w._id);
}

/** Forgets the tenant's webhooks here and in every other process (one was changed). */
export const forgetSubscriptions = (tenantId: string): Promise<void> => subscriptions.forget(tenantId);
