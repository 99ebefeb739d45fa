/** Automation runs, and a run's replay context, as the API shows them. */
import { z } from 'zod';
import type { AutomationEvent } from '../models/automation-event.js';
import type { AutomationRun } from '../models/automation-run.js';
import { presentAutomationEvent, AutomationEventBody } from './automation-event.js';
import { iso } from './page.js';

const RunConditionBody = z.object({
  group: z.enum(['all', 'any']).describe('The condition group it belongs to'),
  field: z.string(),
  op: z.string(),
  expected: z.unknown().describe('The value the rule compares with'),
  actual: z.unknown().describe('The value the field had when the run evaluated it (null when absent)'),
  result: z.boolean(),
});

const RunActionBody = z.object({
  type: z.string(),
  params: z.record(z.string(), z.unknown()),
  status: z.enum(['ok', 'failed', 'skipped', 'dry_run']).describe('dry_run: evaluated in dry-run mode, not taken'),
  error: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable().describe('What the action produced (a message id, a webhook status...)'),
});

/** The run JSON shape. */
export const AutomationRunBody = z.object({
  id: z.uuid(),
  rule_id: z.uuid(),
  rule_version: z.number().int().describe('The rule version evaluated'),
  rule_name: z.string().nullable().describe('The rule’s name in the version evaluated'),
  event_id: z.uuid().describe('The automation event (queue item) evaluated'),
  event_type: z.string(),
  conversation_id: z.uuid().nullable(),
  matched: z.boolean().describe('Whether the conditions held'),
  dry_run: z.boolean().describe('Recorded in dry-run mode: no action was taken'),
  failed: z.boolean().describe('The run has an error or at least one failed action'),
  conditions: z.array(RunConditionBody),
  actions: z.array(RunActionBody),
  error: z.string().nullable(),
  duration_ms: z.number(),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime().nullable().describe('Null while under way, or when a crash interrupted it'),
});

/** A run has an error or a failed action. */
export const runFailed = (r: Pick<AutomationRun, 'error' | 'actions'>): boolean => r.error !== null || r.actions.some((a) => a.status === 'failed');

/** The rule's name in the version a run evaluated (null when the snapshot has none). */
export const runRuleName = (r: Pick<AutomationRun, 'rule_snapshot'>): string | null => (typeof r.rule_snapshot?.name === 'string' ? r.rule_snapshot.name : null);

/** Shapes a run. */
export function presentAutomationRun(r: AutomationRun): z.infer<typeof AutomationRunBody> {
  return {
    id: r._id,
    rule_id: r.rule_id,
    rule_version: r.rule_version,
    rule_name: runRuleName(r),
    event_id: r.event_id,
    event_type: r.event_type,
    conversation_id: r.conversation_id,
    matched: r.matched,
    dry_run: r.dry_run,
    failed: runFailed(r),
    conditions: r.conditions.map((c) => ({ group: c.group, field: c.field, op: c.op, expected: c.expected ?? null, actual: c.actual ?? null, result: c.result })),
    actions: r.actions.map((a) => ({ type: a.type, params: { ...a.params }, status: a.status, error: a.error ?? null, result: a.result ?? null })),
    error: r.error,
    duration_ms: r.duration_ms,
    started_at: iso(r.started_at) as string,
    finished_at: iso(r.finished_at),
  };
}

/** The replay context JSON shape. */
export const RunReplayBody = z.object({
  run: AutomationRunBody,
  rule: z.object({
    id: z.uuid(),
    version: z.number().int().describe('The version the run evaluated'),
    snapshot: z.record(z.string(), z.unknown()).describe('The rule as evaluated: name, trigger, conditions, actions, schedule, rollout'),
    current_version: z.number().int().nullable().describe('The rule’s version now; null when it was deleted since'),
    changed_since: z.boolean().describe('The rule was edited (or deleted) after this run'),
  }),
  event: AutomationEventBody.nullable().describe('The queue item with the payload the run saw; null when it was cleaned up since'),
  reproduce: z
    .object({
      method: z.literal('POST'),
      path: z.string(),
      body: z.object({ rule: z.record(z.string(), z.unknown()), event_type: z.string(), payload: z.record(z.string(), z.unknown()) }),
    })
    .nullable()
    .describe('The dry-run call that evaluates the same rule version on the same payload (null without the item)'),
});

/** Shapes a replay context: the run, the rule version it evaluated, and the payload it saw. */
export function presentRunReplay(r: AutomationRun, event: AutomationEvent | null, currentVersion: number | null): z.infer<typeof RunReplayBody> {
  return {
    run: presentAutomationRun(r),
    rule: { id: r.rule_id, version: r.rule_version, snapshot: { ...r.rule_snapshot }, current_version: currentVersion, changed_since: currentVersion !== r.rule_version },
    event: event ? presentAutomationEvent(event) : null,
    reproduce: event
      ? { method: 'POST', path: '/api/automation/rules/dry-run', body: { rule: { ...r.rule_snapshot }, event_type: event.event_type, payload: { ...event.payload } } }
      : null,
  };
}
