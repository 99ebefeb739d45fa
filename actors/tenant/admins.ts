/**
 * Tenant-actor handler for changes that could leave an organization without an admin
 * (demote, deactivate, delete). "Another active admin remains" and the write are two steps;
 * running both here, one message at a time per tenant, is what stops two admins demoting each
 * other at once from both passing the check.
 */
import { ConflictError, isDuplicateKey, StateError } from '../../src/errors.js';
import { naturalId } from '../../src/ids.js';
import { users, type User } from '../../src/models/user.js';

/** The id of the tenant's built-in admin role. */
export const adminRoleId = (tenantId: string) => naturalId('role', tenantId, 'admin');

/** True for a live, active holder of the built-in admin role. */
export const isActiveAdmin = (u: User) => u.role_id === adminRoleId(u.tenant_id) && u.is_active && !u.deleted_at;

/** Apply `set` to a user, refusing when that takes away the tenant's last active admin. */
export interface GuardedAdminChangeMessage {
  userId: string;
  /** What the change does, for the refusal message. */
  what: 'demote' | 'deactivate' | 'delete';
  /** Fields to set; dates arrive as ISO strings and are cast by the schema. */
  set: Record<string, unknown>;
}

async function guardedAdminChange(tenantId: string, msg: GuardedAdminChangeMessage): Promise<null> {
  const fresh = await users.findOwned(tenantId, msg.userId);
  if (isActiveAdmin(fresh)) {
    const others = await users.count({
      tenant_id: tenantId,
      role_id: adminRoleId(tenantId),
      is_active: true,
      deleted_at: null,
      _id: { $ne: msg.userId },
    });
    if (others === 0) {
      throw StateError(`Cannot ${msg.what} the organization’s last active admin; make another agent admin first`);
    }
  }
  try {
    await users.update(tenantId, msg.userId, msg.set as Partial<User>);
  } catch (err) {
    if (isDuplicateKey(err)) throw ConflictError(`An agent with the e-mail ${String(msg.set.email ?? '')} already exists`);
    throw err;
  }
  return null;
}

/** The admin-guard message types of the tenant actor. */
export const adminHandlers = {
  'agents.guarded_admin_change': guardedAdminChange,
};
