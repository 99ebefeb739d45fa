/** Automation stats, series, alerts, queue stats and worker metrics as the API shows them. */
import { z } from 'zod';
import { AUTOMATION_EVENT_STATES } from '../models/automation-event.js';
import type { automationAlerts, automationStats, automationTimeseries, eventQueueStats, ResolvedRange, ruleStats, workerMetrics } from '../services/automation-stats.js';
import { iso } from './page.js';

const Rate = z.number().min(0).max(1).nullable();

const Figures = {
  runs: z.number().int().describe('Rule evaluations (runs), matched or not'),
  matched: z.number().int().describe('Runs whose conditions held'),
  failed: z.number().int().describe('Runs with an error or at least one failed action'),
  actions: z.number().int().describe('Actions taken successfully'),
  action_failures: z.number().int().describe('Actions that failed'),
  dry_runs: z.number().int().describe('Runs recorded in dry-run mode'),
  match_rate: Rate.describe('matched / runs (null without runs)'),
  failure_rate: Rate.describe('failed / runs (null without runs)'),
  average_duration_ms: z.number().nullable(),
  max_duration_ms: z.number().nullable(),
};

const RangeBody = z.object({
  timezone: z.string().describe('The tenant’s IANA zone the days are read in'),
  from: z.iso.date(),
  to: z.iso.date(),
  start: z.iso.datetime().describe('`from` 00:00 in the zone, as an instant'),
  end: z.iso.datetime().describe('The day after `to`, 00:00 in the zone, as an instant (excluded)'),
});

const presentRange = (r: ResolvedRange) => ({ timezone: r.timezone, from: r.from, to: r.to, start: iso(r.start) as string, end: iso(r.end) as string });

/** GET /api/automation/stats */
export const AutomationStatsBody = z.object({
  range: RangeBody,
  ...Figures,
  by_rule: z.array(z.object({ rule_id: z.uuid(), name: z.string().nullable(), deleted: z.boolean(), ...Figures })).describe('Rules with runs in the range, most runs first'),
});

/** Shapes the overview. */
export function presentAutomationStats(s: Awaited<ReturnType<typeof automationStats>>): z.infer<typeof AutomationStatsBody> {
  return { ...s, range: presentRange(s.range) };
}

/** GET /api/automation/rules/{id}/stats */
export const RuleStatsBody = z.object({
  range: RangeBody,
  rule_id: z.uuid(),
  name: z.string(),
  version: z.number().int(),
  ...Figures,
  last_run_at: z.iso.datetime().nullable().describe('The rule’s latest run at any time (not only in the range); null when it never ran'),
});

/** Shapes one rule's stats. */
export function presentRuleStats(s: Awaited<ReturnType<typeof ruleStats>>): z.infer<typeof RuleStatsBody> {
  return { ...s, range: presentRange(s.range), last_run_at: iso(s.last_run_at) };
}

/** GET /api/automation/stats/timeseries and /api/automation/rules/{id}/stats/timeseries */
export const TimeseriesBody = z.object({
  range: RangeBody.extend({ bucket: z.enum(['hour', 'day']) }),
  rule_id: z.uuid().nullable(),
  series: z.array(z.object({ start: z.iso.datetime().describe('The bucket’s start in the tenant’s zone, as an instant'), ...Figures })).describe('Every bucket of the range, in order, empty ones included'),
});

/** Shapes a series. */
export function presentTimeseries(s: Awaited<ReturnType<typeof automationTimeseries>>): z.infer<typeof TimeseriesBody> {
  return { range: { ...presentRange(s.range), bucket: s.range.bucket }, rule_id: s.rule_id, series: s.series.map((b) => ({ ...b, start: iso(b.start) as string })) };
}

/** GET /api/automation/stats/alerts */
export const AlertsBody = z.object({
  window_hours: z.number().int(),
  window_start: z.iso.datetime(),
  evaluated_at: z.iso.datetime(),
  breached: z.number().int().describe('Rules breaching at least one threshold now'),
  rules: z.array(
    z.object({
      rule_id: z.uuid(),
      name: z.string(),
      active: z.boolean(),
      thresholds: z.object({ failure_rate_percent: z.number().nullable(), no_runs_hours: z.number().nullable() }),
      window: z.object({ runs: z.number().int(), failed: z.number().int(), failure_rate_percent: z.number().nullable().describe('failed / runs x 100 in the window; null without runs') }),
      last_run_at: z.iso.datetime().nullable(),
      hours_since_last_run: z.number().nullable(),
      failure_rate_breached: z.boolean().describe('The window’s failure rate is at or above failure_rate_percent'),
      no_runs_breached: z.boolean().describe('An active, unsnoozed rule has not run for no_runs_hours (counted from its creation when it never ran)'),
      breached: z.boolean(),
    }),
  ),
});

/** Shapes the alert stats. */
export function presentAlerts(a: Awaited<ReturnType<typeof automationAlerts>>): z.infer<typeof AlertsBody> {
  return {
    ...a,
    window_start: iso(a.window_start) as string,
    evaluated_at: iso(a.evaluated_at) as string,
    rules: a.rules.map((r) => ({ ...r, last_run_at: iso(r.last_run_at) })),
  };
}

const StateCounts = z.object(Object.fromEntries(AUTOMATION_EVENT_STATES.map((s) => [s, z.number().int()])) as Record<(typeof AUTOMATION_EVENT_STATES)[number], z.ZodNumber>);

/** GET /api/automation/events/stats */
export const EventQueueStatsBody = z.object({
  range: RangeBody.describe('The days by_event_type covers'),
  by_state: StateCounts.describe('Items in each state now (all time)'),
  total: z.number().int(),
  oldest_pending_at: z.iso.datetime().nullable(),
  lag_seconds: z.number().describe('Now minus the oldest pending item’s creation; 0 when none waits'),
  by_event_type: z.array(
    z.object({ event_type: z.string(), total: z.number().int(), duplicates: z.number().int(), done: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
  ),
});

/** Shapes the queue stats. */
export function presentEventQueueStats(s: Awaited<ReturnType<typeof eventQueueStats>>): z.infer<typeof EventQueueStatsBody> {
  return { ...s, range: presentRange(s.range), oldest_pending_at: iso(s.oldest_pending_at) };
}

const Throughput = {
  processed: z.number().int().describe('Items finished (done, failed or skipped) in the window'),
  failed: z.number().int(),
  throughput_per_minute: z.number(),
  failure_rate: Rate.describe('failed / processed in the window'),
  average_latency_ms: z.number().nullable().describe('Mean of processed_at - created_at of the items finished in the window'),
};

/** GET /api/automation/worker/metrics */
export const WorkerMetricsBody = z.object({
  evaluated_at: z.iso.datetime(),
  window_minutes: z.number().int(),
  queue_depth: z.number().int().describe('pending + processing'),
  pending: z.number().int(),
  processing: z.number().int(),
  failed_total: z.number().int(),
  oldest_pending_at: z.iso.datetime().nullable(),
  lag_seconds: z.number().describe('Now minus the oldest pending item’s creation; 0 when none waits'),
  ...Throughput,
  processes: z.array(z.object({ process: z.string().nullable().describe('The process name that claimed the items'), processing: z.number().int(), ...Throughput })),
});

/** Shapes the worker metrics. */
export function presentWorkerMetrics(m: Awaited<ReturnType<typeof workerMetrics>>): z.infer<typeof WorkerMetricsBody> {
  return { ...m, evaluated_at: iso(m.evaluated_at) as string, oldest_pending_at: iso(m.oldest_pending_at) };
}
