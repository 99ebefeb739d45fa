/**
 * Roles: named permission sets per tenant. The guards keep a tenant from locking itself out
 * (the built-in admin role is fixed) and a caller from granting what they do not hold.
 */
import type { Principal } from '../auth/principal.js';
import { ALL_PERMISSIONS, PERMISSIONS, type Permission } from '../auth/permissions.js';
import { ConflictError, ForbiddenError, isDuplicateKey, StateError } from '../errors.js';
import { newId } from '../ids.js';
import { roles, type Role } from '../models/role.js';
import { users } from '../models/user.js';
import { announceSessionChange } from './session-changes.js';

// The one role that must always hold every permission, so someone can always administer the tenant.
const ADMIN_ROLE = 'admin';

/** A role and the number of live agents holding it. */
export interface RoleWithCount {
  role: Role;
  agentCount: number;
}

/** One entry of the permission catalogue. */
export interface PermissionInfo {
  name: Permission;
  description: string;
  /** The area before the dot (`conversations` for `conversations.assign`). */
  group: string;
}

/** Refuses (403) when `wanted` holds a permission the caller lacks: nobody grants more than they have. */
export function assertCanGrant(principal: Principal, wanted: readonly Permission[]): void {
  const missing = wanted.filter((p) => !principal.permissions.has(p));
  if (missing.length > 0) {
    throw ForbiddenError(`You cannot grant permissions you do not hold: ${missing.join(', ')}`);
  }
}

/** The permission catalogue, in catalogue order. */
export function listPermissions(): PermissionInfo[] {
  return ALL_PERMISSIONS.map((name) => ({ name, description: PERMISSIONS[name], group: name.slice(0, name.indexOf('.')) }));
}

// Deleted agents keep their role_id for history; they do not hold the role any more.
const holdersFilter = (tenantId: string, roleId: string) => ({ tenant_id: tenantId, role_id: roleId, deleted_at: null });

const byBuiltInThenName = (a: Role, b: Role) =>
  Number(b.is_system) - Number(a.is_system) ||
  a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }) ||
  (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

/** List the tenant's roles. */
export interface ListRoles {
  tenantId: string;
}

/** Every role of the tenant with its agent count: built-ins first, then by name. */
export async function listRoles(q: ListRoles): Promise<RoleWithCount[]> {
  // Both collections are small per tenant (tens of roles, hundreds of agents): two scans, counted here.
  const [all, holders] = await Promise.all([
    roles.find({ tenant_id: q.tenantId }),
    users.find({ tenant_id: q.tenantId, deleted_at: null }),
  ]);
  const counts = new Map<string, number>();
  for (const u of holders) counts.set(u.role_id, (counts.get(u.role_id) ?? 0) + 1);
  return all.sort(byBuiltInThenName).map((role) => ({ role, agentCount: counts.get(role._id) ?? 0 }));
}

/** Read one role. */
export interface GetRole {
  tenantId: string;
  roleId: string;
}

/** One role with its agent count; 404 for another tenant's role. */
export async function getRole(q: GetRole): Promise<RoleWithCount> {
  const role = await roles.findOwned(q.tenantId, q.roleId);
  return { role, agentCount: await users.count(holdersFilter(q.tenantId, role._id)) };
}

/** Create a custom role. */
export interface CreateRole {
  tenantId: string;
  /** Who creates it; they may grant only permissions they hold. */
  principal: Principal;
  name: string;
  description?: string | undefined;
  /** Known permission names, without duplicates. */
  permissions: Permission[];
}

/** Creates a custom role; 409 when the name is taken (case-insensitively). */
export async function createRole(cmd: CreateRole): Promise<RoleWithCount> {
  assertCanGrant(cmd.principal, cmd.permissions);
  try {
    const role = await roles.insert({
      _id: newId(),
      tenant_id: cmd.tenantId,
      name: cmd.name,
      description: cmd.description ?? '',
      permissions: inCatalogueOrder(cmd.permissions),
      is_system: false,
    });
    return { role, agentCount: 0 };
  } catch (err) {
    // The roles repository's name claim settles it, races between two creates included.
    if (isDuplicateKey(err)) throw nameTaken(cmd.name);
    throw err;
  }
}

/** Change a role's name, description or permissions. */
export interface UpdateRole {
  tenantId: string;
  /** Who changes it; they may add only permissions they hold. */
  principal: Principal;
  roleId: string;
  name?: string | undefined;
  description?: string | undefined;
  /** The complete new set (replaces the old one). */
  permissions?: Permission[] | undefined;
}

/**
 * Updates a role. The built-in admin role is fixed (422); the other built-ins keep their names
 * (422) but their permissions may change. Removing permissions the caller lacks is allowed
 * (it narrows); adding them is not (403).
 */
export async function updateRole(cmd: UpdateRole): Promise<RoleWithCount> {
  const role = await roles.findOwned(cmd.tenantId, cmd.roleId);
  if (role.is_system && role.name === ADMIN_ROLE) {
    throw StateError('The built-in admin role cannot be changed, so the organization always keeps a full administrator');
  }
  const renamed = cmd.name !== undefined && cmd.name !== role.name;
  if (role.is_system && renamed) throw StateError(`The built-in role "${role.name}" cannot be renamed`);
  if (cmd.permissions) {
    assertCanGrant(cmd.principal, cmd.permissions.filter((p) => !role.permissions.includes(p)));
  }

  const set: Partial<Role> = {};
  if (cmd.name !== undefined) set.name = cmd.name;
  if (cmd.description !== undefined) set.description = cmd.description;
  if (cmd.permissions) set.permissions = inCatalogueOrder(cmd.permissions);
  try {
    const updated = await roles.update(cmd.tenantId, role._id, set);
    // Holders' open sockets take the new permissions, on every process.
    if (cmd.permissions) await announceSessionChange({ tenantId: cmd.tenantId, roleId: role._id });
    return { role: updated, agentCount: await users.count(holdersFilter(cmd.tenantId, role._id)) };
  } catch (err) {
    if (isDuplicateKey(err) && cmd.name !== undefined) throw nameTaken(cmd.name);
    throw err;
  }
}

/** Delete a custom role. */
export interface DeleteRole {
  tenantId: string;
  roleId: string;
}

/** Deletes a custom role nobody holds; built-ins are 422, a role still held is 409. Returns what was deleted. */
export async function deleteRole(cmd: DeleteRole): Promise<Role> {
  const role = await roles.findOwned(cmd.tenantId, cmd.roleId);
  if (role.is_system) throw StateError(`The built-in role "${role.name}" cannot be deleted`);
  const holders = await users.count(holdersFilter(cmd.tenantId, role._id));
  if (holders > 0) {
    throw ConflictError(
      `The role "${role.name}" is still held by ${holders} agent${holders === 1 ? '' : 's'}; move them to another role first`,
    );
  }
  await roles.remove(cmd.tenantId, role._id);
  return role;
}

// The roles repository claims names without case, so "Sales" and "sales" cannot both exist.
const nameTaken = (name: string) => ConflictError(`A role named "${name}" already exists`);

const inCatalogueOrder = (permissions: readonly Permission[]): Permission[] =>
  ALL_PERMISSIONS.filter((p) => permissions.includes(p));
