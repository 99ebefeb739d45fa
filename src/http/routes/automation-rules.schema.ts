/** Schemas of the Automation group's rules and control endpoints; services/automation-conditions.ts checks fields and patterns further. */
import { z } from 'zod';
import { CONDITION_OPS } from '../../models/automation-rule.js';
import { AUTOMATION_TRIGGER_EVENTS } from '../../events/listeners/automation.js';
import { AutomationControlBody, AutomationRuleBody, DryRunBody, RuleStateBody, SchedulePreviewBody } from '../../presenters/automation-rule.js';
import { Id, PageQuery, pageOf, Timestamp } from '../schemas/common.js';
import { Tag } from './conversations.schema.js';

export { AutomationControlBody, AutomationRuleBody, DryRunBody, RuleStateBody, SchedulePreviewBody };

const Condition = z.strictObject({
  field: z.string().min(1).max(200).describe('A dotted field: conversation.channel, contact.tags, message.text, tenant.within_working_hours, contact.attributes.<name>, payload.<path>...'),
  op: z.enum(CONDITION_OPS),
  value: z.unknown().optional().describe('Absent for exists/not_exists; an array for in/not_in; an RE2 pattern for regex'),
});

const Conditions = z.strictObject({
  all: z.array(Condition).max(50).default([]).describe('Every one must hold'),
  any: z.array(Condition).max(50).default([]).describe('When there are some, at least one must hold'),
});

const params = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);
const Text = z.string().trim().min(1).max(4096);

/** One action: its type and that type's parameters (400 naming actions.<i>.params.<field>). */
export const ActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('assign_agent'), params: params({ agent_id: Id }) }),
  z.strictObject({ type: z.literal('assign_division'), params: params({ division_id: Id, reason: z.string().max(500).optional() }) }),
  z.strictObject({ type: z.literal('auto_assign'), params: params({}).default({}) }),
  z.strictObject({ type: z.literal('add_tags'), params: params({ tags: z.array(Tag).min(1).max(30) }) }),
  z.strictObject({ type: z.literal('remove_tags'), params: params({ tags: z.array(Tag).min(1).max(30) }) }),
  z.strictObject({ type: z.literal('set_status'), params: params({ status: z.enum(['open', 'pending', 'resolved', 'closed']) }) }),
  z.strictObject({
    type: z.literal('transfer'),
    params: params({ division_id: Id.optional(), agent_id: Id.optional(), reason: z.string().max(500).optional() }).refine((p) => p.division_id || p.agent_id, 'give division_id, agent_id or both'),
  }),
  z.strictObject({ type: z.literal('send_message'), params: params({ text: Text }) }),
  z.strictObject({
    type: z.literal('send_template'),
    params: params({ name: z.string().regex(/^[a-z0-9_]+$/, 'must be a template name').max(512), language: z.string().min(2).max(10), components: z.array(z.record(z.string(), z.unknown())).max(10).optional() }),
  }),
  z.strictObject({ type: z.literal('add_note'), params: params({ body: Text }) }),
  z.strictObject({ type: z.literal('call_webhook'), params: params({ webhook_id: Id, payload: z.record(z.string(), z.unknown()).optional() }) }),
  z.strictObject({ type: z.literal('hand_to_ai'), params: params({ ai_agent_id: Id.optional() }).default({}) }),
  z.strictObject({ type: z.literal('hand_to_human'), params: params({}).default({}) }),
  z.strictObject({ type: z.literal('snooze_conversation'), params: params({ minutes: z.number().int().min(1).max(43_200) }) }),
]);

const Trigger = z.strictObject({
  events: z.array(z.enum(AUTOMATION_TRIGGER_EVENTS as unknown as [string, ...string[]])).max(20).default([]).describe('Domain event types that start an evaluation'),
  schedule: z.strictObject({ every_minutes: z.number().int().min(1).max(10_080) }).nullable().optional().describe('Evaluated every `every_minutes` (slots of that period since the epoch) with no event: conditions see the organization (tenant.*) and the slot (payload.slot_at)'),
}).refine((t) => t.events.length > 0 || t.schedule, 'give at least one event type (or a schedule)');

const HhMm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (00:00-23:59)');

const Window = z
  .strictObject({ days: z.array(z.number().int().min(1).max(7)).min(1).max(7).describe('ISO weekdays, 1 = Monday'), start: HhMm, end: HhMm })
  .refine((w) => w.start !== w.end, 'start and end must differ (an end before start runs past midnight)');

const TimeZone = z.string().refine((z_) => Intl.supportedValuesOf('timeZone').includes(z_) || z_ === 'UTC', 'must be an IANA time zone such as Asia/Jakarta');

/** PATCH .../{id}/schedule, and the rule's schedule field. */
export const ScheduleSchema = z.strictObject({ windows: z.array(Window).min(1).max(28), time_zone: TimeZone.nullable().optional().describe('Absent: the organization’s zone') });

/** PATCH .../{id}/alerts, and the rule's alerts field. */
export const AlertsSchema = z.strictObject({
  failure_rate_percent: z.number().min(0).max(100).nullable().optional().describe('Alert when more than this share of its runs fail; null: no alert'),
  no_runs_hours: z.number().int().min(1).max(8760).nullable().optional().describe('Alert when it has not run for this many hours; null: no alert'),
});

const Rollout = z.number().int().min(0).max(100);

const RuleFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  active: z.boolean().optional(),
  trigger: Trigger,
  conditions: Conditions.default({ all: [], any: [] }),
  actions: z.array(ActionSchema).min(1).max(20),
  schedule: ScheduleSchema.nullable().optional(),
  rollout_percent: Rollout.optional(),
  alerts: AlertsSchema.optional(),
};

/** POST /api/automation/rules */
export const CreateRuleBody = z.strictObject(RuleFields);

/** PATCH /api/automation/rules/{id}: any fields; `version` refuses a concurrent edit. */
export const UpdateRuleBody = z
  .strictObject({
    name: RuleFields.name.optional(),
    description: RuleFields.description,
    active: z.boolean().optional(),
    trigger: Trigger.optional(),
    conditions: Conditions.optional(),
    actions: RuleFields.actions.optional(),
    schedule: RuleFields.schedule,
    rollout_percent: Rollout.optional(),
    alerts: AlertsSchema.optional(),
    version: z.number().int().min(1).optional().describe('The version you read; 409 when the rule changed since'),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'version'), 'send at least one field to change');

/** GET /api/automation/rules */
export const ListRulesQuery = PageQuery.extend({
  active: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  event: z.string().max(100).optional().describe('Only rules triggered by this event type'),
});

/** A page of rules. */
export const RulePage = pageOf(AutomationRuleBody);

/** POST .../{id}/snooze */
export const SnoozeBody = z.strictObject({ until: Timestamp.describe('RFC 3339; must be in the future') });

/** POST /api/automation/rules/snooze */
export const SnoozeManyBody = z.strictObject({ rule_ids: z.array(Id).min(1).max(100), until: Timestamp });

/** The answer of snoozing many. */
export const SnoozeManyResult = z.object({ snoozed: z.array(AutomationRuleBody), not_found: z.array(z.uuid()) });

/** POST /api/automation/rules/dry-run: a stored rule or one given whole, against a payload. */
export const DryRunRequest = z
  .strictObject({
    rule_id: Id.optional(),
    rule: z.strictObject({ trigger: Trigger.optional(), conditions: Conditions.default({ all: [], any: [] }), actions: z.array(ActionSchema).max(20).default([]) }).optional(),
    event_type: z.string().max(100).optional().describe('Default: the rule’s first trigger event'),
    payload: z.record(z.string(), z.unknown()).describe('{ conversation, contact, message, tenant } parts as conditions see them (each optional), plus anything payload.<path> reads'),
  })
  .refine((b) => Boolean(b.rule_id) !== Boolean(b.rule), 'give either rule_id or rule');

/** PATCH .../{id}/rollout */
export const RolloutBody = z.strictObject({ rollout_percent: Rollout });

/** GET .../{id}/state */
export const RuleStateQuery = z.strictObject({ conversation_id: Id.optional().describe('Also say whether the rollout covers this conversation') });

/** GET .../{id}/schedule/preview */
export const SchedulePreviewQuery = z.strictObject({ count: z.coerce.number().int().min(1).max(50).default(5) });

/** PATCH /api/automation/control */
export const UpdateControlBody = z
  .strictObject({
    paused: z.boolean().optional(),
    dry_run: z.boolean().optional(),
    max_actions_per_minute: z.number().int().min(1).max(100_000).optional(),
    max_chain_depth: z.number().int().min(1).max(10).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change');
