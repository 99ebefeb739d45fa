/** The activity log: who did what to which resource, when. Append-only. */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored activity log entry. */
export interface ActivityLog extends TenantDoc {
  /** super_admin: a platform operator acting on the tenant (not impersonating). */
  actor_type: 'user' | 'api_key' | 'system' | 'super_admin';
  actor_id: string | null;
  actor_name: string | null;
  /** The super-admin acting through impersonation, if any. */
  impersonator_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  user_agent: string | null;
}

const schema = baseSchema<ActivityLog>(
  {
    tenant_id: { type: String, required: true },
    actor_type: { type: String, required: true },
    actor_id: { type: String, default: null },
    actor_name: { type: String, default: null },
    impersonator_id: { type: String, default: null },
    action: { type: String, required: true },
    resource_type: { type: String, required: true },
    resource_id: { type: String, default: null },
    details: { type: Object, default: {} },
    ip: { type: String, default: null },
    user_agent: { type: String, default: null },
  },
  'activity_logs',
);
// Serves the newest-first list and its filters.
schema.index({ tenant_id: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, actor_id: 1, created_at: -1 });
schema.index({ tenant_id: 1, resource_type: 1, resource_id: 1, created_at: -1 });

/** The activity_logs collection. */
export const ActivityLogModel = model<ActivityLog>('ActivityLog', schema);

/** Tenant-scoped access to the activity log. */
export const activityLogs = tenantRepo(ActivityLogModel, 'Activity log');
