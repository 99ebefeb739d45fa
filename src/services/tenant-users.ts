/**
 * The platform operator's actions on a tenant's users: list, reset a password, suspend,
 * activate. Each ends or re-checks the user's credentials like the tenant's own admin changes
 * do (services/agents.ts): sessions revoked in MongoDB, sockets told on every process.
 */
import { revokeUserSessions } from '../models/auth-session.js';
import type { Page } from '../models/repo.js';
import { users, type User } from '../models/user.js';
import { StateError } from '../errors.js';
import { getAgent, listAgents, type AgentView } from './agents.js';
import { serveAssignmentQueue } from './auto-assignment.js';
import { hashPassword } from './passwords.js';
import { getTenant } from './platform-tenants.js';
import { announceSessionChange } from './session-changes.js';

/** List a tenant's users. */
export interface ListTenantUsers {
  tenantId: string;
  q?: string | undefined;
  page: number;
  limit: number;
}

/** One page of the tenant's live users, by name; 404 for an unknown tenant. */
export async function listTenantUsers(q: ListTenantUsers): Promise<Page<AgentView>> {
  await getTenant(q.tenantId);
  return listAgents({ tenantId: q.tenantId, ...(q.q ? { q: q.q } : {}), page: q.page, limit: q.limit });
}

/** One user of one tenant. */
export interface TenantUserRef {
  tenantId: string;
  userId: string;
}

async function liveUser(ref: TenantUserRef): Promise<User> {
  await getTenant(ref.tenantId);
  const user = await users.findOwned(ref.tenantId, ref.userId);
  if (user.deleted_at) throw StateError('This user is deleted');
  return user;
}

/** Ends every session of the user and tells their sockets, on every process. */
async function endSessions(ref: TenantUserRef): Promise<void> {
  await revokeUserSessions(ref.tenantId, ref.userId, null, new Date());
  await announceSessionChange({ tenantId: ref.tenantId, userIds: [ref.userId] });
}

/** Sets a new password and ends every session of the user. */
export async function resetTenantUserPassword(cmd: TenantUserRef & { password: string }): Promise<AgentView> {
  await liveUser(cmd);
  await users.update(cmd.tenantId, cmd.userId, { password_hash: await hashPassword(cmd.password) });
  await endSessions(cmd);
  return getAgent(cmd.tenantId, cmd.userId);
}

/** Deactivates the user (offline, sessions ended; API keys stop while inactive); suspending a suspended user changes nothing. */
export async function suspendTenantUser(cmd: TenantUserRef): Promise<AgentView> {
  const user = await liveUser(cmd);
  if (user.is_active) {
    const offline = user.status === 'offline' ? {} : { status: 'offline' as const, status_changed_at: new Date() };
    await users.update(cmd.tenantId, cmd.userId, { is_active: false, ...offline });
    await endSessions(cmd);
  }
  return getAgent(cmd.tenantId, cmd.userId);
}

/** Reactivates the user: they sign in again (old sessions stay ended) and may take conversations. */
export async function activateTenantUser(cmd: TenantUserRef): Promise<AgentView> {
  const user = await liveUser(cmd);
  if (!user.is_active) {
    await users.update(cmd.tenantId, cmd.userId, { is_active: true });
    await announceSessionChange({ tenantId: cmd.tenantId, userIds: [cmd.userId] });
    await serveAssignmentQueue(cmd.tenantId);
  }
  return getAgent(cmd.tenantId, cmd.userId);
}
