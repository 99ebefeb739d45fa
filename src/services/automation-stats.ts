/**
 * Automation stats: runs, matches, actions and failures per rule and overall, over whole days in
 * the tenant's IANA zone (a day in Asia/Jakarta is 17:00Z to 17:00Z), with hourly or daily series
 * bucketed there; alert stats from each rule's thresholds; the queue's stats and the worker's
 * metrics. Every figure comes from one indexed, bounded aggregation or count
 * (models/automation-reports.ts) and is summed here.
 */
import { DateTime } from 'luxon';
import { findTenant } from '../models/tenant.js';
import {
  countEventsByState,
  groupEventTypes,
  groupProcessed,
  groupProcessing,
  groupRunFigures,
  lastRunTimes,
  oldestPendingEvent,
  ruleNames,
  rulesWithAlerts,
  type RunFigures,
  type RunFiguresGroup,
} from '../models/automation-reports.js';
import type { Acting } from './agents.js';
import { automationRuleOrNotFound } from './automation-events.js';

/** Longest range per bucket, in days. */
export const STATS_MAX_DAYS = { hour: 31, day: 366 } as const;

/** Days when the caller names none: the last week, today included. */
const DEFAULT_DAYS = 7;

/** A range of whole days in the tenant's zone. */
export interface StatsRange extends Acting {
  /** First day, `YYYY-MM-DD` (default: DEFAULT_DAYS - 1 days before `to`). */
  from?: string | undefined;
  /** Last day, included (default: today in the tenant's zone). */
  to?: string | undefined;
}

/** The range a report used. */
export interface ResolvedRange {
  timezone: string;
  from: string;
  to: string;
  start: Date;
  end: Date;
}

/** The days as instants in the tenant's zone: `from` 00:00 local to the day after `to`, 00:00 local. */
export async function resolveStatsRange(q: StatsRange, now = new Date()): Promise<ResolvedRange> {
  const zone = (await findTenant(q.tenantId))?.timezone ?? 'UTC';
  const to = q.to ? DateTime.fromISO(q.to, { zone }) : DateTime.fromJSDate(now, { zone });
  const from = q.from ? DateTime.fromISO(q.from, { zone }) : to.minus({ days: DEFAULT_DAYS - 1 });
  const start = from.startOf('day');
  const end = to.startOf('day').plus({ days: 1 });
  return { timezone: zone, from: start.toISODate() as string, to: to.toISODate() as string, start: start.toJSDate(), end: end.toJSDate() };
}

/** Figures as reported: counts, rates and the mean duration. */
export interface StatsFigures {
  runs: number;
  matched: number;
  failed: number;
  actions: number;
  action_failures: number;
  dry_runs: number;
  /** matched / runs, 0..1 (null without runs). */
  match_rate: number | null;
  /** failed / runs, 0..1 (null without runs). */
  failure_rate: number | null;
  average_duration_ms: number | null;
  max_duration_ms: number | null;
}

const ZERO: RunFigures = { runs: 0, matched: 0, failed: 0, actions: 0, action_failures: 0, dry_runs: 0, duration_ms_sum: 0, duration_ms_max: 0 };

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The sum of groups' figures. */
function add(groups: RunFigures[]): RunFigures {
  const total = { ...ZERO };
  for (const g of groups) {
    total.runs += g.runs;
    total.matched += g.matched;
    total.failed += g.failed;
    total.actions += g.actions;
    total.action_failures += g.action_failures;
    total.dry_runs += g.dry_runs;
    total.duration_ms_sum += g.duration_ms_sum;
    total.duration_ms_max = Math.max(total.duration_ms_max, g.duration_ms_max);
  }
  return total;
}

/** Raw sums as reported figures. */
export function reportFigures(f: RunFigures): StatsFigures {
  const { duration_ms_sum, duration_ms_max, ...counts } = f;
  return {
    ...counts,
    match_rate: f.runs ? round(f.matched / f.runs, 4) : null,
    failure_rate: f.runs ? round(f.failed / f.runs, 4) : null,
    average_duration_ms: f.runs ? round(duration_ms_sum / f.runs, 1) : null,
    max_duration_ms: f.runs ? duration_ms_max : null,
  };
}

/** The overview: totals and per-rule figures over the range (rules without runs left out). */
export async function automationStats(q: StatsRange) {
  const range = await resolveStatsRange(q);
  const groups = await groupRunFigures(q.tenantId, range.start, range.end, { byRule: true, bucket: null });
  const names = await ruleNames(q.tenantId, groups.map((g) => g.rule_id as string));
  const byRule = groups
    .map((g) => {
      const rule = names.get(g.rule_id as string);
      return { rule_id: g.rule_id as string, name: rule?.name ?? null, deleted: rule ? rule.deleted_at !== null : true, ...reportFigures(g) };
    })
    .sort((a, b) => b.runs - a.runs || a.rule_id.localeCompare(b.rule_id));
  return { range, ...reportFigures(add(groups)), by_rule: byRule };
}

/** One rule's figures over the range, and when it last ran; 404 for a missing or deleted rule. */
export async function ruleStats(q: StatsRange & { ruleId: string }) {
  const rule = await automationRuleOrNotFound(q.tenantId, q.ruleId);
  const range = await resolveStatsRange(q);
  const [groups, last] = await Promise.all([
    groupRunFigures(q.tenantId, range.start, range.end, { ruleId: rule._id, byRule: false, bucket: null }),
    lastRunTimes(q.tenantId, [rule._id]),
  ]);
  return { range, rule_id: rule._id, name: rule.name, version: rule.version, ...reportFigures(add(groups)), last_run_at: last.get(rule._id) ?? null };
}

/** Ask for a series. */
export interface TimeseriesQuery extends StatsRange {
  bucket: 'hour' | 'day';
  /** Only this rule's runs (404 for a missing or deleted rule). */
  ruleId?: string | undefined;
}

/** The bucket starts of the range in the tenant's zone, in order (a DST day has 23 or 25 hours). */
export function bucketStarts(range: Pick<ResolvedRange, 'start' | 'end' | 'timezone'>, unit: 'hour' | 'day'): Date[] {
  const starts: Date[] = [];
  const end = range.end.getTime();
  for (let t = DateTime.fromJSDate(range.start, { zone: range.timezone }); t.toMillis() < end; t = t.plus({ [`${unit}s`]: 1 })) starts.push(t.toJSDate());
  return starts;
}

/** Figures per bucket over the whole range, empty buckets included. */
export async function automationTimeseries(q: TimeseriesQuery) {
  if (q.ruleId) await automationRuleOrNotFound(q.tenantId, q.ruleId);
  const range = await resolveStatsRange(q);
  const groups = await groupRunFigures(q.tenantId, range.start, range.end, { ruleId: q.ruleId, byRule: false, bucket: { unit: q.bucket, zone: range.timezone } });
  const byStart = new Map<number, RunFiguresGroup>(groups.map((g) => [(g.start as Date).getTime(), g]));
  const series = bucketStarts(range, q.bucket).map((start) => ({ start, ...reportFigures(byStart.get(start.getTime()) ?? ZERO) }));
  return { range: { ...range, bucket: q.bucket }, rule_id: q.ruleId ?? null, series };
}

/** Alert stats: each rule with a threshold, its figures against it, and whether it is breached now. */
export async function automationAlerts(q: Acting & { windowHours: number }, now = new Date()) {
  const rules = await rulesWithAlerts(q.tenantId);
  const windowStart = new Date(now.getTime() - q.windowHours * 3_600_000);
  // Only rules with a failure-rate threshold need their window's figures; the last run answers "no runs for N hours".
  const [windowed, last] = await Promise.all([
    groupRunFigures(q.tenantId, windowStart, now, { byRule: true, bucket: null }),
    lastRunTimes(q.tenantId, rules.map((r) => r._id)),
  ]);
  const figures = new Map(windowed.map((g) => [g.rule_id as string, g]));
  const alerts = rules.map((rule) => {
    const f = figures.get(rule._id) ?? ZERO;
    const failureRatePercent = f.runs ? round((f.failed / f.runs) * 100, 2) : null;
    const threshold = rule.alerts?.failure_rate_percent ?? null;
    const noRunsHours = rule.alerts?.no_runs_hours ?? null;
    const lastRunAt = last.get(rule._id) ?? null;
    // A rule younger than its no-runs threshold has not had the chance to run yet.
    const silentSince = lastRunAt ?? rule.created_at;
    const hoursSilent = (now.getTime() - silentSince.getTime()) / 3_600_000;
    const failureBreached = threshold !== null && failureRatePercent !== null && failureRatePercent >= threshold;
    // An inactive or snoozed rule is not expected to run: its silence is no alert.
    const expectedToRun = rule.active && !(rule.snoozed_until && rule.snoozed_until > now);
    const noRunsBreached = noRunsHours !== null && expectedToRun && hoursSilent >= noRunsHours;
    return {
      rule_id: rule._id,
      name: rule.name,
      active: rule.active,
      thresholds: { failure_rate_percent: threshold, no_runs_hours: noRunsHours },
      window: { runs: f.runs, failed: f.failed, failure_rate_percent: failureRatePercent },
      last_run_at: lastRunAt,
      hours_since_last_run: lastRunAt ? round(hoursSilent, 2) : null,
      failure_rate_breached: failureBreached,
      no_runs_breached: noRunsBreached,
      breached: failureBreached || noRunsBreached,
    };
  });
  return { window_hours: q.windowHours, window_start: windowStart, evaluated_at: now, breached: alerts.filter((a) => a.breached).length, rules: alerts };
}

/** Queue lag: how long the oldest pending item has waited, in seconds (0 when none waits). */
const lagSeconds = (oldest: { created_at: Date } | null, now: Date) => (oldest ? Math.max(0, round((now.getTime() - oldest.created_at.getTime()) / 1000, 3)) : 0);

/** Queue stats: items per state now, lag, and per event type over the range. */
export async function eventQueueStats(q: StatsRange, now = new Date()) {
  const range = await resolveStatsRange(q);
  const [states, oldest, types] = await Promise.all([countEventsByState(q.tenantId), oldestPendingEvent(q.tenantId), groupEventTypes(q.tenantId, range.start, range.end)]);
  const byType = new Map<string, { event_type: string; total: number; duplicates: number; failed: number; skipped: number; done: number }>();
  for (const t of types) {
    const row = byType.get(t.event_type) ?? { event_type: t.event_type, total: 0, duplicates: 0, failed: 0, skipped: 0, done: 0 };
    row.total += t.count;
    row.duplicates += t.duplicates;
    if (t.state === 'failed' || t.state === 'skipped' || t.state === 'done') row[t.state] += t.count;
    byType.set(t.event_type, row);
  }
  return {
    range,
    by_state: states,
    total: Object.values(states).reduce((a, b) => a + b, 0),
    oldest_pending_at: oldest?.created_at ?? null,
    lag_seconds: lagSeconds(oldest, now),
    by_event_type: [...byType.values()].sort((a, b) => b.total - a.total || a.event_type.localeCompare(b.event_type)),
  };
}

/** Worker metrics over the last `windowMinutes`: depth, lag, throughput, failure rate, and the same per process. */
export async function workerMetrics(q: Acting & { windowMinutes: number }, now = new Date()) {
  const since = new Date(now.getTime() - q.windowMinutes * 60_000);
  const [states, oldest, processed, processing] = await Promise.all([countEventsByState(q.tenantId), oldestPendingEvent(q.tenantId), groupProcessed(q.tenantId, since), groupProcessing(q.tenantId)]);
  const perMinute = (n: number) => round(n / q.windowMinutes, 3);
  const summarize = (groups: typeof processed) => {
    const finished = groups.reduce((a, g) => a + g.count, 0);
    const failed = groups.filter((g) => g.state === 'failed').reduce((a, g) => a + g.count, 0);
    const latency = groups.reduce((a, g) => a + g.latency_ms_sum, 0);
    return { processed: finished, failed, throughput_per_minute: perMinute(finished), failure_rate: finished ? round(failed / finished, 4) : null, average_latency_ms: finished ? round(latency / finished, 1) : null };
  };
  const names = new Set<string | null>([...processed.map((g) => g.process), ...processing.map((g) => g.process)]);
  const processes = [...names]
    .map((process) => ({ process, processing: processing.find((g) => g.process === process)?.count ?? 0, ...summarize(processed.filter((g) => g.process === process)) }))
    .sort((a, b) => b.processed - a.processed || String(a.process).localeCompare(String(b.process)));
  return {
    evaluated_at: now,
    window_minutes: q.windowMinutes,
    queue_depth: states.pending + states.processing,
    pending: states.pending,
    processing: states.processing,
    failed_total: states.failed,
    oldest_pending_at: oldest?.created_at ?? null,
    lag_seconds: lagSeconds(oldest, now),
    ...summarize(processed),
    processes,
  };
}
