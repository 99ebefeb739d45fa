/**
 * Read-side queries over automation runs and queue items: the stats aggregations, the export
 * cursors and the queue's counts. Every `$match` leads with the tenant and a time range or a
 * state, so it runs on the indexes declared with the collections (automation-run.ts,
 * automation-event.ts); the groups are at most rules x buckets rows.
 */
import type { PipelineStage } from 'mongoose';
import type { Scoped, Sort } from './repo.js';
import { AutomationEventModel, AUTOMATION_EVENT_STATES, type AutomationEvent, type AutomationEventState } from './automation-event.js';
import { AutomationRuleModel, type AutomationRule } from './automation-rule.js';
import { AutomationRunModel, type AutomationRun } from './automation-run.js';
import { collectionOf } from './driver.js';

/** The figures of a set of runs. */
export interface RunFigures {
  runs: number;
  /** Runs whose conditions matched. */
  matched: number;
  /** Runs with an error or at least one failed action. */
  failed: number;
  /** Actions that ran and succeeded. */
  actions: number;
  /** Actions that failed. */
  action_failures: number;
  /** Runs recorded in dry-run mode. */
  dry_runs: number;
  /** Sum and maximum of the runs' durations, in ms. */
  duration_ms_sum: number;
  duration_ms_max: number;
}

/** One group of the runs aggregation: a rule (when grouped by rule) and a bucket (when bucketed). */
export interface RunFiguresGroup extends RunFigures {
  rule_id?: string;
  start?: Date;
}

/** Buckets in the tenant's zone. */
export interface RunBucketing {
  unit: 'hour' | 'day';
  zone: string;
}

const countActions = (status: string) => ({ $size: { $filter: { input: { $ifNull: ['$actions', []] }, as: 'a', cond: { $eq: ['$$a.status', status] } } } });

/**
 * The figures of a tenant's runs started in [from, to) (of one rule when `ruleId`), grouped by
 * rule and/or by tenant-zone bucket as asked.
 */
export async function groupRunFigures(
  tenantId: string,
  from: Date,
  to: Date,
  opts: { ruleId?: string | undefined; byRule: boolean; bucket: RunBucketing | null },
): Promise<RunFiguresGroup[]> {
  const key: Record<string, unknown> = {};
  if (opts.byRule) key.rule_id = '$rule_id';
  if (opts.bucket) key.start = { $dateTrunc: { date: '$started_at', unit: opts.bucket.unit, timezone: opts.bucket.zone } };
  const pipeline: PipelineStage[] = [
    { $match: { tenant_id: tenantId, ...(opts.ruleId ? { rule_id: opts.ruleId } : {}), started_at: { $gte: from, $lt: to } } },
    {
      $project: {
        rule_id: 1,
        started_at: 1,
        matched: 1,
        dry_run: 1,
        duration_ms: 1,
        ok_actions: countActions('ok'),
        failed_actions: countActions('failed'),
        has_error: { $ne: [{ $ifNull: ['$error', null] }, null] },
      },
    },
    {
      $group: {
        _id: key,
        runs: { $sum: 1 },
        matched: { $sum: { $cond: ['$matched', 1, 0] } },
        failed: { $sum: { $cond: [{ $or: ['$has_error', { $gt: ['$failed_actions', 0] }] }, 1, 0] } },
        actions: { $sum: '$ok_actions' },
        action_failures: { $sum: '$failed_actions' },
        dry_runs: { $sum: { $cond: ['$dry_run', 1, 0] } },
        duration_ms_sum: { $sum: '$duration_ms' },
        duration_ms_max: { $max: '$duration_ms' },
      },
    },
  ];
  const rows = await AutomationRunModel.aggregate<RunFigures & { _id: { rule_id?: string; start?: Date } }>(pipeline).exec();
  return rows.map(({ _id, ...figures }) => ({ ...figures, duration_ms_max: figures.duration_ms_max ?? 0, ..._id }));
}

/** When each of these rules last ran (one indexed point read per rule); rules that never ran are absent. */
export async function lastRunTimes(tenantId: string, ruleIds: string[]): Promise<Map<string, Date>> {
  const found = await Promise.all(
    ruleIds.map((rule_id) => AutomationRunModel.findOne({ tenant_id: tenantId, rule_id }, { started_at: 1 }).sort({ started_at: -1, _id: -1 }).lean<Pick<AutomationRun, 'started_at'>>().exec()),
  );
  const times = new Map<string, Date>();
  ruleIds.forEach((id, i) => {
    const run = found[i];
    if (run) times.set(id, run.started_at);
  });
  return times;
}

/** The tenant's live rules with at least one alert threshold set. */
export const rulesWithAlerts = (tenantId: string) =>
  AutomationRuleModel.find({ tenant_id: tenantId, deleted_at: null, $or: [{ 'alerts.failure_rate_percent': { $ne: null } }, { 'alerts.no_runs_hours': { $ne: null } }] })
    .sort({ created_at: -1, _id: -1 })
    .lean<AutomationRule[]>()
    .exec();

/** The names and versions of these rules (deleted ones included), by id. */
export async function ruleNames(tenantId: string, ids: string[]): Promise<Map<string, Pick<AutomationRule, '_id' | 'name' | 'version' | 'active' | 'deleted_at'>>> {
  if (ids.length === 0) return new Map();
  const rules = await AutomationRuleModel.find({ _id: { $in: [...new Set(ids)] }, tenant_id: tenantId }, { name: 1, version: 1, active: 1, deleted_at: 1 })
    .lean<Pick<AutomationRule, '_id' | 'name' | 'version' | 'active' | 'deleted_at'>[]>()
    .exec();
  return new Map(rules.map((r) => [r._id, r]));
}

// Small batches: an export holds one batch in memory while the client reads.
const EXPORT_BATCH = 200;

/** The runs matching the filter, read batch by batch in `sort` order. */
export const runCursor = (filter: Scoped, sort: Sort): AsyncIterable<AutomationRun> =>
  AutomationRunModel.find(filter).sort(sort).lean<AutomationRun[]>().cursor({ batchSize: EXPORT_BATCH }) as unknown as AsyncIterable<AutomationRun>;

/** The queue items matching the filter, read batch by batch in `sort` order. */
export const eventCursor = (filter: Scoped, sort: Sort): AsyncIterable<AutomationEvent> =>
  AutomationEventModel.find(filter).sort(sort).lean<AutomationEvent[]>().cursor({ batchSize: EXPORT_BATCH }) as unknown as AsyncIterable<AutomationEvent>;

/** How many of the tenant's items are in each state (one indexed count per state). */
export async function countEventsByState(tenantId: string): Promise<Record<AutomationEventState, number>> {
  const counts = await Promise.all(AUTOMATION_EVENT_STATES.map((state) => AutomationEventModel.countDocuments({ tenant_id: tenantId, state }).exec()));
  return Object.fromEntries(AUTOMATION_EVENT_STATES.map((s, i) => [s, counts[i] ?? 0])) as Record<AutomationEventState, number>;
}

/** The tenant's oldest pending item (queue lag), or null when none waits. */
export const oldestPendingEvent = (tenantId: string) =>
  AutomationEventModel.findOne({ tenant_id: tenantId, state: 'pending' }, { created_at: 1, next_attempt_at: 1 })
    .sort({ created_at: 1, _id: 1 })
    .lean<Pick<AutomationEvent, '_id' | 'created_at' | 'next_attempt_at'>>()
    .exec();

/** Items created in [from, to) by event type and state. */
export async function groupEventTypes(tenantId: string, from: Date, to: Date): Promise<{ event_type: string; state: AutomationEventState; duplicates: number; count: number }[]> {
  const rows = await AutomationEventModel.aggregate<{ _id: { event_type: string; state: AutomationEventState }; duplicates: number; count: number }>([
    { $match: { tenant_id: tenantId, created_at: { $gte: from, $lt: to } } },
    { $group: { _id: { event_type: '$event_type', state: '$state' }, count: { $sum: 1 }, duplicates: { $sum: { $cond: [{ $ne: [{ $ifNull: ['$duplicate_of', null] }, null] }, 1, 0] } } } },
  ]).exec();
  return rows.map((r) => ({ ...r._id, duplicates: r.duplicates, count: r.count }));
}

/** Per process: items it finished since `since` (done, failed, skipped) and how long they took from creation. */
export interface ProcessedGroup {
  process: string | null;
  state: AutomationEventState;
  count: number;
  /** Sum of processed_at - created_at, in ms. */
  latency_ms_sum: number;
}

// processed_at - created_at in ms. $dateDiff rather than $subtract of two dates: the same on
// MongoDB 7, and secantusd-rs 0.5.3 refuses $subtract on dates ("operator not supported").
const LATENCY_MS = { $dateDiff: { startDate: '$created_at', endDate: '$processed_at', unit: 'millisecond' } };

/** The tenant's items processed since `since`, grouped by the process that claimed them and their state. */
export async function groupProcessed(tenantId: string, since: Date): Promise<ProcessedGroup[]> {
  const rows = await AutomationEventModel.aggregate<{ _id: { process: string | null; state: AutomationEventState }; count: number; latency_ms_sum: number }>([
    { $match: { tenant_id: tenantId, processed_at: { $gte: since } } },
    { $group: { _id: { process: '$claimed_by', state: '$state' }, count: { $sum: 1 }, latency_ms_sum: { $sum: LATENCY_MS } } },
  ]).exec();
  return rows.map((r) => ({ process: r._id.process ?? null, state: r._id.state, count: r.count, latency_ms_sum: r.latency_ms_sum }));
}

/** The tenant's items being processed now, by process. */
export async function groupProcessing(tenantId: string): Promise<{ process: string | null; count: number }[]> {
  const rows = await AutomationEventModel.aggregate<{ _id: string | null; count: number }>([
    { $match: { tenant_id: tenantId, state: 'processing' } },
    { $group: { _id: '$claimed_by', count: { $sum: 1 } } },
  ]).exec();
  return rows.map((r) => ({ process: r._id ?? null, count: r.count }));
}

/** Moves every failed item matching the filter back to pending, due now, attempts from zero; how many moved. */
export async function requeueFailedEvents(filter: Scoped, at: Date): Promise<number> {
  const res = await collectionOf(AutomationEventModel).updateMany(
    { ...filter, state: 'failed' },
    { $set: { state: 'pending', attempts: 0, next_attempt_at: null, claimed_by: null, processed_at: null, updated_at: at } },
  );
  return res.modifiedCount;
}

/** Deletes the tenant's failed items created before `before`; how many. */
export async function deleteFailedEvents(tenantId: string, before: Date): Promise<number> {
  const res = await collectionOf(AutomationEventModel).deleteMany({ tenant_id: tenantId, state: 'failed', created_at: { $lt: before } });
  return res.deletedCount;
}
