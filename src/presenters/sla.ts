/** SLA policies, breaches and a conversation's SLA status, as the API and `sla.breached` show them. */
import { z } from 'zod';
import type { SlaPolicy } from '../models/sla-policy.js';
import type { SlaBreach, SlaClock, SlaRecord } from '../models/sla-record.js';
import { iso } from './page.js';

/** The SLA policy JSON shape. */
export const SlaPolicyBody = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  is_active: z.boolean(),
  priority: z.number().int().describe('Lower applies first when several policies match; ties go to the oldest policy'),
  first_response_minutes: z.number().int().nullable().describe('Minutes to the first agent or AI reply; null: no first-response target'),
  resolution_minutes: z.number().int().nullable().describe('Minutes to resolved or closed; null: no resolution target'),
  business_hours_only: z.boolean().describe('Count only working hours (tenant time zone, the division override when there is one)'),
  channels: z.array(z.string()).describe('Applies to these channels; empty: all'),
  division_ids: z.array(z.uuid()).describe('Applies to conversations of these divisions; empty: any'),
  tags: z.array(z.string()).describe('Applies when the conversation has one of these tags; empty: any'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a policy. */
export function presentSlaPolicy(p: SlaPolicy): z.infer<typeof SlaPolicyBody> {
  return {
    id: p._id,
    name: p.name,
    description: p.description,
    is_active: p.is_active,
    priority: p.priority,
    first_response_minutes: p.first_response_minutes,
    resolution_minutes: p.resolution_minutes,
    business_hours_only: p.business_hours_only,
    channels: [...p.channels],
    division_ids: [...p.division_ids],
    tags: [...p.tags],
    created_at: iso(p.created_at) as string,
    updated_at: iso(p.updated_at) as string,
  };
}

const Target = z.enum(['first_response', 'resolution']);

/** The breach JSON shape. */
export const SlaBreachBody = z.object({
  id: z.uuid(),
  policy_id: z.uuid(),
  conversation_id: z.uuid(),
  target: Target,
  target_minutes: z.number().int(),
  due_at: z.iso.datetime(),
  breached_at: z.iso.datetime().describe('When it was recorded: by the sweeper after due_at, or at a late reply or resolution'),
});

/** Shapes a breach. */
export function presentSlaBreach(b: SlaBreach): z.infer<typeof SlaBreachBody> {
  return {
    id: b._id,
    policy_id: b.policy_id,
    conversation_id: b.conversation_id,
    target: b.target,
    target_minutes: b.target_minutes,
    due_at: iso(b.due_at) as string,
    breached_at: iso(b.breached_at) as string,
  };
}

/** `sla.breached`'s data: the breach and the policy's name. */
export const presentSlaBreachEvent = (b: SlaBreach, policyName: string | null) => ({ ...presentSlaBreach(b), policy_name: policyName });

const ClockBody = z.object({
  status: z.enum(['active', 'paused', 'met', 'breached', 'stopped']).describe('active: running, not yet due or about to be swept; stopped: the conversation ended without meeting it'),
  target_minutes: z.number().int(),
  due_at: z.iso.datetime().nullable().describe('null while paused, or when the working hours never reach the target'),
  met_at: z.iso.datetime().nullable(),
  breached_at: z.iso.datetime().nullable(),
});

/** A conversation's SLA status. */
export const ConversationSlaBody = z.object({
  conversation_id: z.uuid(),
  policy: z.object({ id: z.uuid(), name: z.string() }).nullable().describe('The policy in force; null when none applies'),
  state: z.enum(['none', 'running', 'paused', 'stopped']).describe('paused while the conversation is pending; stopped once resolved, closed or expired'),
  business_hours_only: z.boolean(),
  paused_ms: z.number().int().describe('Paused time so far, in milliseconds'),
  first_response: ClockBody.nullable(),
  resolution: ClockBody.nullable(),
  updated_at: z.iso.datetime().nullable(),
});

function presentClock(c: SlaClock | null, state: SlaRecord['state']): z.infer<typeof ClockBody> | null {
  if (!c) return null;
  const status = c.breached_at ? 'breached' : c.met_at ? 'met' : state === 'running' ? 'active' : state;
  return { status, target_minutes: c.target_minutes, due_at: iso(c.due_at), met_at: iso(c.met_at), breached_at: iso(c.breached_at) };
}

/** Shapes a conversation's SLA record (null: no policy ever applied to it), as of `now`. */
export function presentConversationSla(conversationId: string, r: SlaRecord | null, now: Date): z.infer<typeof ConversationSlaBody> {
  if (!r || !r.policy_id) {
    return { conversation_id: conversationId, policy: null, state: 'none', business_hours_only: false, paused_ms: 0, first_response: null, resolution: null, updated_at: iso(r?.updated_at) };
  }
  const paused = r.pauses.reduce((sum, p) => sum + ((p.to ? new Date(p.to).getTime() : now.getTime()) - new Date(p.from).getTime()), 0);
  return {
    conversation_id: conversationId,
    policy: { id: r.policy_id, name: r.policy_name ?? '' },
    state: r.state,
    business_hours_only: r.business_hours_only,
    paused_ms: Math.max(0, Math.round(paused)),
    first_response: presentClock(r.first_response, r.state),
    resolution: presentClock(r.resolution, r.state),
    updated_at: iso(r.updated_at),
  };
}
