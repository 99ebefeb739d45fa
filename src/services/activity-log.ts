/** Records and lists activity log entries. */
import type { Principal, SuperAdminPrincipal } from '../auth/principal.js';
import { activityLogs, type ActivityLog } from '../models/activity-log.js';
import type { Page, Scoped } from '../models/repo.js';
import { newId } from '../ids.js';

// An OAuth authorization `code` and a WhatsApp two-step verification `pin` are credentials too.
const SECRET_FIELD = /password|secret|token|api_key|^(code|pin)$/i;

/** Drops secrets from a request body before it is kept as details. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? '[redacted]' : redact(v)]),
    );
  }
  return value;
}

/** What one activity entry says. */
export interface RecordActivity {
  tenantId: string;
  /** Who acted; null for the system or an anonymous caller. */
  actor: Principal | SuperAdminPrincipal | { userId: string; userName: string } | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  details?: unknown;
  ip?: string | null;
  userAgent?: string | null;
}

/** Who an entry names as its actor. */
type ActorFields = Pick<ActivityLog, 'actor_type' | 'actor_id' | 'actor_name' | 'impersonator_id'> & { apiKeyId?: string | undefined };

function actorFields(actor: RecordActivity['actor']): ActorFields {
  if (!actor) return { actor_type: 'system', actor_id: null, actor_name: null, impersonator_id: null };
  // A super admin's own action on the tenant (a suspension, a password reset), not an impersonation.
  if ('realm' in actor) return { actor_type: 'super_admin', actor_id: actor.superAdminId, actor_name: actor.name, impersonator_id: null };
  const viaKey = 'via' in actor && actor.via === 'api_key';
  return {
    actor_type: viaKey ? 'api_key' : 'user',
    actor_id: actor.userId,
    actor_name: actor.userName,
    impersonator_id: 'impersonatorId' in actor ? (actor.impersonatorId ?? null) : null,
    apiKeyId: viaKey && 'apiKeyId' in actor ? actor.apiKeyId : undefined,
  };
}

/** Appends one entry. */
export async function recordActivity(cmd: RecordActivity): Promise<void> {
  const { apiKeyId, ...actor } = actorFields(cmd.actor);
  await activityLogs.insert({
    _id: newId(),
    tenant_id: cmd.tenantId,
    ...actor,
    action: cmd.action,
    resource_type: cmd.resourceType,
    resource_id: cmd.resourceId,
    details: {
      ...(cmd.details === undefined ? {} : { changes: redact(cmd.details) }),
      ...(apiKeyId ? { api_key_id: apiKeyId } : {}),
    },
    ip: cmd.ip ?? null,
    user_agent: cmd.userAgent ?? null,
  });
}

/** Filters for the activity log list. */
export interface ListActivity {
  tenantId: string;
  actorId?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  from?: Date;
  to?: Date;
  page: number;
  limit: number;
}

/** One page of entries, newest first. */
export function listActivity(q: ListActivity): Promise<Page<ActivityLog>> {
  const filter: Scoped = { tenant_id: q.tenantId };
  if (q.actorId) filter.actor_id = q.actorId;
  if (q.action) filter.action = q.action;
  if (q.resourceType) filter.resource_type = q.resourceType;
  if (q.resourceId) filter.resource_id = q.resourceId;
  if (q.from || q.to) {
    filter.created_at = { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lte: q.to } : {}) };
  }
  return activityLogs.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}
