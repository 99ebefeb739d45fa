/**
 * Runs: one per rule evaluated on a queue item (matched or not), with what the conditions saw
 * and what each action did. `_id` derives from (item, rule, the item's reprocess pass), and the
 * run is inserted before any action is taken: a process that crashed mid-run and an item
 * recovered after it find the run claimed and do not take the rule's actions a second time.
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf, insertClaims } from './driver.js';
import { tenantRepo } from './repo.js';

/** One condition as evaluated. */
export interface RunCondition {
  /** 'all' or 'any': the group it belongs to. */
  group: 'all' | 'any';
  field: string;
  op: string;
  expected: unknown;
  /** The value the field had (null when absent). */
  actual: unknown;
  result: boolean;
}

/** What an action did. */
export type RunActionStatus = 'ok' | 'failed' | 'skipped' | 'dry_run';

/** One action as taken (or not). */
export interface RunAction {
  type: string;
  params: Record<string, unknown>;
  status: RunActionStatus;
  error: string | null;
  result: Record<string, unknown> | null;
}

/** A stored run. */
export interface AutomationRun extends TenantDoc {
  rule_id: string;
  rule_version: number;
  /** The rule as evaluated (name, trigger, conditions, actions...), for replay. */
  rule_snapshot: Record<string, unknown>;
  event_id: string;
  event_type: string;
  conversation_id: string | null;
  matched: boolean;
  dry_run: boolean;
  conditions: RunCondition[];
  actions: RunAction[];
  /** Why the run failed or did not evaluate (an action error, a crash mid-run); null when fine. */
  error: string | null;
  duration_ms: number;
  started_at: Date;
  /** Null while the run is under way (or was interrupted by a crash). */
  finished_at: Date | null;
}

const schema = baseSchema<AutomationRun>(
  {
    tenant_id: { type: String, required: true },
    rule_id: { type: String, required: true },
    rule_version: { type: Number, required: true },
    rule_snapshot: { type: Schema.Types.Mixed, required: true },
    event_id: { type: String, required: true },
    event_type: { type: String, required: true },
    conversation_id: { type: String, default: null },
    matched: { type: Boolean, required: true },
    dry_run: { type: Boolean, required: true },
    conditions: { type: [Schema.Types.Mixed], default: [] },
    actions: { type: [Schema.Types.Mixed], default: [] },
    error: { type: String, default: null },
    duration_ms: { type: Number, default: 0 },
    started_at: { type: Date, required: true },
    finished_at: { type: Date, default: null },
  },
  'automation_runs',
);
// The runs list, newest first; stats over a time range.
schema.index({ tenant_id: 1, started_at: -1, _id: -1 });
// A rule's runs and per-rule stats.
schema.index({ tenant_id: 1, rule_id: 1, started_at: -1, _id: -1 });
// An item's runs.
schema.index({ tenant_id: 1, event_id: 1, started_at: 1 });
// A conversation's runs.
schema.index({ tenant_id: 1, conversation_id: 1, started_at: -1 });

/** The automation_runs collection. */
export const AutomationRunModel = model<AutomationRun>('AutomationRun', schema);

/** Tenant-scoped access to runs. */
export const automationRuns = tenantRepo(AutomationRunModel, 'Automation run');

/** The run's `_id`: one per item, rule and reprocess pass. */
export const automationRunId = (tenantId: string, eventId: string, ruleId: string, pass: number): string => naturalId('automation-run', tenantId, eventId, ruleId, String(pass));

/** Claims runs (one command): per run, in order, true when this call stored it, false when it was claimed before. */
export const claimAutomationRuns = (runs: Omit<AutomationRun, 'created_at' | 'updated_at'>[]): Promise<boolean[]> => insertClaims(AutomationRunModel, runs);

/** Records the outcomes of several claimed runs in one command. */
export async function finishAutomationRuns(outcomes: { id: string; set: Partial<AutomationRun> }[]): Promise<void> {
  if (outcomes.length === 0) return;
  const now = new Date();
  await collectionOf(AutomationRunModel).bulkWrite(outcomes.map((o) => ({ updateOne: { filter: { _id: o.id }, update: { $set: { ...o.set, updated_at: now } } } })), { ordered: false });
}
