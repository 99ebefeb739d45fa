/**
 * Deliveries of events to outgoing webhooks, one per webhook and event: the `_id` derives from
 * (webhook id, event seq), so an event the listener handles twice (at-least-once replay) is
 * queued once. Every attempt is kept on the delivery (status code, latency, error, the start
 * of the response body). Test sends (POST .../test) are recorded here too, `test: true`, with
 * no seq, and never pending.
 */
import { model } from 'mongoose';
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf, insertDocs } from './driver.js';
import { tenantRepo } from './repo.js';

/** Where a delivery stands. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One attempt to deliver. */
export interface DeliveryAttempt {
  at: Date;
  /** The receiver's HTTP status; null when no answer came (timeout, refused, network). */
  status_code: number | null;
  latency_ms: number;
  /** Why it failed; null for a 2xx answer. */
  error: string | null;
  /** The start of the answer's body (see RESPONSE_BODY_MAX in the sender); null without one. */
  response_body: string | null;
}

/** A stored delivery. */
export interface OutgoingWebhookDelivery extends TenantDoc {
  webhook_id: string;
  /** The event's seq; null for a test send. */
  seq: number | null;
  /** The event's id in the log; null for a test send. */
  event_id: string | null;
  event: string;
  test: boolean;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  attempt_count: number;
  /** Not before this time is it tried (again); null once delivered or failed. */
  next_attempt_at: Date | null;
  delivered_at: Date | null;
}

const attemptSchema = {
  at: { type: Date, required: true },
  status_code: { type: Number, default: null },
  latency_ms: { type: Number, required: true },
  error: { type: String, default: null },
  response_body: { type: String, default: null },
};

const schema = baseSchema<OutgoingWebhookDelivery>(
  {
    tenant_id: { type: String, required: true },
    webhook_id: { type: String, required: true },
    seq: { type: Number, default: null },
    event_id: { type: String, default: null },
    event: { type: String, required: true },
    test: { type: Boolean, default: false },
    status: { type: String, required: true },
    attempts: { type: [attemptSchema], default: [] },
    attempt_count: { type: Number, default: 0 },
    next_attempt_at: { type: Date, default: null },
    delivered_at: { type: Date, default: null },
  },
  'outgoing_webhook_deliveries',
);
// The sender's "oldest pending deliveries of this webhook, by seq".
schema.index({ webhook_id: 1, status: 1, seq: 1 });
// The deliveries list, newest first (with or without a status filter).
schema.index({ tenant_id: 1, webhook_id: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, webhook_id: 1, status: 1, created_at: -1, _id: -1 });
// The sweep's pruning of settled deliveries past their retention.
schema.index({ status: 1, created_at: 1 });

/** The outgoing_webhook_deliveries collection. */
export const OutgoingWebhookDeliveryModel = model<OutgoingWebhookDelivery>('OutgoingWebhookDelivery', schema);

/** Tenant-scoped access to deliveries. */
export const outgoingWebhookDeliveries = tenantRepo(OutgoingWebhookDeliveryModel, 'Outgoing webhook delivery');

/** The delivery id of an event for a webhook. */
export const deliveryIdOf = (webhookId: string, seq: number): string => naturalId('outgoing-webhook-delivery', webhookId, String(seq));

/** Queues pending deliveries in one unordered insert; those already queued (a replayed event) are left as they are. */
export async function queueDeliveries(docs: Omit<OutgoingWebhookDelivery, 'created_at' | 'updated_at'>[]): Promise<void> {
  try {
    await insertDocs(OutgoingWebhookDeliveryModel, docs, false);
  } catch (err) {
    const writeErrors = (err as { writeErrors?: unknown[] }).writeErrors;
    if (!Array.isArray(writeErrors) || !writeErrors.every(isDuplicateKey)) throw err;
  }
}

/** The webhook's oldest pending deliveries, in seq order. */
export function pendingDeliveries(webhookId: string, limit: number): Promise<OutgoingWebhookDelivery[]> {
  return OutgoingWebhookDeliveryModel.find({ webhook_id: webhookId, status: 'pending' }).sort({ seq: 1 }).limit(limit).lean<OutgoingWebhookDelivery[]>().exec();
}

/** Deletes up to `limit` delivered or failed deliveries created before `before` (every tenant); answers how many. */
export async function pruneDeliveries(before: Date, limit: number): Promise<number> {
  const old = await OutgoingWebhookDeliveryModel.find({ status: { $in: ['delivered', 'failed'] }, created_at: { $lt: before } }, { _id: 1 }).limit(limit).lean<{ _id: string }[]>().exec();
  if (old.length === 0) return 0;
  const res = await collectionOf(OutgoingWebhookDeliveryModel).deleteMany({ _id: { $in: old.map((d) => d._id) } });
  return res.deletedCount;
}

/** Records an attempt on a pending delivery and moves it to `status` (pending again with `nextAttemptAt` for a retry). */
export async function recordAttempt(id: string, attempt: DeliveryAttempt, status: DeliveryStatus, nextAttemptAt: Date | null): Promise<void> {
  await collectionOf(OutgoingWebhookDeliveryModel).updateOne({ _id: id, status: 'pending' }, attemptUpdate(attempt, status, nextAttemptAt));
}

/** Records successful attempts of several deliveries in one command. */
export async function recordDelivered(items: { id: string; attempt: DeliveryAttempt }[]): Promise<void> {
  await collectionOf(OutgoingWebhookDeliveryModel).bulkWrite(
    items.map(({ id, attempt }) => ({ updateOne: { filter: { _id: id, status: 'pending' }, update: attemptUpdate(attempt, 'delivered', null) } })),
    { ordered: false },
  );
}

const attemptUpdate = (attempt: DeliveryAttempt, status: DeliveryStatus, nextAttemptAt: Date | null) =>
  ({
    $push: { attempts: attempt },
    $inc: { attempt_count: 1 },
    $set: { status, next_attempt_at: nextAttemptAt, delivered_at: status === 'delivered' ? attempt.at : null, updated_at: attempt.at },
  }) as never;
