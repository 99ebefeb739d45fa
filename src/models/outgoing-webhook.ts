/**
 * Outgoing webhooks: a tenant's URLs that receive its domain events, signed with the webhook's
 * own secret (kept encrypted, `secret_encrypted`; only its last characters are shown again).
 * `next_attempt_at` is the sender's marker (services/outgoing-webhook-sender.ts): set while the
 * webhook may have deliveries to send, to when it should look next; the sweep job wakes active
 * webhooks whose marker is due (catch-up after a restart, a retry whose timer was lost).
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** `'*'`: every event type, including those added later. */
export const ALL_EVENTS = '*';

/** A stored outgoing webhook. */
export interface OutgoingWebhook extends TenantDoc {
  name: string;
  description: string;
  /** http(s) URL; its host must pass the outbound guard at save time and at every send. */
  url: string;
  /** Event types it receives, or [ALL_EVENTS]. */
  events: string[];
  is_active: boolean;
  /** The signing secret under ENCRYPTION_KEY, bound to this webhook (`outgoing-webhook:<id>:secret`). */
  secret_encrypted: string;
  /** The secret's last 4 characters, to tell secrets apart. */
  secret_hint: string;
  /** Failed attempts in a row (any delivery); a success resets it. */
  consecutive_failures: number;
  /** Why it was disabled automatically; null when it was not. */
  disabled_reason: string | null;
  disabled_at: Date | null;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  /** When the sender should look at its deliveries next; null: nothing known pending. */
  next_attempt_at: Date | null;
}

const schema = baseSchema<OutgoingWebhook>(
  {
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    url: { type: String, required: true },
    events: { type: [String], required: true },
    is_active: { type: Boolean, required: true },
    secret_encrypted: { type: String, required: true },
    secret_hint: { type: String, required: true },
    consecutive_failures: { type: Number, default: 0 },
    disabled_reason: { type: String, default: null },
    disabled_at: { type: Date, default: null },
    last_success_at: { type: Date, default: null },
    last_failure_at: { type: Date, default: null },
    next_attempt_at: { type: Date, default: null },
  },
  'outgoing_webhooks',
);
// The list (oldest first) and the listener's "active webhooks of this tenant".
schema.index({ tenant_id: 1, created_at: 1, _id: 1 });
schema.index({ tenant_id: 1, is_active: 1 });
// The sweep: active webhooks whose sender marker is due, every tenant.
schema.index({ is_active: 1, next_attempt_at: 1 });

/** The outgoing_webhooks collection. */
export const OutgoingWebhookModel = model<OutgoingWebhook>('OutgoingWebhook', schema);

/** Tenant-scoped access to outgoing webhooks. */
export const outgoingWebhooks = tenantRepo(OutgoingWebhookModel, 'Outgoing webhook');

/** Sets the sender marker of these webhooks to `at` where none is set (deliveries were just queued). */
export async function markWebhooksPending(tenantId: string, ids: string[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await collectionOf(OutgoingWebhookModel).updateMany({ _id: { $in: ids }, tenant_id: tenantId, next_attempt_at: null }, { $set: { next_attempt_at: at } });
}

/** Sets (or, with null, clears) one webhook's sender marker. */
export async function setWebhookMarker(id: string, at: Date | null): Promise<void> {
  await collectionOf(OutgoingWebhookModel).updateOne({ _id: id }, { $set: { next_attempt_at: at } });
}

/** Records a webhook's attempt outcome: a success resets its failure count, a failure adds one; answers the webhook after. */
export async function recordWebhookOutcome(id: string, ok: boolean, at: Date): Promise<OutgoingWebhook | null> {
  const update = ok
    ? { $set: { consecutive_failures: 0, last_success_at: at, updated_at: at } }
    : { $inc: { consecutive_failures: 1 }, $set: { last_failure_at: at, updated_at: at } };
  return (await collectionOf(OutgoingWebhookModel).findOneAndUpdate({ _id: id }, update, { returnDocument: 'after' })) as unknown as OutgoingWebhook | null;
}

/** Disables a webhook that kept failing, with the reason; false when it was already inactive. */
export async function disableWebhook(id: string, reason: string, at: Date): Promise<boolean> {
  const res = await collectionOf(OutgoingWebhookModel).updateOne(
    { _id: id, is_active: true },
    { $set: { is_active: false, disabled_reason: reason, disabled_at: at, next_attempt_at: null, updated_at: at } },
  );
  return res.modifiedCount === 1;
}

/** Active webhooks whose sender marker is due at `now`, every tenant (the sweep). */
export function dueWebhooks(now: Date, limit: number): Promise<Pick<OutgoingWebhook, '_id' | 'tenant_id'>[]> {
  return OutgoingWebhookModel.find({ is_active: true, next_attempt_at: { $lte: now } }, { _id: 1, tenant_id: 1 }).sort({ next_attempt_at: 1 }).limit(limit).lean<Pick<OutgoingWebhook, '_id' | 'tenant_id'>[]>().exec();
}
