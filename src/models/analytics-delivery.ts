/**
 * WhatsApp delivery roll-ups the analytics listener keeps from message events
 * (services/analytics-delivery.ts), so delivery reports read a few documents per bucket instead
 * of every message.
 *
 * `analytics_deliveries`: per outbound WhatsApp message (`_id` = the message's id), the status
 * last counted for it and the bucket and template it counts under, with the seq of the last
 * event applied.
 * `analytics_delivery_rollups`: per tenant, 15-minute UTC bucket of the messages' sent_at (as
 * models/analytics-rollup.ts), template (null: not a template) and failure code (null unless
 * failed), how many messages are in each status now. A move from one status to the next is -1
 * and +1, so each message counts once, in its current status. Idempotent by seq like the other
 * roll-ups.
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { bucketOf, upsertAfter } from './analytics-rollup.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf, findDocById } from './driver.js';

/** The statuses a delivery roll-up counts. */
export const DELIVERY_COUNTED = ['pending', 'sent', 'delivered', 'read', 'failed'] as const;

/** One counted status. */
export type CountedStatus = (typeof DELIVERY_COUNTED)[number];

/** What one message counts under. */
export interface DeliveryKey {
  /** Start of the 15-minute UTC bucket of the message's sent_at. */
  bucket: Date;
  template: string | null;
  failure_code: string | null;
}

/** One delivery roll-up document. */
export interface DeliveryRollup extends TenantDoc, DeliveryKey {
  counts: Partial<Record<CountedStatus, number>>;
  last_seq: number;
}

const rollupSchema = baseSchema<DeliveryRollup>(
  {
    tenant_id: { type: String, required: true },
    bucket: { type: Date, required: true },
    template: { type: String, default: null },
    failure_code: { type: String, default: null },
    counts: { type: Schema.Types.Mixed, default: {} },
    last_seq: { type: Number, required: true },
  },
  'analytics_delivery_rollups',
);
// Serves the WhatsApp delivery and template reports: a tenant's buckets in a range.
rollupSchema.index({ tenant_id: 1, bucket: 1 });
// Serves the day roll-ups (services/analytics-daily.ts): what changed since they were built.
rollupSchema.index({ tenant_id: 1, updated_at: 1 });

/** The analytics_delivery_rollups collection. */
export const DeliveryRollupModel = model<DeliveryRollup>('DeliveryRollup', rollupSchema);

/** Adds `inc` to the roll-up of (bucket, template, failure code) unless an event at or after `seq` was applied to it. */
export async function applyDeliveryRollup(tenantId: string, key: DeliveryKey, inc: Partial<Record<CountedStatus, number>>, seq: number): Promise<void> {
  const bucket = bucketOf(key.bucket);
  const _id = naturalId('analytics-delivery-rollup', tenantId, bucket.toISOString(), key.template ?? '', key.failure_code ?? '');
  const now = new Date();
  const $inc = Object.fromEntries(Object.entries(inc).map(([k, v]) => [`counts.${k}`, v]));
  await upsertAfter(DeliveryRollupModel, _id, seq, {
    $inc,
    $set: { last_seq: seq, updated_at: now },
    $setOnInsert: { tenant_id: tenantId, bucket, template: key.template, failure_code: key.failure_code, created_at: now },
  });
}

/** The buckets before `before` of a tenant's delivery roll-ups changed at or after `since`. */
export async function changedDeliveryBuckets(tenantId: string, since: Date, before: Date): Promise<Date[]> {
  // Only the change stamp bounds the scan: few documents change between folds, while a bound on
  // the bucket would let the planner walk the tenant's whole history by the bucket index.
  const docs = await collectionOf(DeliveryRollupModel).find({ tenant_id: tenantId, updated_at: { $gte: since } }, { projection: { bucket: 1 } }).toArray();
  return docs.map((d) => d.bucket as Date).filter((bucket) => bucket < before);
}

/** A tenant's delivery roll-ups with a bucket in [from, to), streamed. */
export const streamDeliveryRollups = (tenantId: string, from: Date, to: Date): AsyncIterable<DeliveryRollup> =>
  collectionOf(DeliveryRollupModel).find({ tenant_id: tenantId, bucket: { $gte: from, $lt: to } }) as unknown as AsyncIterable<DeliveryRollup>;

/** One group of a delivery report. */
export interface DeliveryGroup {
  start: Date | null;
  template: string | null;
  failure_code: string | null;
  counts: Record<CountedStatus, number>;
}

/** Delivery counts summed per tenant-zone bucket (when `unit`), template and failure code, by one indexed, bounded aggregation. */
export async function sumDeliveries(tenantId: string, from: Date, to: Date, group: { unit: 'hour' | 'day' | 'week' | 'month' | null; zone: string; templatesOnly: boolean }): Promise<DeliveryGroup[]> {
  const sums = Object.fromEntries(DELIVERY_COUNTED.map((c) => [c, { $sum: { $ifNull: [`$counts.${c}`, 0] } }]));
  const rows = await DeliveryRollupModel.aggregate<{ _id: Omit<DeliveryGroup, 'counts'> } & Record<CountedStatus, number>>([
    // Templates only is a filter on the groups, not in $match: see sumRollups in analytics-rollup.ts.
    { $match: { tenant_id: tenantId, bucket: { $gte: from, $lt: to } } },
    {
      $group: {
        _id: {
          start: group.unit ? { $dateTrunc: { date: '$bucket', unit: group.unit, timezone: group.zone, startOfWeek: 'monday' } } : null,
          template: '$template',
          failure_code: '$failure_code',
        },
        ...sums,
      },
    },
  ]).exec();
  return rows.filter((r) => !group.templatesOnly || r._id.template != null).map((r) => ({
    start: r._id.start ?? null,
    template: r._id.template ?? null,
    failure_code: r._id.failure_code ?? null,
    counts: Object.fromEntries(DELIVERY_COUNTED.map((c) => [c, r[c] ?? 0])) as Record<CountedStatus, number>,
  }));
}

/** What was last counted for one outbound WhatsApp message: `_id` is the message's id. */
export interface CountedDelivery extends TenantDoc, DeliveryKey {
  status: CountedStatus;
  last_seq: number;
}

const deliverySchema = baseSchema<CountedDelivery>(
  {
    tenant_id: { type: String, required: true },
    bucket: { type: Date, required: true },
    template: { type: String, default: null },
    failure_code: { type: String, default: null },
    status: { type: String, required: true },
    last_seq: { type: Number, required: true },
  },
  'analytics_deliveries',
);

/** The analytics_deliveries collection (read and written by `_id` only). */
export const CountedDeliveryModel = model<CountedDelivery>('CountedDelivery', deliverySchema);

/** What was counted for a message, or null. */
export const findCountedDelivery = async (tenantId: string, messageId: string): Promise<CountedDelivery | null> => {
  const doc = await findDocById<CountedDelivery>(CountedDeliveryModel as never, messageId);
  return doc && doc.tenant_id === tenantId ? doc : null;
};

/** Records what is counted for a message unless a later event recorded it already. */
export async function saveCountedDelivery(doc: Omit<CountedDelivery, 'created_at' | 'updated_at'>): Promise<void> {
  const now = new Date();
  const { _id, ...rest } = doc;
  await upsertAfter(CountedDeliveryModel, _id, doc.last_seq, { $set: { ...rest, updated_at: now }, $setOnInsert: { created_at: now } });
}
