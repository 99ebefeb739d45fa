/**
 * The automation rules use cases: list, create, read, change, delete, toggle, snooze, alerts,
 * schedule, rollout; the effective state and schedule preview; the global control; and the
 * dry run, which evaluates a stored rule (or one given whole) against a payload and answers what
 * it would do, changing nothing. Rules are validated on write: conditions name known fields with
 * usable values (400 naming conditions.all[i]), actions name agents, divisions and webhooks the
 * organization has (422 naming actions[i]). Every change is a compare-and-set on `version`.
 */
import { ConflictError, NotFoundError, StateError, assertNoFieldIssues, BodyFieldError } from '../errors.js';
import { newId } from '../ids.js';
import { findAutomationControl, saveAutomationControl, type AutomationControl } from '../models/automation-control.js';
import {
  automationRules,
  findLiveRule,
  updateRuleIfVersion,
  type Action,
  type AutomationRule,
  type ConditionGroups,
  type RuleAlerts,
  type RuleSchedule,
  type Trigger,
} from '../models/automation-rule.js';
import type { RunAction } from '../models/automation-run.js';
import type { Page, Scoped } from '../models/repo.js';
import { findTenant } from '../models/tenant.js';
import { checkActionTargets } from './automation-actions.js';
import { conditionIssues, evaluateConditions } from './automation-conditions.js';
import { contextFromPayload } from './automation-context.js';
import { effectiveState, nextScheduleWindows, scheduleZone, type EffectiveState } from './automation-schedule.js';
import type { Acting } from './agents.js';
import { wakeAutomationWorker } from './automation-worker.js';

/** The writable fields of a rule. */
export interface RuleFields {
  name: string;
  description?: string | null | undefined;
  active?: boolean | undefined;
  trigger: Trigger;
  conditions: ConditionGroups;
  actions: Action[];
  schedule?: RuleSchedule | null | undefined;
  rollout_percent?: number | undefined;
  alerts?: Partial<RuleAlerts> | undefined;
}

/** A rule of the caller's organization. */
export interface OnRule extends Acting {
  /** The rule's id. */
  id: string;
}

const alertsOf = (a: Partial<RuleAlerts> | undefined, base: RuleAlerts = { failure_rate_percent: null, no_runs_hours: null }): RuleAlerts => ({
  failure_rate_percent: a?.failure_rate_percent !== undefined ? a.failure_rate_percent : base.failure_rate_percent,
  no_runs_hours: a?.no_runs_hours !== undefined ? a.no_runs_hours : base.no_runs_hours,
});

/** 400 for bad conditions, 422 for actions naming what the organization does not have. */
async function checkRule(tenantId: string, fields: { conditions?: ConditionGroups | undefined; actions?: Action[] | undefined }): Promise<void> {
  if (fields.conditions) assertNoFieldIssues(conditionIssues(fields.conditions));
  if (fields.actions) await checkActionTargets(tenantId, fields.actions);
}

/** The live rule, or 404 (another organization's, deleted or missing). */
export async function getRule(cmd: OnRule): Promise<AutomationRule> {
  const rule = await findLiveRule(cmd.tenantId, cmd.id);
  if (!rule) throw NotFoundError('Automation rule');
  return rule;
}

/** One page of the organization's live rules, newest first. */
export function listRules(q: Acting & { page: number; limit: number; active?: boolean | undefined; event?: string | undefined }): Promise<Page<AutomationRule>> {
  const filter: Scoped = { tenant_id: q.tenantId, deleted_at: null };
  if (q.active !== undefined) filter.active = q.active;
  if (q.event) filter['trigger.events'] = q.event;
  return automationRules.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** The organization's rules snoozed until after now, soonest waking first. */
export async function listSnoozedRules(q: Acting & { page: number; limit: number }): Promise<Page<AutomationRule>> {
  return automationRules.page({ tenant_id: q.tenantId, snoozed_until: { $gt: new Date() }, deleted_at: null }, { snoozed_until: 1, _id: 1 }, q.page, q.limit);
}

/** Creates a rule (version 1, active unless said). */
export async function createRule(cmd: Acting & { fields: RuleFields }): Promise<AutomationRule> {
  const f = cmd.fields;
  await checkRule(cmd.tenantId, f);
  return automationRules.insert({
    _id: newId(),
    tenant_id: cmd.tenantId,
    name: f.name,
    description: f.description ?? null,
    active: f.active ?? true,
    version: 1,
    trigger: { events: f.trigger.events, schedule: f.trigger.schedule ?? null },
    conditions: f.conditions,
    actions: f.actions,
    snoozed_until: null,
    schedule: f.schedule ?? null,
    rollout_percent: f.rollout_percent ?? 100,
    alerts: alertsOf(f.alerts),
    created_by: cmd.principal.userId,
    deleted_at: null,
  });
}

/**
 * Applies a change computed from the rule as read, by compare-and-set on its version (retried
 * on a concurrent change unless the caller named the version it read: then 409).
 */
async function changeRule(cmd: OnRule & { expectedVersion?: number | undefined }, compute: (rule: AutomationRule) => Partial<AutomationRule>): Promise<AutomationRule> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const rule = await getRule(cmd);
    if (cmd.expectedVersion !== undefined && cmd.expectedVersion !== rule.version) {
      throw ConflictError(`The rule is at version ${rule.version}, not ${cmd.expectedVersion}: it changed since you read it; read it again`);
    }
    const updated = await updateRuleIfVersion(cmd.tenantId, cmd.id, rule.version, compute(rule));
    if (updated) return updated;
    if (cmd.expectedVersion !== undefined) throw ConflictError('The rule changed while saving; read it again');
  }
  throw ConflictError('The rule kept changing while saving; try again');
}

/** Changes any fields of a rule. */
export async function updateRule(cmd: OnRule & { fields: Partial<RuleFields>; expectedVersion?: number | undefined }): Promise<AutomationRule> {
  await getRule(cmd);
  await checkRule(cmd.tenantId, cmd.fields);
  return changeRule(cmd, (rule) => {
    const f = cmd.fields;
    const set: Partial<AutomationRule> = {};
    if (f.name !== undefined) set.name = f.name;
    if (f.description !== undefined) set.description = f.description;
    if (f.active !== undefined) set.active = f.active;
    if (f.trigger !== undefined) set.trigger = { events: f.trigger.events, schedule: f.trigger.schedule ?? null };
    if (f.conditions !== undefined) set.conditions = f.conditions;
    if (f.actions !== undefined) set.actions = f.actions;
    if (f.schedule !== undefined) set.schedule = f.schedule;
    if (f.rollout_percent !== undefined) set.rollout_percent = f.rollout_percent;
    if (f.alerts !== undefined) set.alerts = alertsOf(f.alerts, rule.alerts);
    return set;
  });
}

/** Deletes a rule (its runs stay; it answers 404 afterwards). */
export async function deleteRule(cmd: OnRule): Promise<AutomationRule> {
  return changeRule(cmd, () => ({ deleted_at: new Date(), active: false }));
}

/** Flips `active`. */
export const toggleRule = (cmd: OnRule): Promise<AutomationRule> => changeRule(cmd, (r) => ({ active: !r.active }));

function checkFuture(until: Date): void {
  if (until.getTime() <= Date.now()) throw BodyFieldError('until', 'must be in the future');
}

/** Snoozes a rule until a time. */
export async function snoozeRule(cmd: OnRule & { until: Date }): Promise<AutomationRule> {
  checkFuture(cmd.until);
  return changeRule(cmd, () => ({ snoozed_until: cmd.until }));
}

/** Snoozes several rules; ids that are not live rules of the organization are answered as not found. */
export async function snoozeRules(cmd: Acting & { ids: string[]; until: Date }): Promise<{ snoozed: AutomationRule[]; notFound: string[] }> {
  checkFuture(cmd.until);
  const snoozed: AutomationRule[] = [];
  const notFound: string[] = [];
  for (const id of [...new Set(cmd.ids)]) {
    try {
      snoozed.push(await snoozeRule({ ...cmd, id, until: cmd.until }));
    } catch (err) {
      if ((err as { status?: number }).status !== 404) throw err;
      notFound.push(id);
    }
  }
  return { snoozed, notFound };
}

/** Ends a snooze (422 when the rule is not snoozed). */
export async function unsnoozeRule(cmd: OnRule): Promise<AutomationRule> {
  const rule = await getRule(cmd);
  if (!rule.snoozed_until || rule.snoozed_until <= new Date()) throw StateError('The rule is not snoozed');
  return changeRule(cmd, () => ({ snoozed_until: null }));
}

/** Sets the alert thresholds (fields left out keep their value). */
export const setRuleAlerts = (cmd: OnRule & { alerts: Partial<RuleAlerts> }) => changeRule(cmd, (r) => ({ alerts: alertsOf(cmd.alerts, r.alerts) }));

/** Sets the schedule windows (null: always). */
export const setRuleSchedule = (cmd: OnRule & { schedule: RuleSchedule | null }) => changeRule(cmd, () => ({ schedule: cmd.schedule }));

/** Sets the rollout percentage. */
export const setRuleRollout = (cmd: OnRule & { percent: number }) => changeRule(cmd, () => ({ rollout_percent: cmd.percent }));

const zoneOf = async (tenantId: string) => (await findTenant(tenantId))?.timezone ?? 'UTC';

/** Why the rule would or would not run now (for one conversation when given). */
export async function getRuleState(cmd: OnRule & { conversationId?: string | undefined }): Promise<{ state: EffectiveState; at: Date }> {
  const [rule, control, zone] = await Promise.all([getRule(cmd), findAutomationControl(cmd.tenantId), zoneOf(cmd.tenantId)]);
  const at = new Date();
  return { state: effectiveState(rule, control, zone, at, cmd.conversationId ?? null), at };
}

/** The rule's next `count` windows in its zone (422 for a rule without a schedule). */
export async function previewRuleSchedule(cmd: OnRule & { count: number }): Promise<{ zone: string; windows: { start: string; end: string }[] }> {
  const [rule, zone] = await Promise.all([getRule(cmd), zoneOf(cmd.tenantId)]);
  if (!rule.schedule || rule.schedule.windows.length === 0) throw StateError('The rule has no schedule: it may run at any time (PATCH .../schedule sets windows)');
  return { zone: scheduleZone(rule.schedule, zone), windows: nextScheduleWindows(rule.schedule, zone, new Date(), cmd.count) };
}

/** The organization's control. */
export const getControl = (cmd: Acting): Promise<AutomationControl> => findAutomationControl(cmd.tenantId);

/** Changes the organization's control. */
export async function updateControl(cmd: Acting & { set: Partial<Pick<AutomationControl, 'paused' | 'dry_run' | 'max_actions_per_minute' | 'max_chain_depth'>> }): Promise<AutomationControl> {
  const control = await saveAutomationControl(cmd.tenantId, cmd.set, cmd.principal.userId);
  // Resuming takes up what queued while paused at once, not at the next sweep.
  if (!control.paused) wakeAutomationWorker(cmd.tenantId);
  return control;
}

/** A dry run's answer. */
export interface DryRunResult {
  ruleId: string | null;
  eventType: string;
  matched: boolean;
  conditions: ReturnType<typeof evaluateConditions>['conditions'];
  actions: RunAction[];
  state: { state: EffectiveState; at: Date } | null;
}

/** Evaluates a stored rule or a given one against a payload; nothing is changed or recorded. */
export async function dryRunRule(
  cmd: Acting & { ruleId?: string | undefined; rule?: { trigger?: Trigger | undefined; conditions: ConditionGroups; actions: Action[] } | undefined; eventType?: string | undefined; payload: Record<string, unknown> },
): Promise<DryRunResult> {
  const stored = cmd.ruleId ? await getRule({ ...cmd, id: cmd.ruleId }) : null;
  const rule = stored ?? cmd.rule;
  if (!rule) throw BodyFieldError('rule', 'give either rule_id or rule');
  if (!stored) assertNoFieldIssues(conditionIssues(rule.conditions));
  const eventType = cmd.eventType ?? rule.trigger?.events[0] ?? 'conversation.created';
  const ctx = await contextFromPayload(cmd.tenantId, eventType, cmd.payload);
  const { matched, conditions } = evaluateConditions(rule.conditions, ctx);
  const actions: RunAction[] = matched ? rule.actions.map((a) => ({ type: a.type, params: a.params, status: 'dry_run', error: null, result: null })) : [];
  const conversationId = typeof ctx.conversation?.id === 'string' ? ctx.conversation.id : undefined;
  const state = stored ? await getRuleState({ ...cmd, id: stored._id, conversationId }) : null;
  return { ruleId: stored?._id ?? null, eventType, matched, conditions, actions, state };
}
