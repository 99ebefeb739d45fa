/**
 * A super admin acting as a tenant's admin or user. The token is a tenant session token with
 * the super admin's id in its `imp` claim, lasting IMPERSONATION_MINUTES; every call made with
 * it is recorded in the tenant's activity log with that id (src/http/mount.ts), and it cannot
 * reach the super-admin realm nor reveal secrets (API keys and webhook secrets refuse it).
 */
import { adminRoleId } from '../../actors/tenant/admins.js';
import type { SuperAdminPrincipal } from '../auth/principal.js';
import { StateError } from '../errors.js';
import type { Tenant } from '../models/tenant.js';
import { users, type User } from '../models/user.js';
import { getTenant } from './platform-tenants.js';
import { issueToken, type IssuedToken } from './tokens.js';

/** How long an impersonation token lasts; refreshing it does not extend it. */
export const IMPERSONATION_MINUTES = 15;

/** An impersonation session. */
export interface Impersonation extends IssuedToken {
  user: User;
  tenant: Tenant;
}

/** Impersonate a tenant user (the tenant's first active admin when `userId` is absent). */
export interface Impersonate {
  actor: SuperAdminPrincipal;
  tenantId: string;
  userId?: string;
}

/** Opens the session; 404 for an unknown tenant or user, 422 for a suspended tenant or an inactive user. */
export async function impersonate(cmd: Impersonate): Promise<Impersonation> {
  const tenant = await getTenant(cmd.tenantId);
  const user = cmd.userId ? await users.findOwned(tenant._id, cmd.userId) : await firstActiveAdmin(tenant._id);
  if (tenant.status !== 'active') throw StateError('A suspended organization cannot be impersonated; resume it first');
  if (user.deleted_at || !user.is_active) throw StateError('A suspended or deleted user cannot be impersonated');
  const issued = await issueToken(user, cmd.actor.superAdminId, new Date(Date.now() + IMPERSONATION_MINUTES * 60_000));
  return { ...issued, user, tenant };
}

async function firstActiveAdmin(tenantId: string): Promise<User> {
  const [admin] = await users.find({ tenant_id: tenantId, role_id: adminRoleId(tenantId), is_active: true, deleted_at: null }, { created_at: 1, _id: 1 }, 1);
  if (!admin) throw StateError('The organization has no active admin to impersonate');
  return admin;
}
