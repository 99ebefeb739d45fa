/**
 * The automation run log: lists (overall, of a rule, of a queue item), one run, a run's replay
 * context (the rule version and payload it saw, and the dry-run call that reproduces it), and the
 * CSV export streamed from a cursor.
 */
import type { Readable } from 'node:stream';
import { automationEvents } from '../models/automation-event.js';
import { automationRuleOrNotFound } from './automation-events.js';
import { runCursor } from '../models/automation-reports.js';
import { automationRules } from '../models/automation-rule.js';
import { automationRuns, type AutomationRun } from '../models/automation-run.js';
import type { Page, Scoped, Sort } from '../models/repo.js';
import { runFailed, runRuleName } from '../presenters/automation-run.js';
import type { Acting } from './agents.js';
import { streamCsv } from './csv-export.js';

/** Filters every run list takes. */
export interface RunFilters {
  /** Only runs of this rule. */
  ruleId?: string | undefined;
  /** Only runs on this queue item. */
  eventId?: string | undefined;
  /** Only runs on events of this type. */
  eventType?: string | undefined;
  /** Only runs on events of this conversation. */
  conversationId?: string | undefined;
  /** Only runs whose conditions matched (true) or did not (false). */
  matched?: boolean | undefined;
  /** Only runs with an error or a failed action (true), or without (false). */
  failed?: boolean | undefined;
  /** Only dry-run runs (true), or real ones (false). */
  dryRun?: boolean | undefined;
  /** Started at or after. */
  from?: Date | undefined;
  /** Started before. */
  to?: Date | undefined;
}

/** A page of runs. */
export interface ListRuns extends Acting, RunFilters {
  page: number;
  limit: number;
}

const NEWEST_FIRST: Sort = { started_at: -1, _id: -1 };

/** The scoped filter of a run list; the leading fields are those of an index of automation_runs. */
export function runFilter(tenantId: string, f: RunFilters): Scoped {
  const filter: Scoped = { tenant_id: tenantId };
  if (f.ruleId) filter.rule_id = f.ruleId;
  if (f.eventId) filter.event_id = f.eventId;
  if (f.conversationId) filter.conversation_id = f.conversationId;
  if (f.eventType) filter.event_type = f.eventType;
  if (f.from || f.to) filter.started_at = { ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lt: f.to } : {}) };
  if (f.matched !== undefined) filter.matched = f.matched;
  if (f.dryRun !== undefined) filter.dry_run = f.dryRun;
  if (f.failed === true) filter.$or = [{ error: { $ne: null } }, { 'actions.status': 'failed' }];
  if (f.failed === false) Object.assign(filter, { error: null, 'actions.status': { $ne: 'failed' } });
  return filter;
}

/** The tenant's runs, newest first. */
export const listRuns = (q: ListRuns): Promise<Page<AutomationRun>> => automationRuns.page(runFilter(q.tenantId, q), NEWEST_FIRST, q.page, q.limit);

/** A rule's runs, newest first; 404 for a missing, deleted or other tenant's rule. */
export async function listRuleRuns(q: ListRuns & { ruleId: string }): Promise<Page<AutomationRun>> {
  await automationRuleOrNotFound(q.tenantId, q.ruleId);
  return listRuns(q);
}

/** A queue item's runs, in the order they ran; 404 for a missing or other tenant's item. */
export async function listEventRuns(q: ListRuns & { eventId: string }): Promise<Page<AutomationRun>> {
  await automationEvents.findOwned(q.tenantId, q.eventId);
  return automationRuns.page(runFilter(q.tenantId, q), { started_at: 1, _id: 1 }, q.page, q.limit);
}

/** One run. */
export const getRun = (q: Acting & { id: string }): Promise<AutomationRun> => automationRuns.findOwned(q.tenantId, q.id);

/** What a run saw: the run, its queue item (null once cleaned up) and the rule's current version (null when deleted). */
export async function getRunReplay(q: Acting & { id: string }) {
  const run = await automationRuns.findOwned(q.tenantId, q.id);
  const [event, rule] = await Promise.all([automationEvents.findOwnedOrNull(q.tenantId, run.event_id), automationRules.findOwnedOrNull(q.tenantId, run.rule_id)]);
  return { run, event, currentVersion: rule && !rule.deleted_at ? rule.version : null };
}

/** The columns of the runs export. */
export const RUN_CSV_COLUMNS = [
  'id',
  'started_at',
  'finished_at',
  'rule_id',
  'rule_name',
  'rule_version',
  'event_id',
  'event_type',
  'conversation_id',
  'matched',
  'dry_run',
  'failed',
  'actions',
  'error',
  'duration_ms',
] as const;

/** Export runs. */
export interface ExportRuns extends Acting, RunFilters {
  /** Start with a UTF-8 byte-order mark (for Excel). */
  bom: boolean;
}

/** The matching runs as CSV, newest first, streamed from a cursor. */
export function exportRuns(q: ExportRuns): Readable {
  return streamCsv(runCursor(runFilter(q.tenantId, q), NEWEST_FIRST), {
    columns: RUN_CSV_COLUMNS,
    bom: q.bom,
    row: (r) => [
      r._id,
      r.started_at,
      r.finished_at,
      r.rule_id,
      runRuleName(r),
      r.rule_version,
      r.event_id,
      r.event_type,
      r.conversation_id,
      r.matched,
      r.dry_run,
      runFailed(r),
      // One cell per run: each action as type:status, with its error when it failed.
      r.actions.map((a) => `${a.type}:${a.status}${a.error ? ` (${a.error})` : ''}`).join('; '),
      r.error,
      r.duration_ms,
    ],
  });
}
