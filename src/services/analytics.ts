/**
 * Tenant analytics reports. Every report reads a date range of whole days and a bucket (hour,
 * day, week from Monday, month) in the tenant's IANA zone (a day in Asia/Jakarta is 17:00Z to
 * 17:00Z), optional filters, and answers with the range and zone it used.
 *
 * Counts come from the roll-ups the analytics listener keeps (models/analytics-rollup.ts: 15-minute
 * UTC buckets, summed into tenant-zone buckets by one indexed aggregation). Whole days before
 * yesterday come from their day roll-ups (models/analytics-daily.ts) when the report filters or
 * groups by at most one dimension, so a year is a few hundred documents per series; response and
 * resolution times from its per-conversation view; WhatsApp delivery from its delivery roll-ups
 * (models/analytics-delivery.ts); SLA from SLA records by one indexed, bounded aggregation. CSAT is services/csat-analytics.ts.
 */
import { DateTime } from 'luxon';
import { conversationTimes, ROLLUP_COUNTERS, sumRollups, type RollupCounter, type RollupDimensions, type RollupFilter } from '../models/analytics-rollup.js';
import { DELIVERY_COUNTED, sumDeliveries, type DeliveryGroup } from '../models/analytics-delivery.js';
import { sumDayDeliveries, sumDays, type DailyKind } from '../models/analytics-daily.js';
import { foldDays } from './analytics-daily.js';
import { slaOutcomes } from '../models/sla-record.js';
import { findTenant } from '../models/tenant.js';
import type { Acting } from './agents.js';
import { countedMinutesBetween, type BusinessSchedule } from './business-time.js';
import { scheduleFor } from './sla-clock.js';
import { csatAnalytics } from './csat-analytics.js';

/** A report's bucket. */
export type Bucket = 'hour' | 'day' | 'week' | 'month';

/** Longest range per bucket, in days (an hourly series longer than a month is not a chart). */
export const MAX_DAYS: Record<Bucket, number> = { hour: 31, day: 366, week: 366, month: 366 };

/** Ask for a report. */
export interface AnalyticsQuery extends Acting {
  /** First day, `YYYY-MM-DD` in the tenant's zone. */
  from: string;
  /** Last day (included). */
  to: string;
  /** How the series is bucketed, in the tenant's zone. */
  bucket: Bucket;
  /** Only this channel. */
  channel?: string | undefined;
  /** Only this division. */
  divisionId?: string | undefined;
  /** Only conversations assigned to this agent. */
  agentId?: string | undefined;
  /** Only this channel account (integration account). */
  accountId?: string | undefined;
  /** Response and resolution times count only working hours (overview, agents). */
  workingHours?: boolean | undefined;
}

/** The range a report used. */
export interface ReportRange {
  timezone: string;
  from: string;
  to: string;
  bucket: Bucket;
  /** The range as instants: `from` 00:00 local to the day after `to`, 00:00 local. */
  start: string;
  end: string;
}

interface Resolved {
  range: ReportRange;
  start: Date;
  end: Date;
  zone: string;
  filter: RollupFilter;
}

async function resolve(q: AnalyticsQuery): Promise<Resolved> {
  const zone = (await findTenant(q.tenantId))?.timezone ?? 'UTC';
  const start = DateTime.fromISO(q.from, { zone }).startOf('day');
  const end = DateTime.fromISO(q.to, { zone }).startOf('day').plus({ days: 1 });
  const filter: RollupFilter = {
    ...(q.channel ? { channel: q.channel } : {}),
    ...(q.divisionId ? { division_id: q.divisionId } : {}),
    ...(q.agentId ? { agent_id: q.agentId } : {}),
    ...(q.accountId ? { account_id: q.accountId } : {}),
  };
  return {
    range: { timezone: zone, from: q.from, to: q.to, bucket: q.bucket, start: start.toUTC().toISO() as string, end: end.toUTC().toISO() as string },
    start: start.toJSDate(),
    end: end.toJSDate(),
    zone,
    filter,
  };
}

type Row = Awaited<ReturnType<typeof sumRollups>>[number];

/** The day series that answers a filter and grouping alone, or null (two dimensions at once). */
function seriesFor(filter: RollupFilter, by: keyof RollupDimensions | null): { kind: DailyKind; key?: string | null } | null {
  const named = Object.keys(filter) as (keyof RollupDimensions)[];
  if (named.length === 0) return { kind: by ?? 'all' };
  const [only] = named;
  if (named.length === 1 && only && (by === null || by === only)) return { kind: only, key: filter[only] ?? null };
  return null;
}

type DayUnit = Exclude<Bucket, 'hour'>;

/**
 * The range's rows in two parts, read side by side: its whole built days through `days(to)`, and
 * the live rest (yesterday and today) through `live(from)`. Either part may be empty.
 */
async function daysThenLive<T>(q: AnalyticsQuery, r: Resolved, days: (to: Date) => Promise<T[]>, live: (from: Date) => Promise<T[]>): Promise<T[]> {
  const boundary = await foldDays(q.tenantId, r.zone);
  const split = new Date(Math.min(Math.max(boundary.getTime(), r.start.getTime()), r.end.getTime()));
  const parts = await Promise.all([split > r.start ? days(split) : [], split < r.end ? live(split) : []]);
  return parts.flat();
}

/** Rows of the same bucket and key, from days and from 15-minute roll-ups, added up. */
function mergeRows(rows: Row[]): Row[] {
  const merged = new Map<string, Row>();
  for (const row of rows) {
    const id = `${row.start?.getTime() ?? ''}|${row.key ?? ''}`;
    const seen = merged.get(id);
    if (seen) add(seen.counts, row.counts);
    else merged.set(id, { ...row, counts: { ...row.counts } });
  }
  return [...merged.values()];
}

/** Counters per tenant-zone bucket and `by` dimension for the range. */
async function rollupRows(q: AnalyticsQuery, r: Resolved, group: { unit: Bucket | null; by: keyof RollupDimensions | null }): Promise<Row[]> {
  const series = seriesFor(r.filter, group.by);
  const live = (from: Date) => sumRollups(q.tenantId, from, r.end, r.filter, { ...group, zone: r.zone });
  if (group.unit === 'hour' || !series) return live(r.start);
  return mergeRows(await daysThenLive(q, r, (to) => sumDays(q.tenantId, r.zone, r.start, to, series, { unit: group.unit as DayUnit, byKey: group.by !== null }), live));
}

/** WhatsApp delivery groups for the range, per tenant-zone bucket, template and failure code. */
async function deliveryGroups(q: AnalyticsQuery, r: Resolved, group: { unit: Bucket | null; templatesOnly: boolean }): Promise<DeliveryGroup[]> {
  const live = (from: Date) => sumDeliveries(q.tenantId, from, r.end, { ...group, zone: r.zone });
  if (group.unit === 'hour') return live(r.start);
  const merged = new Map<string, DeliveryGroup>();
  for (const g of await daysThenLive(q, r, (to) => sumDayDeliveries(q.tenantId, r.zone, r.start, to, { unit: group.unit as DayUnit, templatesOnly: group.templatesOnly }), live)) {
    const id = `${g.start?.getTime() ?? ''}|${g.template ?? ''}|${g.failure_code ?? ''}`;
    const seen = merged.get(id);
    if (seen) for (const k of DELIVERY_COUNTED) seen.counts[k] += g.counts[k];
    else merged.set(id, { ...g, counts: { ...g.counts } });
  }
  return [...merged.values()];
}

/** Every bucket start of the range, in order (the series is complete: empty buckets are zeros). */
function bucketStarts(r: Resolved, unit: Bucket): Date[] {
  const out: Date[] = [];
  const end = DateTime.fromJSDate(r.end, { zone: r.zone });
  for (let t = DateTime.fromJSDate(r.start, { zone: r.zone }).startOf(unit); t < end; t = t.plus({ [`${unit}s`]: 1 })) out.push(t.toJSDate());
  return out;
}

/** A local time as RFC 3339 with the zone's offset (a bucket's label). */
const localIso = (d: Date, zone: string) => DateTime.fromJSDate(d, { zone }).toISO({ suppressMilliseconds: true }) as string;

type Counts = Record<RollupCounter, number>;
const zero = (): Counts => Object.fromEntries(ROLLUP_COUNTERS.map((c) => [c, 0])) as Counts;
const add = (a: Counts, b: Counts) => {
  for (const c of ROLLUP_COUNTERS) a[c] += b[c];
  return a;
};

/** Nearest-rank percentile of sorted values (p90 of 10 values is the 9th); null when empty. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
}

type Times = Awaited<ReturnType<typeof conversationTimes>>;
type Timed = Times[number];

/**
 * A function measuring opening to a later instant: calendar time, or with `workingHours` only the
 * open minutes of the conversation's division's schedule (services/business-time.ts, as SLA
 * clocks count them; one schedule read per division).
 */
async function durationOf(q: AnalyticsQuery, times: Times): Promise<(t: Timed, at: Date) => number> {
  if (!q.workingHours) return (t, at) => at.getTime() - t.opened_at.getTime();
  const schedules = new Map<string | null, BusinessSchedule>();
  for (const division of new Set(times.map((t) => t.division_id))) schedules.set(division, await scheduleFor(q.tenantId, division));
  return (t, at) => countedMinutesBetween(t.opened_at, at, schedules.get(t.division_id) ?? null) * 60_000;
}

/** Median and p90 in seconds. */
const spread = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const sec = (v: number | null) => (v === null ? null : Math.round(v / 1000));
  return { count: s.length, median_seconds: sec(percentile(s, 0.5)), p90_seconds: sec(percentile(s, 0.9)) };
};

const conversationCounts = (c: Counts) => ({ opened: c.opened, resolved: c.resolved, closed: c.closed, expired: c.expired });
const messageCounts = (c: Counts) => ({ in: c.messages_in, out: c.messages_out });

/** GET /api/analytics/overview: totals, response and resolution times, SLA and CSAT for the range. */
export async function analyticsOverview(q: AnalyticsQuery) {
  const r = await resolve(q);
  const [rows, times, sla, csat] = await Promise.all([
    rollupRows(q, r, { unit: null, by: null }),
    conversationTimes(q.tenantId, r.start, r.end, r.filter),
    slaOutcomes(q.tenantId, r.start, r.end, q.divisionId ? { division_id: q.divisionId } : {}),
    csatAnalytics({ ...q, agentId: q.agentId, divisionId: q.divisionId }),
  ]);
  const total = rows.reduce((acc, row) => add(acc, row.counts), zero());
  const measure = await durationOf(q, times);
  const firstResponse = times.flatMap((t) => (t.first_response_at ? [measure(t, t.first_response_at)] : []));
  const resolution = times.flatMap((t) => (t.resolved_at ? [measure(t, t.resolved_at)] : []));
  return {
    ...r.range,
    working_hours: q.workingHours ?? false,
    conversations: conversationCounts(total),
    messages: messageCounts(total),
    first_response: spread(firstResponse),
    resolution: spread(resolution),
    sla,
    csat: { average_rating: csat.average_rating, responses: csat.responses, response_rate: csat.response_rate },
  };
}

/** GET /api/analytics/trends: conversation and message counts per bucket. */
export async function analyticsTrends(q: AnalyticsQuery) {
  const r = await resolve(q);
  const rows = await rollupRows(q, r, { unit: q.bucket, by: null });
  const byStart = new Map(rows.map((row) => [row.start?.getTime(), row.counts]));
  return {
    ...r.range,
    series: bucketStarts(r, q.bucket).map((start) => {
      const c = byStart.get(start.getTime()) ?? zero();
      return { start: localIso(start, r.zone), conversations: conversationCounts(c), messages: messageCounts(c) };
    }),
  };
}

/** Counts per value of one dimension, most active first. */
async function byDimension(q: AnalyticsQuery, r: Resolved, by: keyof RollupDimensions) {
  const rows = await rollupRows(q, r, { unit: null, by });
  return rows.sort((a, b) => b.counts.messages_in + b.counts.messages_out - (a.counts.messages_in + a.counts.messages_out) || String(a.key).localeCompare(String(b.key)));
}

/** GET /api/analytics/agents: per agent (the assignee), conversations assigned and handled, average handling time, first response. */
export async function analyticsAgents(q: AnalyticsQuery) {
  const r = await resolve(q);
  const [rows, times] = await Promise.all([byDimension(q, r, 'agent_id'), conversationTimes(q.tenantId, r.start, r.end, r.filter)]);
  const measure = await durationOf(q, times);
  return {
    ...r.range,
    working_hours: q.workingHours ?? false,
    agents: rows
      .filter((row) => row.key !== null)
      .map((row) => {
        const own = times.filter((t) => t.agent_id === row.key && t.first_response_at);
        return {
          agent_id: row.key as string,
          assigned: row.counts.assigned,
          handled: row.counts.handled,
          average_handling_seconds: row.counts.handled ? Math.round(row.counts.handle_ms / row.counts.handled / 1000) : null,
          messages_out: row.counts.messages_out,
          first_response: spread(own.map((t) => measure(t, t.first_response_at as Date))),
        };
      }),
  };
}

/** GET /api/analytics/channels: per channel, conversations and messages. */
export async function analyticsChannels(q: AnalyticsQuery) {
  const r = await resolve(q);
  const rows = await byDimension(q, r, 'channel');
  return { ...r.range, channels: rows.map((row) => ({ channel: row.key as string, conversations: conversationCounts(row.counts), messages: messageCounts(row.counts) })) };
}

/** GET /api/analytics/csat: the CSAT group's numbers (services/csat-analytics.ts) with the range used and a series per bucket. */
export async function analyticsCsat(q: AnalyticsQuery) {
  const r = await resolve(q);
  const { series = [], ...csat } = await csatAnalytics({ ...q, agentId: q.agentId, divisionId: q.divisionId, bucket: q.bucket });
  const byStart = new Map(series.map((b) => [b.start.getTime(), b]));
  const empty = { surveys: 0, sent: 0, responses: 0, response_rate: null, average_rating: null };
  return {
    ...csat,
    ...r.range,
    series: bucketStarts(r, q.bucket).map((start) => {
      const { start: _s, ...b } = byStart.get(start.getTime()) ?? { start, ...empty };
      return { start: localIso(start, r.zone), ...b };
    }),
  };
}

// A message that reached `read` was delivered and sent too: statuses count cumulatively.
const REACHED = { sent: ['sent', 'delivered', 'read'], delivered: ['delivered', 'read'], read: ['read'] } as const;

interface Delivery {
  total: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  pending: number;
}

function deliveryOf(groups: DeliveryGroup[]): Delivery {
  const now = { pending: 0, sent: 0, delivered: 0, read: 0, failed: 0 };
  for (const g of groups) for (const k of DELIVERY_COUNTED) now[k] += g.counts[k];
  const reached = (s: keyof typeof REACHED) => REACHED[s].reduce((n, k) => n + now[k], 0);
  return { total: DELIVERY_COUNTED.reduce((n, k) => n + now[k], 0), sent: reached('sent'), delivered: reached('delivered'), read: reached('read'), failed: now.failed, pending: now.pending };
}

const rate = (n: number, of: number) => (of ? Math.round((n / of) * 10_000) / 10_000 : null);
const ratesOf = (d: Delivery) => ({ delivery_rate: rate(d.delivered, d.total), read_rate: rate(d.read, d.total), failure_rate: rate(d.failed, d.total) });

/** GET /api/analytics/whatsapp/messages: outbound WhatsApp delivery per bucket, with failure reasons (from the delivery roll-ups). */
export async function analyticsWhatsappMessages(q: AnalyticsQuery) {
  const r = await resolve(q);
  const groups = await deliveryGroups(q, r, { unit: q.bucket, templatesOnly: false });
  const total = deliveryOf(groups);
  const failures = new Map<string, number>();
  for (const g of groups) if (g.failure_code !== null && g.counts.failed) failures.set(g.failure_code, (failures.get(g.failure_code) ?? 0) + g.counts.failed);
  return {
    ...r.range,
    ...total,
    ...ratesOf(total),
    failure_reasons: [...failures].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
    series: bucketStarts(r, q.bucket).map((start) => ({ start: localIso(start, r.zone), ...deliveryOf(groups.filter((g) => g.start?.getTime() === start.getTime())) })),
  };
}

/** GET /api/analytics/whatsapp/templates: per template name, sends and delivery/read rates (from the delivery roll-ups). */
export async function analyticsWhatsappTemplates(q: AnalyticsQuery) {
  const r = await resolve(q);
  const groups = await deliveryGroups(q, r, { unit: null, templatesOnly: true });
  const names = [...new Set(groups.map((g) => g.template as string))];
  return {
    ...r.range,
    templates: names
      .map((name) => {
        const d = deliveryOf(groups.filter((g) => g.template === name));
        return { name, sends: d.total, ...d, ...ratesOf(d) };
      })
      .sort((a, b) => b.sends - a.sends || a.name.localeCompare(b.name)),
  };
}

/**
 * GET /api/analytics/whatsapp/conversations: WhatsApp conversations opened, resolved, closed and
 * expired per bucket. Meta's pricing categories are not reported: the status webhook's
 * `pricing` object is not stored (channels/whatsapp/parse.ts reads status, errors, recipient).
 */
export async function analyticsWhatsappConversations(q: AnalyticsQuery) {
  const r = await resolve({ ...q, channel: 'whatsapp' });
  const rows = await rollupRows(q, r, { unit: q.bucket, by: null });
  const byStart = new Map(rows.map((row) => [row.start?.getTime(), row.counts]));
  const total = rows.reduce((acc, row) => add(acc, row.counts), zero());
  return {
    ...r.range,
    conversations: conversationCounts(total),
    pricing: null,
    series: bucketStarts(r, q.bucket).map((start) => ({ start: localIso(start, r.zone), conversations: conversationCounts(byStart.get(start.getTime()) ?? zero()) })),
  };
}
