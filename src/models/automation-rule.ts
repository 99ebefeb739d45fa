/**
 * Automation rules: a trigger (domain event types, or a schedule), condition groups and ordered
 * actions. `version` moves by one per change and every write is a compare-and-set on it, so two
 * concurrent edits cannot silently overwrite each other and a run can record which version it
 * evaluated. Deleting sets `deleted_at` (runs keep pointing at the rule); deleted rules answer 404.
 */
import { model, Schema } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** Condition operators. `gt`/`lt` compare numbers (or RFC 3339 times); `regex` runs on a linear-time engine. */
export const CONDITION_OPS = ['equals', 'not_equals', 'contains', 'not_contains', 'in', 'not_in', 'exists', 'not_exists', 'gt', 'lt', 'regex'] as const;

/** A condition operator. */
export type ConditionOp = (typeof CONDITION_OPS)[number];

/** One condition: `field` (a dotted path such as `conversation.channel`, see services/automation-conditions.ts) `op` `value`. */
export interface Condition {
  field: string;
  op: ConditionOp;
  /** Absent for exists/not_exists; an array for in/not_in. */
  value?: unknown;
}

/** Both groups must hold: every `all` condition, and at least one `any` condition when there are some. */
export interface ConditionGroups {
  all: Condition[];
  any: Condition[];
}

/** Action types, run in the rule's order. */
export const ACTION_TYPES = [
  'assign_agent',
  'assign_division',
  'auto_assign',
  'add_tags',
  'remove_tags',
  'set_status',
  'transfer',
  'send_message',
  'send_template',
  'add_note',
  'call_webhook',
  'hand_to_ai',
  'hand_to_human',
  'snooze_conversation',
] as const;

/** An action type. */
export type ActionType = (typeof ACTION_TYPES)[number];

/** One action and its parameters (validated per type on write, see services/automation-actions.ts). */
export interface Action {
  type: ActionType;
  params: Record<string, unknown>;
}

/** What starts evaluation: domain event types, or a schedule (cron-like every N minutes). */
export interface Trigger {
  events: string[];
  /** For scheduled rules: evaluated every `every_minutes`; null for event-triggered rules. */
  schedule?: { every_minutes: number } | null;
}

/** A weekly window in which a rule may run; days are ISO weekdays (1 = Monday ... 7 = Sunday). */
export interface ScheduleWindow {
  days: number[];
  /** 'HH:mm', inclusive. */
  start: string;
  /** 'HH:mm', exclusive; earlier than `start` means the window runs past midnight. */
  end: string;
}

/** When a rule may run; null: always. */
export interface RuleSchedule {
  windows: ScheduleWindow[];
  /** IANA zone; absent or null: the tenant's zone. */
  time_zone?: string | null;
}

/** Per-rule alert thresholds the alerts stats report on; null: no alert. */
export interface RuleAlerts {
  failure_rate_percent: number | null;
  no_runs_hours: number | null;
}

/** A stored rule. */
export interface AutomationRule extends TenantDoc {
  name: string;
  description: string | null;
  active: boolean;
  /** +1 per change; writes are compare-and-set on it. */
  version: number;
  trigger: Trigger;
  conditions: ConditionGroups;
  actions: Action[];
  /** Not run before this time; null when not snoozed. */
  snoozed_until: Date | null;
  schedule: RuleSchedule | null;
  /** 0-100: the share of conversations (by a hash of the conversation id) the rule runs for. */
  rollout_percent: number;
  alerts: RuleAlerts;
  created_by: string | null;
  deleted_at: Date | null;
}

const schema = baseSchema<AutomationRule>(
  {
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: null },
    active: { type: Boolean, required: true },
    version: { type: Number, required: true },
    trigger: { type: Schema.Types.Mixed, required: true },
    conditions: { type: Schema.Types.Mixed, required: true },
    actions: { type: [Schema.Types.Mixed], default: [] },
    snoozed_until: { type: Date, default: null },
    schedule: { type: Schema.Types.Mixed, default: null },
    rollout_percent: { type: Number, default: 100 },
    alerts: { type: Schema.Types.Mixed, default: () => ({ failure_rate_percent: null, no_runs_hours: null }) },
    created_by: { type: String, default: null },
    deleted_at: { type: Date, default: null },
  },
  'automation_rules',
);
// The rules list (newest first) and the worker's "live rules of this tenant triggered by this event type".
schema.index({ tenant_id: 1, deleted_at: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, deleted_at: 1, 'trigger.events': 1, created_at: 1, _id: 1 });
// The sweep's scheduled rules (every tenant's active ones with a schedule trigger).
schema.index({ active: 1, 'trigger.schedule.every_minutes': 1 });
// The snoozed list: rules snoozed until after now, soonest first.
schema.index({ tenant_id: 1, snoozed_until: 1, _id: 1 });

/** The automation_rules collection. */
export const AutomationRuleModel = model<AutomationRule>('AutomationRule', schema);

/** Tenant-scoped access to rules (including deleted ones: check `deleted_at`). */
export const automationRules = tenantRepo(AutomationRuleModel, 'Automation rule');

/** The tenant's rule, or null when missing, deleted or another tenant's. */
export async function findLiveRule(tenantId: string, id: string): Promise<AutomationRule | null> {
  const rule = await automationRules.findOwnedOrNull(tenantId, id);
  return rule && !rule.deleted_at ? rule : null;
}

/** The tenant's live (not deleted) rules triggered by `eventType`, oldest first (their order of evaluation). */
export const rulesTriggeredBy = (tenantId: string, eventType: string) =>
  AutomationRuleModel.find({ tenant_id: tenantId, deleted_at: null, 'trigger.events': eventType }).sort({ created_at: 1, _id: 1 }).lean<AutomationRule[]>().exec();

/**
 * Applies `set` to the rule if it is still at `version`, moving it to version + 1; the rule as
 * stored, or null when it changed meanwhile (or is gone or deleted).
 */
export async function updateRuleIfVersion(tenantId: string, id: string, version: number, set: Partial<AutomationRule>): Promise<AutomationRule | null> {
  const doc = await collectionOf(AutomationRuleModel).findOneAndUpdate(
    { _id: id, tenant_id: tenantId, version, deleted_at: null },
    { $set: { ...set, version: version + 1, updated_at: new Date() } },
    { returnDocument: 'after' },
  );
  return (doc as unknown as AutomationRule | null) ?? null;
}

/** Up to `limit` active live rules with a schedule trigger, every tenant. */
export const scheduledRules = (limit: number) =>
  AutomationRuleModel.find({ active: true, 'trigger.schedule.every_minutes': { $gte: 1 }, deleted_at: null }).limit(limit).lean<AutomationRule[]>().exec();

/** The event type of queue items a rule's schedule makes (no domain event behind them). */
export const SCHEDULE_EVENT = 'automation.schedule';
