/** Automation (rules and control): the rules the engine evaluates on the event stream, and the organization's global switches. */
import { presentPage } from '../../presenters/page.js';
import { presentAutomationControl, presentAutomationRule, presentDryRun, presentRuleState } from '../../presenters/automation-rule.js';
import { acting } from '../../services/agents.js';
import {
  createRule,
  deleteRule,
  dryRunRule,
  getControl,
  getRule,
  getRuleState,
  listRules,
  listSnoozedRules,
  previewRuleSchedule,
  setRuleAlerts,
  setRuleRollout,
  setRuleSchedule,
  snoozeRule,
  snoozeRules,
  toggleRule,
  unsnoozeRule,
  updateControl,
  updateRule,
} from '../../services/automation-rules.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, PageQuery } from '../schemas/common.js';
import {
  AlertsSchema,
  AutomationControlBody,
  AutomationRuleBody,
  CreateRuleBody,
  DryRunBody,
  DryRunRequest,
  ListRulesQuery,
  RolloutBody,
  RulePage,
  RuleStateBody,
  RuleStateQuery,
  ScheduleSchema,
  SchedulePreviewBody,
  SchedulePreviewQuery,
  SnoozeBody,
  SnoozeManyBody,
  SnoozeManyResult,
  UpdateControlBody,
  UpdateRuleBody,
} from './automation-rules.schema.js';
import { z } from 'zod';

const TARGETS_422 = 'An action names an agent, division or outgoing webhook the organization does not have or cannot use; the message names actions[i]';
const audit = (action: string) => ({ action: `automation_rule.${action}`, resource: 'automation_rule' });

/** The Automation group's rules and control routes. */
export const automationRuleRoutes: RouteGroup = {
  group: 'Automation',
  routes: [
    route({
      method: 'get',
      path: '/api/automation/rules',
      summary: 'List automation rules',
      description: 'Newest first; deleted rules are left out.',
      access: 'automation.view',
      query: ListRulesQuery,
      response: RulePage,
      handler: async ({ query, principal }) => presentPage(await listRules({ ...acting(principal), ...query }), presentAutomationRule),
    }),
    route({
      method: 'post',
      path: '/api/automation/rules',
      summary: 'Create an automation rule',
      description:
        'A trigger (domain event types), conditions (`all` must all hold, and one of `any` when given) and ordered actions. Conditions are checked on write: unknown fields, operators, ' +
        'values of the wrong kind and regex patterns RE2 cannot run are a 400 naming conditions.all[i] / conditions.any[i]; action parameters are a 400 naming actions.<i>.params.<field>.',
      access: 'automation.manage',
      body: CreateRuleBody,
      response: AutomationRuleBody,
      status: 201,
      errors: { 422: TARGETS_422 },
      audit: audit('created'),
      handler: async ({ body, principal }) => presentAutomationRule(await createRule({ ...acting(principal), fields: body })),
    }),
    route({
      method: 'get',
      path: '/api/automation/rules/snoozed',
      summary: 'List snoozed automation rules',
      description: 'Rules snoozed until after now, the soonest to wake first.',
      access: 'automation.view',
      query: PageQuery,
      response: RulePage,
      handler: async ({ query, principal }) => presentPage(await listSnoozedRules({ ...acting(principal), ...query }), presentAutomationRule),
    }),
    route({
      method: 'post',
      path: '/api/automation/rules/snooze',
      summary: 'Snooze multiple automation rules',
      description: 'Each rule is snoozed until `until`; ids that are not rules of the organization are answered in `not_found`.',
      access: 'automation.manage',
      body: SnoozeManyBody,
      response: SnoozeManyResult,
      audit: { ...audit('snoozed'), target: () => null },
      handler: async ({ body, principal }) => {
        const r = await snoozeRules({ ...acting(principal), ids: body.rule_ids, until: new Date(body.until) });
        return { snoozed: r.snoozed.map(presentAutomationRule), not_found: r.notFound };
      },
    }),
    route({
      method: 'post',
      path: '/api/automation/rules/dry-run',
      summary: 'Dry-run an automation rule against a test payload',
      description: 'Evaluates a stored rule (`rule_id`) or one given whole (`rule`) against `payload`: every condition with the value it saw and its result, and the actions it would take. Nothing is changed or recorded.',
      access: 'automation.manage',
      body: DryRunRequest,
      response: DryRunBody,
      errors: { 404: 'rule_id names no rule of the organization' },
      audit: 'none',
      handler: async ({ body, principal }) => {
        const r = await dryRunRule({ ...acting(principal), ruleId: body.rule_id, rule: body.rule, eventType: body.event_type, payload: body.payload });
        return presentDryRun(r.ruleId, r.eventType, r.matched, r.conditions, r.actions, r.state && r.ruleId ? presentRuleState(r.ruleId, r.state.state, r.state.at) : null);
      },
    }),
    route({
      method: 'get',
      path: '/api/automation/rules/{id}',
      summary: 'Get an automation rule by ID',
      access: 'automation.view',
      params: IdParams,
      response: AutomationRuleBody,
      handler: async ({ params, principal }) => presentAutomationRule(await getRule({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'patch',
      path: '/api/automation/rules/{id}',
      summary: 'Update an automation rule',
      description: 'Any fields; each change moves `version` by one. With `version` (the one you read) a concurrent change is a 409 instead of being overwritten.',
      access: 'automation.manage',
      params: IdParams,
      body: UpdateRuleBody,
      response: AutomationRuleBody,
      errors: { 409: 'The rule changed since the `version` given', 422: TARGETS_422 },
      audit: audit('updated'),
      handler: async ({ params, body, principal }) => {
        const { version, ...fields } = body;
        return presentAutomationRule(await updateRule({ ...acting(principal), id: params.id, fields, expectedVersion: version }));
      },
    }),
    route({
      method: 'delete',
      path: '/api/automation/rules/{id}',
      summary: 'Delete an automation rule',
      description: 'It stops running at once; its runs are kept.',
      access: 'automation.manage',
      params: IdParams,
      response: AutomationRuleBody,
      audit: audit('deleted'),
      handler: async ({ params, principal }) => presentAutomationRule(await deleteRule({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'post',
      path: '/api/automation/rules/{id}/toggle',
      summary: 'Toggle automation rule active state',
      access: 'automation.manage',
      params: IdParams,
      response: AutomationRuleBody,
      audit: audit('toggled'),
      handler: async ({ params, principal }) => presentAutomationRule(await toggleRule({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'post',
      path: '/api/automation/rules/{id}/snooze',
      summary: 'Snooze an automation rule until a given time',
      access: 'automation.manage',
      params: IdParams,
      body: SnoozeBody,
      response: AutomationRuleBody,
      audit: audit('snoozed'),
      handler: async ({ params, body, principal }) => presentAutomationRule(await snoozeRule({ ...acting(principal), id: params.id, until: new Date(body.until) })),
    }),
    route({
      method: 'post',
      path: '/api/automation/rules/{id}/unsnooze',
      summary: 'Unsnooze an automation rule',
      access: 'automation.manage',
      params: IdParams,
      response: AutomationRuleBody,
      errors: { 422: 'The rule is not snoozed' },
      audit: audit('unsnoozed'),
      handler: async ({ params, principal }) => presentAutomationRule(await unsnoozeRule({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'get',
      path: '/api/automation/rules/{id}/state',
      summary: 'Get the effective state of an automation rule',
      description: 'Whether it would run now, and every reason it would not: disabled, snoozed, outside its schedule window, rollout (with ?conversation_id: whether that conversation is covered), global pause.',
      access: 'automation.view',
      params: IdParams,
      query: RuleStateQuery,
      response: RuleStateBody,
      handler: async ({ params, query, principal }) => {
        const { state, at } = await getRuleState({ ...acting(principal), id: params.id, conversationId: query.conversation_id });
        return presentRuleState(params.id, state, at);
      },
    }),
    route({
      method: 'patch',
      path: '/api/automation/rules/{id}/alerts',
      summary: 'Update alert settings for an automation rule',
      access: 'automation.manage',
      params: IdParams,
      body: AlertsSchema,
      response: AutomationRuleBody,
      audit: audit('alerts_updated'),
      handler: async ({ params, body, principal }) => presentAutomationRule(await setRuleAlerts({ ...acting(principal), id: params.id, alerts: body })),
    }),
    route({
      method: 'patch',
      path: '/api/automation/rules/{id}/schedule',
      summary: 'Update schedule settings for an automation rule',
      description: 'Weekly windows (ISO weekdays, HH:mm in the organization’s zone or `time_zone`; an end before the start runs past midnight); `schedule: null` runs it at any time.',
      access: 'automation.manage',
      params: IdParams,
      body: z.strictObject({ schedule: ScheduleSchema.nullable() }),
      response: AutomationRuleBody,
      audit: audit('schedule_updated'),
      handler: async ({ params, body, principal }) => presentAutomationRule(await setRuleSchedule({ ...acting(principal), id: params.id, schedule: body.schedule })),
    }),
    route({
      method: 'patch',
      path: '/api/automation/rules/{id}/rollout',
      summary: 'Update rollout percentage for an automation rule',
      description: 'The rule runs for this share of conversations, chosen by a hash of rule and conversation id: the same conversation always falls on the same side.',
      access: 'automation.manage',
      params: IdParams,
      body: RolloutBody,
      response: AutomationRuleBody,
      audit: audit('rollout_updated'),
      handler: async ({ params, body, principal }) => presentAutomationRule(await setRuleRollout({ ...acting(principal), id: params.id, percent: body.rollout_percent })),
    }),
    route({
      method: 'get',
      path: '/api/automation/rules/{id}/schedule/preview',
      summary: 'Preview upcoming schedule windows for an automation rule',
      access: 'automation.view',
      params: IdParams,
      query: SchedulePreviewQuery,
      response: SchedulePreviewBody,
      errors: { 422: 'The rule has no schedule' },
      handler: async ({ params, query, principal }) => {
        const p = await previewRuleSchedule({ ...acting(principal), id: params.id, count: query.count });
        return { rule_id: params.id, time_zone: p.zone, windows: p.windows };
      },
    }),
    route({
      method: 'get',
      path: '/api/automation/control',
      summary: 'Get global automation control state',
      access: 'automation.view',
      response: AutomationControlBody,
      handler: async ({ principal }) => presentAutomationControl(await getControl(acting(principal))),
    }),
    route({
      method: 'patch',
      path: '/api/automation/control',
      summary: 'Update global automation control state',
      description: 'Pause all rules (queued events wait), dry-run mode (runs recorded, no action taken), actions per minute for the organization, and the chain depth at which rule-caused events stop.',
      access: 'automation.manage',
      body: UpdateControlBody,
      response: AutomationControlBody,
      audit: { action: 'automation_control.updated', resource: 'automation_control', target: () => null },
      handler: async ({ body, principal }) => presentAutomationControl(await updateControl({ ...acting(principal), set: body })),
    }),
  ],
};
