/** Automation rules, the global control, effective states, dry runs and schedule previews as the API shows them. */
import { z } from 'zod';
import { ACTION_TYPES, CONDITION_OPS, type AutomationRule } from '../models/automation-rule.js';
import type { AutomationControl } from '../models/automation-control.js';
import type { RunAction, RunCondition } from '../models/automation-run.js';
import type { EffectiveState } from '../services/automation-schedule.js';
import { iso } from './page.js';

const ConditionBody = z.object({ field: z.string(), op: z.enum(CONDITION_OPS), value: z.unknown().optional() });
const ActionBody = z.object({ type: z.enum(ACTION_TYPES), params: z.record(z.string(), z.unknown()) });
const WindowBody = z.object({ days: z.array(z.number().int()), start: z.string(), end: z.string() });

/** The rule JSON shape. */
export const AutomationRuleBody = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  active: z.boolean(),
  version: z.number().int().describe('+1 per change; send it back as `version` on PATCH to refuse a concurrent edit (409)'),
  trigger: z.object({ events: z.array(z.string()), schedule: z.object({ every_minutes: z.number().int() }).nullable().optional() }),
  conditions: z.object({ all: z.array(ConditionBody), any: z.array(ConditionBody) }),
  actions: z.array(ActionBody),
  snoozed_until: z.iso.datetime().nullable(),
  schedule: z.object({ windows: z.array(WindowBody), time_zone: z.string().nullable().optional() }).nullable(),
  rollout_percent: z.number().int(),
  alerts: z.object({ failure_rate_percent: z.number().nullable(), no_runs_hours: z.number().nullable() }),
  created_by: z.uuid().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a rule. */
export function presentAutomationRule(r: AutomationRule): z.infer<typeof AutomationRuleBody> {
  return {
    id: r._id,
    name: r.name,
    description: r.description,
    active: r.active,
    version: r.version,
    trigger: { events: [...r.trigger.events], schedule: r.trigger.schedule ?? null },
    conditions: { all: r.conditions.all.map((c) => ({ ...c })), any: r.conditions.any.map((c) => ({ ...c })) },
    actions: r.actions.map((a) => ({ type: a.type, params: { ...a.params } })),
    snoozed_until: iso(r.snoozed_until),
    schedule: r.schedule ? { windows: r.schedule.windows.map((w) => ({ ...w, days: [...w.days] })), time_zone: r.schedule.time_zone ?? null } : null,
    rollout_percent: r.rollout_percent,
    alerts: { failure_rate_percent: r.alerts?.failure_rate_percent ?? null, no_runs_hours: r.alerts?.no_runs_hours ?? null },
    created_by: r.created_by,
    created_at: iso(r.created_at) as string,
    updated_at: iso(r.updated_at) as string,
  };
}

/** The control JSON shape. */
export const AutomationControlBody = z.object({
  paused: z.boolean().describe('No rule runs while true; queued events wait'),
  dry_run: z.boolean().describe('Rules are evaluated and runs recorded, but no action is taken'),
  max_actions_per_minute: z.number().int(),
  max_chain_depth: z.number().int().describe('Events caused by rule actions this many steps deep are skipped, with the reason on the event'),
  updated_at: z.iso.datetime().nullable(),
  updated_by: z.uuid().nullable(),
});

/** Shapes the control. */
export const presentAutomationControl = (c: AutomationControl): z.infer<typeof AutomationControlBody> => ({
  paused: c.paused,
  dry_run: c.dry_run,
  max_actions_per_minute: c.max_actions_per_minute,
  max_chain_depth: c.max_chain_depth,
  updated_at: iso(c.updated_at),
  updated_by: c.updated_by,
});

/** The effective state JSON shape. */
export const RuleStateBody = z.object({
  rule_id: z.uuid(),
  would_run: z.boolean(),
  reasons: z.array(z.object({ reason: z.enum(['disabled', 'snoozed', 'outside_window', 'rollout', 'global_pause']), message: z.string() })),
  dry_run: z.boolean().describe('Global dry-run mode: it would run but take no action'),
  in_window: z.boolean(),
  next_window: z.object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) }).nullable(),
  in_rollout: z.boolean().nullable().describe('For ?conversation_id: whether the rollout covers it; null without one'),
  evaluated_at: z.iso.datetime(),
});

/** Shapes an effective state. */
export const presentRuleState = (ruleId: string, s: EffectiveState, at: Date): z.infer<typeof RuleStateBody> => ({ rule_id: ruleId, ...s, evaluated_at: at.toISOString() });

/** The dry-run JSON shape. */
export const DryRunBody = z.object({
  rule_id: z.uuid().nullable(),
  event_type: z.string(),
  matched: z.boolean(),
  conditions: z.array(z.object({ group: z.enum(['all', 'any']), field: z.string(), op: z.string(), expected: z.unknown(), actual: z.unknown(), result: z.boolean() })),
  actions: z.array(z.object({ type: z.string(), params: z.record(z.string(), z.unknown()), status: z.literal('dry_run') })).describe('What the rule would do, in order; nothing is done'),
  state: RuleStateBody.omit({ rule_id: true }).nullable().describe('For a stored rule: whether it would run now at all'),
});

/** Shapes a dry run. */
export function presentDryRun(ruleId: string | null, eventType: string, matched: boolean, conditions: RunCondition[], actions: RunAction[], state: z.infer<typeof RuleStateBody> | null): z.infer<typeof DryRunBody> {
  return {
    rule_id: ruleId,
    event_type: eventType,
    matched,
    conditions: conditions.map((c) => ({ ...c })),
    actions: actions.map((a) => ({ type: a.type, params: { ...a.params }, status: 'dry_run' as const })),
    state: state ? (({ rule_id: _omit, ...rest }) => rest)(state) : null,
  };
}

/** The schedule preview JSON shape. */
export const SchedulePreviewBody = z.object({
  rule_id: z.uuid(),
  time_zone: z.string(),
  windows: z.array(z.object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })).describe('The next windows, the open one first; local times with their offset'),
});
