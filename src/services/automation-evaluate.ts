/**
 * One rule evaluated on one queue item: the run is claimed by its natural id before anything
 * happens, the conditions are evaluated against the context, and the matched rule's actions are
 * taken in order (or only recorded, in dry-run mode; or skipped past the tenant's actions per
 * minute). What the actions wrote goes into the causation ledger, so their events carry the chain.
 */
import { appContext } from '../context.js';
import { isDuplicateKey } from '../errors.js';
import { logger } from '../logger.js';
import { recordAutomationCause } from '../models/automation-cause.js';
import type { AutomationControl } from '../models/automation-control.js';
import type { AutomationEvent } from '../models/automation-event.js';
import type { AutomationRule } from '../models/automation-rule.js';
import { automationRunId, automationRuns, finishAutomationRun, type AutomationRun, type RunAction } from '../models/automation-run.js';
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

/** What evaluating a rule on an item needs. */
export interface RuleEvaluation {
  rule: AutomationRule;
  item: AutomationEvent;
  ctx: EvaluationContext;
  control: AutomationControl;
  conversation: Conversation | null;
}

/** Evaluates one rule on one item and records the run (once per item, rule and reprocess pass). */
export async function runRuleOnItem(e: RuleEvaluation): Promise<AutomationRun> {
  const { rule, item, control } = e;
  const id = automationRunId(item.tenant_id, item._id, rule._id, item.reprocess_count);
  const started = new Date();
  const claim: Omit<AutomationRun, 'created_at' | 'updated_at'> = {
    _id: id,
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
  };
  try {
    await automationRuns.insert(claim);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    // Claimed by an earlier try of this item (a crash mid-run): its actions may have been taken, so they are not taken again.
    const earlier = await automationRuns.findOwned(item.tenant_id, id);
    if (earlier.finished_at) return earlier;
    const error = 'interrupted (the process evaluating it stopped); its actions are not taken a second time';
    await finishAutomationRun(id, { error, finished_at: new Date() });
    return { ...earlier, error, finished_at: new Date() };
  }

  const { matched, conditions } = evaluateConditions(rule.conditions, e.ctx);
  const actions: RunAction[] = [];
  const headBefore = matched && !control.dry_run && e.conversation ? await readHead(item.tenant_id) : 0;
  let tookAny = false;
  if (matched) {
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
        const result = await runAction({ rule, runId: id, index, conversation: e.conversation, event: { id: item.domain_event_id, type: item.event_type, seq: item.event_seq, payload: item.payload } }, action);
        actions.push({ ...base, status: 'ok', error: null, result });
        tookAny = true;
      } catch (err) {
        const message = (err as Error).message || String(err);
        logger.info({ rule: rule._id, action: action.type, err: message }, 'automation action failed');
        actions.push({ ...base, status: 'failed', error: message, result: null });
      }
    }
  }
  if (tookAny && e.conversation) {
    await recordAutomationCause({
      tenant_id: item.tenant_id,
      conversation_id: e.conversation._id,
      run_id: id,
      from_seq: headBefore,
      to_seq: await readHead(item.tenant_id),
      rule_ids: [...item.causation.rule_ids, rule._id],
      depth: item.causation.depth + 1,
    });
  }
  const failed = actions.find((a) => a.status === 'failed');
  const finished = new Date();
  const outcome = { matched, conditions, actions, error: failed ? `action ${failed.type} failed: ${failed.error}` : null, duration_ms: finished.getTime() - started.getTime(), finished_at: finished };
  await finishAutomationRun(id, outcome);
  return { ...claim, ...outcome, created_at: started, updated_at: finished };
}
