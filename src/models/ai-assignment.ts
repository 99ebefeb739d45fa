/**
 * Where an AI agent answers: the channels, integration accounts and divisions it covers, and when
 * (always, inside the tenant's working hours, or outside them). Empty lists mean "any". When
 * several agents' assignments cover a message, the highest `priority` wins (ties: the older
 * assignment), so conflicts between agents have one answer (services/ai-routing.ts).
 */
import { model } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** When an assignment applies, by the tenant's (or the conversation's division's) working hours. */
export const ASSIGNMENT_HOURS = ['always', 'working_hours', 'outside_working_hours'] as const;

/** An assignment's hours. */
export type AssignmentHours = (typeof ASSIGNMENT_HOURS)[number];

/** A stored assignment. */
export interface AiAssignment extends TenantDoc {
  ai_agent_id: string;
  /** Channels covered; empty: every channel. */
  channels: ChannelName[];
  /** Integration accounts covered; empty: every account. */
  account_ids: string[];
  /** Divisions covered; empty: any division, or none. */
  division_ids: string[];
  hours: AssignmentHours;
  /** Higher wins when several agents cover a message. */
  priority: number;
  is_active: boolean;
}

const schema = baseSchema<AiAssignment>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    channels: { type: [String], default: [] },
    account_ids: { type: [String], default: [] },
    division_ids: { type: [String], default: [] },
    hours: { type: String, required: true, enum: ASSIGNMENT_HOURS },
    priority: { type: Number, required: true },
    is_active: { type: Boolean, required: true },
  },
  'ai_assignments',
);
// Serves an agent's list (oldest first) and the listener's "active assignments of the tenant, by priority".
schema.index({ tenant_id: 1, ai_agent_id: 1, created_at: 1, _id: 1 });
schema.index({ tenant_id: 1, is_active: 1, priority: -1, created_at: 1 });

/** The ai_assignments collection. */
export const AiAssignmentModel = model<AiAssignment>('AiAssignment', schema);

/** Tenant-scoped access to assignments. */
export const aiAssignments = tenantRepo(AiAssignmentModel, 'AI agent assignment');
