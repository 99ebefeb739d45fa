/**
 * Day roll-ups: the 15-minute roll-ups (analytics-rollup.ts, analytics-delivery.ts) summed per
 * day of the tenant's zone, so a report over a year reads a few hundred documents per series
 * instead of every bucket of every dimension combination. services/analytics-daily.ts builds
 * them from the 15-minute documents, which stay the source of truth: a day's documents hold
 * absolute sums written with `$set`, so building a day again is idempotent.
 *
 * `analytics_daily_rollups`: per tenant, zone, local day and one dimension: `kind` 'all' (key
 * null) or one of channel / division_id / agent_id / account_id, with its value as `key` (a
 * report filters or groups by at most one dimension on this path).
 * `analytics_daily_deliveries`: per tenant, zone, local day, template and failure code.
 * `analytics_daily_state`: per tenant (`_id`), the zone the days were built in and the instant
 * up to which changes of the 15-minute documents were folded in.
 */
import { model, Schema } from 'mongoose';
import type { AnyBulkWriteOperation } from 'mongodb';
import { naturalId } from '../ids.js';
import { ROLLUP_COUNTERS, type RollupCounter, type RollupDimensions } from './analytics-rollup.js';
import { DELIVERY_COUNTED, type CountedStatus, type DeliveryGroup } from './analytics-delivery.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf, findDocById } from './driver.js';

/** The dimension a day roll-up is summed by. */
export type DailyKind = 'all' | keyof RollupDimensions;

/** One day roll-up. */
export interface DailyRollup extends TenantDoc {
  zone: string;
  /** Local midnight starting the day. */
  day: Date;
  kind: DailyKind;
  key: string | null;
  counts: Partial<Record<RollupCounter, number>>;
}

const dailyRollupSchema = baseSchema<DailyRollup>(
  {
    tenant_id: { type: String, required: true },
    zone: { type: String, required: true },
    day: { type: Date, required: true },
    kind: { type: String, required: true },
    key: { type: String, default: null },
    counts: { type: Schema.Types.Mixed, default: {} },
  },
  'analytics_daily_rollups',
);
// Serves every report on this path: one series (kind, and key when filtered) of a tenant in a
// range of days. Every field the reads match on is in the index: the embedded engine drops the
// bounds of a match naming a field outside it (models/analytics-rollup.ts, sumRollups).
dailyRollupSchema.index({ tenant_id: 1, zone: 1, kind: 1, key: 1, day: 1 });

/** The analytics_daily_rollups collection. */
export const DailyRollupModel = model<DailyRollup>('DailyRollup', dailyRollupSchema);

/** One day of WhatsApp deliveries. */
export interface DailyDelivery extends TenantDoc {
  zone: string;
  day: Date;
  template: string | null;
  failure_code: string | null;
  counts: Partial<Record<CountedStatus, number>>;
}

const dailyDeliverySchema = baseSchema<DailyDelivery>(
  {
    tenant_id: { type: String, required: true },
    zone: { type: String, required: true },
    day: { type: Date, required: true },
    template: { type: String, default: null },
    failure_code: { type: String, default: null },
    counts: { type: Schema.Types.Mixed, default: {} },
  },
  'analytics_daily_deliveries',
);
dailyDeliverySchema.index({ tenant_id: 1, zone: 1, day: 1 });

/** The analytics_daily_deliveries collection. */
export const DailyDeliveryModel = model<DailyDelivery>('DailyDelivery', dailyDeliverySchema);

/** How far a tenant's days are built: `_id` is the tenant's id. */
export interface DailyState extends TenantDoc {
  zone: string;
  /** Every day before this local midnight is built. */
  built_before: Date;
  /** Changes of the 15-minute documents stamped before this instant are in the days. */
  folded_until: Date;
}

const stateSchema = baseSchema<DailyState>(
  {
    tenant_id: { type: String, required: true },
    zone: { type: String, required: true },
    built_before: { type: Date, required: true },
    folded_until: { type: Date, required: true },
  },
  'analytics_daily_state',
);

/** The analytics_daily_state collection (by `_id` only). */
export const DailyStateModel = model<DailyState>('DailyState', stateSchema);

/** A tenant's state, or null before its first fold. */
export const findDailyState = (tenantId: string) => findDocById<DailyState>(DailyStateModel as never, tenantId);

/** Records a fold. */
export async function saveDailyState(tenantId: string, state: Pick<DailyState, 'zone' | 'built_before' | 'folded_until'>): Promise<void> {
  const now = new Date();
  await collectionOf(DailyStateModel).updateOne(
    { _id: tenantId },
    { $set: { tenant_id: tenantId, ...state, updated_at: now }, $setOnInsert: { created_at: now } },
    { upsert: true },
  );
}

/** Removes a tenant's days (their zone is no longer the tenant's). */
export async function removeDays(tenantId: string): Promise<void> {
  await Promise.all([collectionOf(DailyRollupModel).deleteMany({ tenant_id: tenantId }), collectionOf(DailyDeliveryModel).deleteMany({ tenant_id: tenantId })]);
}

const upserts = <T>(docs: { _id: string; tenant_id: string; counts: T; [k: string]: unknown }[]): AnyBulkWriteOperation<{ _id: string }>[] => {
  const now = new Date();
  return docs.map(({ _id, counts, ...rest }) => ({
    updateOne: { filter: { _id }, update: { $set: { ...rest, counts, updated_at: now }, $setOnInsert: { created_at: now } }, upsert: true },
  }));
};

/** Writes whole days (absolute sums). */
export async function saveDays(rollups: Omit<DailyRollup, '_id' | 'created_at' | 'updated_at'>[], deliveries: Omit<DailyDelivery, '_id' | 'created_at' | 'updated_at'>[]): Promise<void> {
  const dayId = (d: { tenant_id: string; zone: string; day: Date }) => [d.tenant_id, d.zone, d.day.toISOString()];
  const r = rollups.map((d) => ({ ...d, _id: naturalId('analytics-daily-rollup', ...dayId(d), d.kind, d.key ?? '') }));
  const w = deliveries.map((d) => ({ ...d, _id: naturalId('analytics-daily-delivery', ...dayId(d), d.template ?? '', d.failure_code ?? '') }));
  for (let i = 0; i < r.length; i += 1000) await collectionOf(DailyRollupModel).bulkWrite(upserts(r.slice(i, i + 1000)), { ordered: false });
  for (let i = 0; i < w.length; i += 1000) await collectionOf(DailyDeliveryModel).bulkWrite(upserts(w.slice(i, i + 1000)), { ordered: false });
}

/** Counters of one day series summed per tenant-zone bucket (`unit`) and, with `byKey`, per key. */
export async function sumDays(
  tenantId: string,
  zone: string,
  from: Date,
  to: Date,
  series: { kind: DailyKind; key?: string | null },
  group: { unit: 'day' | 'week' | 'month' | null; byKey: boolean },
): Promise<{ start: Date | null; key: string | null; counts: Record<RollupCounter, number> }[]> {
  const sums = Object.fromEntries(ROLLUP_COUNTERS.map((c) => [c, { $sum: { $ifNull: [`$counts.${c}`, 0] } }]));
  const rows = await DailyRollupModel.aggregate<{ _id: { start: Date | null; key: string | null } } & Record<RollupCounter, number>>([
    { $match: { tenant_id: tenantId, zone, kind: series.kind, ...(series.key !== undefined ? { key: series.key } : {}), day: { $gte: from, $lt: to } } },
    { $group: { _id: { start: group.unit ? { $dateTrunc: { date: '$day', unit: group.unit, timezone: zone, startOfWeek: 'monday' } } : null, key: group.byKey ? '$key' : null }, ...sums } },
  ]).exec();
  return rows.map((r) => ({ start: r._id.start ?? null, key: r._id.key ?? null, counts: Object.fromEntries(ROLLUP_COUNTERS.map((c) => [c, r[c] ?? 0])) as Record<RollupCounter, number> }));
}

/** Delivery counts of whole days summed per tenant-zone bucket, template and failure code. */
export async function sumDayDeliveries(tenantId: string, zone: string, from: Date, to: Date, group: { unit: 'day' | 'week' | 'month' | null; templatesOnly: boolean }): Promise<DeliveryGroup[]> {
  const sums = Object.fromEntries(DELIVERY_COUNTED.map((c) => [c, { $sum: { $ifNull: [`$counts.${c}`, 0] } }]));
  const rows = await DailyDeliveryModel.aggregate<{ _id: Omit<DeliveryGroup, 'counts'> } & Record<CountedStatus, number>>([
    { $match: { tenant_id: tenantId, zone, day: { $gte: from, $lt: to } } },
    {
      $group: {
        _id: { start: group.unit ? { $dateTrunc: { date: '$day', unit: group.unit, timezone: zone, startOfWeek: 'monday' } } : null, template: '$template', failure_code: '$failure_code' },
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
