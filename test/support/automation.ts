/** Automation fixtures shared by tests and the bench: a stored rule as the rules API would keep it. */
import { randomUUID } from 'node:crypto';
import type { AutomationRule } from '../../src/models/automation-rule.js';

/** A live, active rule of `tenantId` on message.created (a WhatsApp condition, one add_tags action), with `over` applied. */
export function buildAutomationRule(tenantId: string, over: Partial<AutomationRule> = {}): AutomationRule {
  const now = new Date();
  return {
    _id: randomUUID(),
    tenant_id: tenantId,
    name: `Rule ${randomUUID().slice(0, 6)}`,
    description: null,
    active: true,
    version: 1,
    trigger: { events: ['message.created'], schedule: null },
    conditions: { all: [{ field: 'conversation.channel', op: 'equals', value: 'whatsapp' }], any: [] },
    actions: [{ type: 'add_tags', params: { tags: ['vip'] } }],
    snoozed_until: null,
    schedule: null,
    rollout_percent: 100,
    alerts: { failure_rate_percent: null, no_runs_hours: null },
    created_by: null,
    deleted_at: null,
    created_at: now,
    updated_at: now,
    ...over,
  };
}
