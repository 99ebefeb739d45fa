/**
 * Keeps the day roll-ups (models/analytics-daily.ts) in step with the 15-minute roll-ups, on
 * read: before a report reads whole days, the days whose 15-minute documents changed since the
 * last fold are summed again, and days that stopped being live are built (a tenant's first
 * report, or its first after a change of zone, builds every day). Yesterday and today are never
 * built: reports read them from the 15-minute documents, where current writes land, so a report
 * is as fresh as the roll-ups themselves.
 */
import { DateTime } from 'luxon';
import { InFlight } from '../in-flight.js';
import { changedDeliveryBuckets, streamDeliveryRollups, type CountedStatus } from '../models/analytics-delivery.js';
import { findDailyState, removeDays, saveDailyState, saveDays, type DailyDelivery, type DailyKind, type DailyRollup } from '../models/analytics-daily.js';
import { changedRollupBuckets, streamRollups, type RollupCounter } from '../models/analytics-rollup.js';

// A change stamped shortly before a fold may commit after it: each fold looks this far back again.
const MARGIN_MS = 60_000;
const KINDS = ['channel', 'division_id', 'agent_id', 'account_id'] as const;

/** The local midnight from which reports read the 15-minute roll-ups: yesterday's. */
export const liveFrom = (zone: string, now = new Date()): Date => DateTime.fromJSDate(now, { zone }).startOf('day').minus({ days: 1 }).toJSDate();

/** Local midnights of 15-minute buckets (every zone's days start on a bucket boundary). */
function dayStarts(zone: string) {
  const cache = new Map<number, Date>();
  return (bucket: Date): Date => {
    let day = cache.get(bucket.getTime());
    if (!day) cache.set(bucket.getTime(), (day = DateTime.fromJSDate(bucket, { zone }).startOf('day').toJSDate()));
    return day;
  };
}

const addInto = <K extends string>(into: Partial<Record<K, number>>, counts: Partial<Record<K, number>>) => {
  for (const [k, v] of Object.entries(counts) as [K, number][]) into[k] = (into[k] ?? 0) + v;
};

/** Sums the 15-minute documents of [from, to) into whole days and writes them. */
async function buildDays(tenantId: string, zone: string, from: Date, to: Date): Promise<void> {
  const dayOf = dayStarts(zone);
  const rollups = new Map<string, Omit<DailyRollup, '_id' | 'created_at' | 'updated_at'>>();
  const deliveries = new Map<string, Omit<DailyDelivery, '_id' | 'created_at' | 'updated_at'>>();
  const series = (day: Date, kind: DailyKind, key: string | null) => {
    const id = `${day.getTime()}|${kind}|${key ?? ''}`;
    let doc = rollups.get(id);
    if (!doc) rollups.set(id, (doc = { tenant_id: tenantId, zone, day, kind, key, counts: {} }));
    return doc;
  };
  for await (const r of streamRollups(tenantId, from, to)) {
    const day = dayOf(r.bucket);
    addInto<RollupCounter>(series(day, 'all', null).counts, r.counts);
    for (const kind of KINDS) addInto<RollupCounter>(series(day, kind, r[kind]).counts, r.counts);
  }
  for await (const d of streamDeliveryRollups(tenantId, from, to)) {
    const day = dayOf(d.bucket);
    const id = `${day.getTime()}|${d.template ?? ''}|${d.failure_code ?? ''}`;
    let doc = deliveries.get(id);
    if (!doc) deliveries.set(id, (doc = { tenant_id: tenantId, zone, day, template: d.template, failure_code: d.failure_code, counts: {} }));
    addInto<CountedStatus>(doc.counts, d.counts);
  }
  await saveDays([...rollups.values()], [...deliveries.values()]);
}

async function fold(tenantId: string, zone: string, boundary: Date): Promise<void> {
  const state = await findDailyState(tenantId);
  const startedAt = new Date();
  const windows: [Date, Date][] = [];
  if (!state || state.zone !== zone) {
    if (state) await removeDays(tenantId);
    windows.push([new Date(0), boundary]);
  } else {
    if (boundary > state.built_before) windows.push([state.built_before, boundary]);
    const since = new Date(state.folded_until.getTime() - MARGIN_MS);
    const before = state.built_before < boundary ? state.built_before : boundary;
    const dayOf = dayStarts(zone);
    const [a, b] = await Promise.all([changedRollupBuckets(tenantId, since, before), changedDeliveryBuckets(tenantId, since, before)]);
    for (const day of [...new Set([...a, ...b].map((bucket) => dayOf(bucket).getTime()))].sort((x, y) => x - y)) {
      windows.push([new Date(day), DateTime.fromMillis(day, { zone }).plus({ days: 1 }).toJSDate()]);
    }
  }
  for (const [from, to] of windows) await buildDays(tenantId, zone, from, to);
  await saveDailyState(tenantId, { zone, built_before: boundary, folded_until: startedAt });
}

const folding = new InFlight<void>();

/**
 * Brings a tenant's days up to date for its zone and answers the local midnight before which
 * reports read them (later instants: the 15-minute roll-ups). Reports of a tenant asking at the
 * same time share one fold.
 */
export async function foldDays(tenantId: string, zone: string): Promise<Date> {
  const boundary = liveFrom(zone);
  await folding.run(`${tenantId}|${zone}|${boundary.getTime()}`, () => fold(tenantId, zone, boundary));
  return boundary;
}
