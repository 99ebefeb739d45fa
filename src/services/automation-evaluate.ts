/**
 * A queue item's rules evaluated: each run is claimed by its natural id before anything
 * happens, the conditions are evaluated against the context, and the matched rule's actions are
 * taken in order (or only recorded, in dry-run mode; or skipped past the tenant's actions per
 * minute). What the actions wrote goes into the causation ledger, so their events carry the chain.
 */
import { appContext } from '../context.js';
import { logger } from '../logger.js';
import { recordAutomationCause } from '../models/automation-cause.js';
import type { AutomationControl } from '../models/automation-control.js';
import type { AutomationEvent } from '../models/automation-event.js';
import type { AutomationRule } from '../models/automation-rule.js';
import { automationRunId, automationRuns, claimAutomationRuns, finishAutomationRuns, type AutomationRun, type RunAction } from '../models/automation-run.js';
import type { Conversation } from '../models/conversation.js';
import { readHead } from '../models/event.js';
import { runAction } from './automation-actions.js';
import { evaluateConditions, type EvaluationContext } from './automation-conditions.js';

/** The rule as a run keeps it (what replay shows). */
export const ruleSnapshot = (r: AutomationRule): Record<string, unknown> => ({
  id: r._id,
  name: r.name,
  version: r.version,
  active: r.active,
  trigger: r.trigger,
  conditions: r.conditions,
  actions: r.actions,
  schedule: r.schedule,
  rollout_percent: r.rollout_percent,
});

/**
 * Counts one action against the tenant's actions per minute (a Redis counter per tenant and
 * minute, shared by every process); false when the minute's budget is spent.
 */
async function takeActionBudget(tenantId: string, max: number): Promise<boolean> {
  const key = `automation:actions:${tenantId}:${Math.floor(Date.now() / 60_000)}`;
  const redis = appContext().redis;
  const [[, count]] = (await redis.multi().incr(key).expire(key, 120).exec()) as [[unknown, number]];
  return count <= max;
}

/** What evaluating an item's rules needs. */
export interface ItemEvaluation {
  /** The eligible rules, in evaluation order. */
  rules: AutomationRule[];
  item: AutomationEvent;
  ctx: EvaluationContext;
  control: AutomationControl;
  conversation: Conversation | null;
}

type NewRun = Omit<AutomationRun, 'created_at' | 'updated_at'>;

/** The run claim of one rule on the item (its natural id: item, rule, reprocess pass). */
const claimOf = (rule: AutomationRule, item: AutomationEvent, control: AutomationControl, started: Date): NewRun => ({
  _id: automationRunId(item.tenant_id, item._id, rule._id, item.reprocess_count),
  tenant_id: item.tenant_id,
  rule_id: rule._id,
  rule_version: rule.version,
  rule_snapshot: ruleSnapshot(rule),
  event_id: item._id,
  event_type: item.event_type,
  conversation_id: item.conversation_id,
  matched: false,
  dry_run: control.dry_run,
  conditions: [],
  actions: [],
  error: null,
  duration_ms: 0,
  started_at: started,
  finished_at: null,
});

/** Takes a matched rule's actions in order (or records them, in dry-run mode); writes the causation window. */
async function takeActions(e: ItemEvaluation, rule: AutomationRule, runId: string): Promise<RunAction[]> {
  const { item, control } = e;
  const actions: RunAction[] = [];
  const headBefore = !control.dry_run && e.conversation ? await readHead(item.tenant_id) : 0;
  let tookAny = false;
  for (const [index, action] of rule.actions.entries()) {
    const base = { type: action.type, params: action.params };
    if (control.dry_run) {
      actions.push({ ...base, status: 'dry_run', error: null, result: null });
      continue;
    }
    if (!(await takeActionBudget(item.tenant_id, control.max_actions_per_minute))) {
      actions.push({ ...base, status: 'skipped', error: `the organization's limit of ${control.max_actions_per_minute} automation actions per minute is reached`, result: null });
      continue;
    }
    try {
      const result = await runAction({ rule, runId, index, conversation: e.conversation, event: { id: item.domain_event_id, type: item.event_type, seq: item.event_seq, payload: item.payload } }, action);
      actions.push({ ...base, status: 'ok', error: null, result });
      tookAny = true;
    } catch (err) {
      const message = (err as Error).message || String(err);
      logger.info({ rule: rule._id, action: action.type, err: message }, 'automation action failed');
      actions.push({ ...base, status: 'failed', error: message, result: null });
    }
  }
  if (tookAny && e.conversation) {
    await recordAutomationCause({
      tenant_id: item.tenant_id,
      conversation_id: e.conversation._id,
      run_id: runId,
      from_seq: headBefore,
      to_seq: await readHead(item.tenant_id),
      rule_ids: [...item.causation.rule_ids, rule._id],
      depth: item.causation.depth + 1,
    });
  }
  return actions;
}

const INTERRUPTED = 'interrupted (the process evaluating it stopped); its actions are not taken a second time';

/**
 * Evaluates the rules on the item and records a run for each (once per item, rule and reprocess
 * pass). The runs are claimed together in one insert and finished together in one write, so an
 * item costs two writes for its runs however many rules the organization has; actions are
 * taken rule by rule, in order, between the two.
 */
export async function runRulesOnItem(e: ItemEvaluation): Promise<AutomationRun[]> {
  const started = new Date();
  const claims = e.rules.map((rule) => claimOf(rule, e.item, e.control, started));
  const stored = await claimAutomationRuns(claims);
  // Claimed by an earlier try of this item (a crash mid-run): its actions may have been taken, so they are not taken again.
  const earlier = new Map((await automationRuns.findMany(e.item.tenant_id, claims.filter((_, i) => !stored[i]).map((c) => c._id))).map((r) => [r._id, r]));
  const runs: AutomationRun[] = [];
  const outcomes: { id: string; set: Partial<AutomationRun> }[] = [];
  for (const [i, rule] of e.rules.entries()) {
    const claim = claims[i] as NewRun;
    if (!stored[i]) {
      const before = earlier.get(claim._id);
      if (before?.finished_at) {
        runs.push(before);
        continue;
      }
      const set = { error: INTERRUPTED, finished_at: new Date() };
      outcomes.push({ id: claim._id, set });
      runs.push({ ...(before ?? { ...claim, created_at: started, updated_at: started }), ...set });
      continue;
    }
    const ruleStarted = Date.now();
    const { matched, conditions } = evaluateConditions(rule.conditions, e.ctx);
    const actions = matched ? await takeActions(e, rule, claim._id) : [];
    const failed = actions.find((a) => a.status === 'failed');
    const finished = new Date();
    const set = { matched, conditions, actions, error: failed ? `action ${failed.type} failed: ${failed.error}` : null, duration_ms: finished.getTime() - ruleStarted, finished_at: finished };
    outcomes.push({ id: claim._id, set });
    runs.push({ ...claim, ...set, created_at: started, updated_at: finished });
  }
  await finishAutomationRuns(outcomes);
  return runs;
}
