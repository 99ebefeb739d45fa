/**
 * Agents: the tenant's human users. Listing, creation, updates, soft deletion and the
 * online/offline toggle, with the guards an admin console needs: nobody hands out permissions
 * they do not hold, nobody edits an agent who outranks them, and the organization never loses
 * its last active admin.
 */
import { isActiveAdmin } from '../../actors/tenant/admins.js';
import { askTenant } from '../../actors/tenant/index.js';
import type { Principal } from '../auth/principal.js';
import { ConflictError, ForbiddenError, isDuplicateKey, StateError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { apiKeys } from '../models/api-key.js';
import { revokeUserSessions } from '../models/auth-session.js';
import { divisions } from '../models/division.js';
import type { Page, Scoped } from '../models/repo.js';
import { roles, type Role } from '../models/role.js';
import { USER_SEARCHED, users, type User } from '../models/user.js';
import { presentAgent, presentAgentPresence, type AgentExtras } from '../presenters/agent.js';
import { draftEvent, emitEvent } from '../events/publish.js';
import { serveAssignmentQueue } from './auto-assignment.js';
import { EVENTS } from '../events/types.js';
import { agentExtras, agentExtrasOf } from './agent-view.js';
import { addMemberships, divisionIdsOf, memberIdsOf, removeAllOfAgent, removeMemberships } from './division-members.js';
import { hashPassword } from './passwords.js';
import { announceSessionChange } from './session-changes.js';
import { searchFilter } from './text-match.js';

/** A user with what its presentation needs. */
export interface AgentView {
  user: User;
  extras: AgentExtras;
}

/** Who is acting, in which tenant. */
export interface Acting {
  /** The caller's tenant; every read and write is scoped to it. */
  tenantId: string;
  /** The caller, for the permission guards. */
  principal: Principal;
}

/** The command fields of a request made by `principal`, in its own tenant. */
export const acting = (principal: Principal): Acting => ({ tenantId: principal.tenantId, principal });


/** Views of several users, loading their roles and divisions in two queries. */
export async function agentViews(tenantId: string, list: User[]): Promise<AgentView[]> {
  const extras = await agentExtras(tenantId, list);
  return list.map((user) => ({ user, extras: extras.get(user._id) ?? { role: null, divisionIds: [] } }));
}

/** Filters of the agent list. */
export interface ListAgents {
  tenantId: string;
  status?: 'online' | 'offline';
  roleId?: string;
  /** Only members of this division. */
  divisionId?: string;
  /** Part of the name or e-mail, any case. */
  q?: string;
  /** Also list soft-deleted agents. */
  includeDeleted?: boolean;
  page: number;
  limit: number;
}

/** One page of agents, by name. */
export async function listAgents(q: ListAgents): Promise<Page<AgentView>> {
  const filter: Scoped = { tenant_id: q.tenantId };
  if (!q.includeDeleted) filter.deleted_at = null;
  if (q.status) filter.status = q.status;
  if (q.roleId) filter.role_id = q.roleId;
  if (q.divisionId) filter._id = { $in: await memberIdsOf(q.tenantId, q.divisionId) };
  if (q.q) Object.assign(filter, searchFilter([{ text: q.q, fields: USER_SEARCHED }]));
  const page = await users.page(filter, { name: 1, _id: 1 }, q.page, q.limit);
  return { ...page, items: await agentViews(q.tenantId, page.items) };
}

/** One agent, deleted ones included (their name stays visible in conversation history). */
export async function getAgent(tenantId: string, id: string): Promise<AgentView> {
  const user = await users.findOwned(tenantId, id);
  return { user, extras: await agentExtrasOf(user) };
}

/** Several live agents of the tenant by id, or 400 listing the ids that are not. */
export async function requireLiveAgents(tenantId: string, ids: string[], field: string): Promise<User[]> {
  const live = new Map((await users.findMany(tenantId, ids)).filter((u) => !u.deleted_at).map((u) => [u._id, u]));
  const missing = ids.filter((id) => !live.has(id));
  if (missing.length > 0) {
    throw ValidationError(
      `Unknown or deleted agent${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
      missing.map((id) => ({ in: 'body', field, message: 'No such agent in this organization', value: id })),
    );
  }
  return ids.flatMap((id) => live.get(id) ?? []);
}

async function requireRole(tenantId: string, roleId: string): Promise<Role> {
  const role = await roles.findOwnedOrNull(tenantId, roleId);
  if (!role) {
    throw ValidationError('Invalid request body.role_id: no such role in this organization', [
      { in: 'body', field: 'role_id', message: 'No such role in this organization', value: roleId },
    ]);
  }
  return role;
}

async function requireDivisions(tenantId: string, ids: string[]): Promise<void> {
  const found = new Set((await divisions.findMany(tenantId, ids)).map((d) => d._id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw ValidationError(
      `Invalid request body.division_ids: unknown division${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      missing.map((id) => ({ in: 'body', field: 'division_ids', message: 'No such division in this organization', value: id })),
    );
  }
}

const lacking = (principal: Principal, permissions: string[]) => permissions.filter((p) => !principal.permissions.has(p));

/** Privilege escalation guard: a caller can only hand out permissions it holds itself. */
function assertCanGrant(principal: Principal, role: Role): void {
  const missing = lacking(principal, role.permissions);
  if (missing.length > 0) {
    throw ForbiddenError(`You cannot assign the role "${role.name}": it grants permissions you do not hold (${missing.join(', ')})`);
  }
}

/** Changing an agent who holds more than the caller (their password, e-mail, access) is a takeover. */
async function assertOutranks(principal: Principal, target: User): Promise<void> {
  if (target._id === principal.userId) return;
  const role = await roles.findOwnedOrNull(target.tenant_id, target.role_id);
  const missing = lacking(principal, role?.permissions ?? []);
  if (missing.length > 0) {
    throw ForbiddenError(`You cannot change ${target.name}: their role has permissions you do not hold (${missing.join(', ')})`);
  }
}

/** Create an agent. */
export interface CreateAgent extends Acting {
  name: string;
  email: string;
  password: string;
  roleId: string;
  /** Divisions to join; none when absent. */
  divisionIds?: string[];
  /** How many conversations auto-assignment may give them at once. */
  maxConcurrentConversations: number;
}

/** Creates an active, offline agent; 409 when the e-mail is taken in the tenant, 422 past the plan's agent limit. */
export async function createAgent(cmd: CreateAgent): Promise<AgentView> {
  const divisionIds = [...new Set(cmd.divisionIds ?? [])];
  const role = await requireRole(cmd.tenantId, cmd.roleId);
  await requireDivisions(cmd.tenantId, divisionIds);
  assertCanGrant(cmd.principal, role);
  const user = {
    _id: newId(),
    tenant_id: cmd.tenantId,
    name: cmd.name,
    email: cmd.email,
    email_key: cmd.email.toLowerCase(),
    password_hash: await hashPassword(cmd.password),
    role_id: role._id,
    status: 'offline' as const,
    status_changed_at: null,
    max_concurrent_conversations: cmd.maxConcurrentConversations,
    is_active: true,
    last_login_at: null,
    deleted_at: null,
  };
  // Through the tenant actor: the plan's agent limit is checked and the agent inserted in one turn.
  await askTenant(cmd.tenantId, 'agents.insert_within_plan', { user });
  await addMemberships(cmd.tenantId, divisionIds.map((divisionId) => ({ divisionId, userId: user._id })));
  return getAgent(cmd.tenantId, user._id);
}

/** Update an agent; absent fields stay as they are. */
export interface UpdateAgent extends Acting {
  id: string;
  name?: string;
  email?: string;
  password?: string;
  roleId?: string;
  /** Replaces the agent's set of divisions. */
  divisionIds?: string[];
  maxConcurrentConversations?: number;
  isActive?: boolean;
}

/** Applies the changes; see the module comment for the guards. */
export async function updateAgent(cmd: UpdateAgent): Promise<AgentView> {
  const target = await users.findOwned(cmd.tenantId, cmd.id);
  if (target.deleted_at) throw StateError('A deleted agent cannot be changed');
  await assertOutranks(cmd.principal, target);
  const role = cmd.roleId === undefined ? null : await requireRole(cmd.tenantId, cmd.roleId);
  const divisionIds = cmd.divisionIds === undefined ? null : [...new Set(cmd.divisionIds)];
  if (divisionIds) await requireDivisions(cmd.tenantId, divisionIds);
  if (role && role._id !== target.role_id) assertCanGrant(cmd.principal, role);
  const deactivating = cmd.isActive === false && target.is_active;
  if (deactivating && target._id === cmd.principal.userId) throw StateError('You cannot deactivate your own account');

  const set: Partial<User> = {};
  if (cmd.name !== undefined) set.name = cmd.name;
  if (cmd.email !== undefined) Object.assign(set, { email: cmd.email, email_key: cmd.email.toLowerCase() });
  if (cmd.password !== undefined) set.password_hash = await hashPassword(cmd.password);
  if (role) set.role_id = role._id;
  if (cmd.maxConcurrentConversations !== undefined) set.max_concurrent_conversations = cmd.maxConcurrentConversations;
  if (cmd.isActive !== undefined) set.is_active = cmd.isActive;
  // A deactivated agent cannot be online: auto-assignment must stop picking them at once.
  if (deactivating && target.status !== 'offline') Object.assign(set, { status: 'offline', status_changed_at: new Date() });

  const losesAdmin = isActiveAdmin(target) && (deactivating || (role !== null && role._id !== target.role_id));
  if (losesAdmin) {
    await askTenant(cmd.tenantId, 'agents.guarded_admin_change', { userId: cmd.id, what: deactivating ? 'deactivate' : 'demote', set });
  } else if (Object.keys(set).length > 0) {
    try {
      await users.update(cmd.tenantId, cmd.id, set);
    } catch (err) {
      if (isDuplicateKey(err)) throw ConflictError(`An agent with the e-mail ${cmd.email ?? ''} already exists`);
      throw err;
    }
  }
  if (divisionIds) await replaceDivisions(cmd.tenantId, cmd.id, divisionIds);
  // A new password ends the agent's other sessions (the caller's own stays when it is theirs);
  // a deactivation ends them all, so reactivating later does not revive old tokens.
  if (cmd.password !== undefined || deactivating) {
    const keep = !deactivating && target._id === cmd.principal.userId ? (cmd.principal.jti ?? null) : null;
    await revokeUserSessions(cmd.tenantId, cmd.id, keep, new Date());
  }
  // Their open sockets take the new name, role, divisions or end, on every process.
  if (Object.keys(set).length > 0 || divisionIds) await announceSessionChange({ tenantId: cmd.tenantId, userIds: [cmd.id] });
  // More room, another role or new divisions may let this agent take waiting conversations.
  if (cmd.maxConcurrentConversations !== undefined || role || cmd.isActive || divisionIds) await serveAssignmentQueue(cmd.tenantId);
  return getAgent(cmd.tenantId, cmd.id);
}

async function replaceDivisions(tenantId: string, userId: string, wanted: string[]): Promise<void> {
  const current = await divisionIdsOf(tenantId, userId);
  const toAdd = wanted.filter((id) => !current.includes(id));
  const toRemove = current.filter((id) => !wanted.includes(id));
  await Promise.all([
    addMemberships(tenantId, toAdd.map((divisionId) => ({ divisionId, userId }))),
    removeMemberships(tenantId, toRemove.map((divisionId) => ({ divisionId, userId }))),
  ]);
}

/** Delete an agent. */
export interface DeleteAgent extends Acting {
  id: string;
}

/**
 * Soft-deletes: the user document stays, so conversations still show who answered them, but the
 * agent can no longer sign in, use old tokens or API keys, or be assigned; the users repository
 * frees the e-mail's claim, so a new agent can take the address.
 */
export async function deleteAgent(cmd: DeleteAgent): Promise<void> {
  const target = await users.findOwned(cmd.tenantId, cmd.id);
  if (target._id === cmd.principal.userId) throw StateError('You cannot delete your own account');
  if (target.deleted_at) {
    // Finish a deletion that was interrupted between marking and sweeping, then say so.
    await sweepDeletedAgent(cmd.tenantId, target._id);
    throw StateError('This agent is already deleted');
  }
  await assertOutranks(cmd.principal, target);
  const now = new Date();
  const set: Partial<User> = {
    deleted_at: now,
    is_active: false,
    status: 'offline',
    status_changed_at: target.status === 'offline' ? target.status_changed_at : now,
  };
  if (isActiveAdmin(target)) {
    await askTenant(cmd.tenantId, 'agents.guarded_admin_change', { userId: target._id, what: 'delete', set });
  } else {
    await users.update(cmd.tenantId, cmd.id, set);
  }
  // Marked first, swept second: a concurrent membership add re-reads the agent afterwards.
  await sweepDeletedAgent(cmd.tenantId, target._id);
  await announceSessionChange({ tenantId: cmd.tenantId, userIds: [target._id] });
}

async function sweepDeletedAgent(tenantId: string, userId: string): Promise<void> {
  const keys = await apiKeys.find({ tenant_id: tenantId, user_id: userId, revoked_at: null });
  const now = new Date();
  await Promise.all([
    removeAllOfAgent(tenantId, userId),
    revokeUserSessions(tenantId, userId, null, now),
    ...keys.map((k) => apiKeys.update(tenantId, k._id, { revoked_at: now })),
  ]);
}

/** Set an agent's presence. */
export interface SetAgentStatus extends Acting {
  id: string;
  status: 'online' | 'offline';
}

/** Toggles online/offline: one's own, or anyone's with agents.manage. */
export async function setAgentStatus(cmd: SetAgentStatus): Promise<AgentView> {
  const target = await users.findOwned(cmd.tenantId, cmd.id);
  if (target._id !== cmd.principal.userId && !cmd.principal.permissions.has('agents.manage')) {
    throw ForbiddenError('Changing another agent’s status requires the agents.manage permission');
  }
  if (target.deleted_at) throw StateError('A deleted agent cannot change status');
  if (!target.is_active) throw StateError('A deactivated agent cannot change status');
  if (target.status === cmd.status) return getAgent(cmd.tenantId, cmd.id);
  await users.update(cmd.tenantId, cmd.id, { status: cmd.status, status_changed_at: new Date() });
  const view = await getAgent(cmd.tenantId, cmd.id);
  // Supervisors' dashboards and auto-assignment follow presence live; members who may not view
  // agents see the presence only, without the e-mail and the rest of the agent.
  const json = presentAgent(view.user, view.extras);
  const audience = { scope: 'tenant' as const, permission: 'agents.view' as const, reduced: presentAgentPresence(json) };
  await emitEvent(cmd.tenantId, draftEvent(cmd.tenantId, `agent:${target._id}:status:${json.status_changed_at ?? ''}`, EVENTS.agentStatusChanged, json, audience));
  if (cmd.status === 'online') await serveAssignmentQueue(cmd.tenantId);
  return view;
}
