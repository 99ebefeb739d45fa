/**
 * SLA policies: first-response and resolution targets for the conversations a policy's scope
 * matches (channels, divisions, tags). Which one applies when several match is decided in
 * services/sla-policies.ts (lowest `priority`, then oldest).
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored SLA policy. */
export interface SlaPolicy extends TenantDoc {
  name: string;
  description: string;
  is_active: boolean;
  /** Lower runs first when several policies match a conversation. */
  priority: number;
  /** Minutes from the conversation's start to the first agent (or AI) reply; null: no target. */
  first_response_minutes: number | null;
  /** Minutes from the conversation's start to resolved or closed; null: no target. */
  resolution_minutes: number | null;
  /** Count only the tenant's working hours (the conversation's division override if it has one). */
  business_hours_only: boolean;
  /** Channels it applies to; empty: every channel. */
  channels: string[];
  /** Divisions it applies to; empty: any division, or none. */
  division_ids: string[];
  /** Applies when the conversation carries any of these tags; empty: whatever its tags. */
  tags: string[];
}

const schema = baseSchema<SlaPolicy>(
  {
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    is_active: { type: Boolean, required: true },
    priority: { type: Number, required: true },
    first_response_minutes: { type: Number, default: null },
    resolution_minutes: { type: Number, default: null },
    business_hours_only: { type: Boolean, required: true },
    channels: { type: [String], default: [] },
    division_ids: { type: [String], default: [] },
    tags: { type: [String], default: [] },
  },
  'sla_policies',
);
// Serves the list (by priority) and the clock's "which policies could apply" read.
schema.index({ tenant_id: 1, priority: 1, created_at: 1, _id: 1 });

/** The sla_policies collection. */
export const SlaPolicyModel = model<SlaPolicy>('SlaPolicy', schema);

/** Tenant-scoped access to SLA policies. */
export const slaPolicies = tenantRepo(SlaPolicyModel, 'SLA policy');
