/**
 * Super-admin accounts: list, create, delete (never the last one), reset a password. The first
 * account comes from the command line (scripts/super-admin-create.ts), never from a default.
 */
import type { SuperAdminPrincipal } from '../auth/principal.js';
import { ConflictError, isDuplicateKey, NotFoundError, StateError } from '../errors.js';
import { newId } from '../ids.js';
import { logger } from '../logger.js';
import { deleteSuperAdmin, findSuperAdmin, insertSuperAdmin, listSuperAdmins, updateSuperAdmin, type SuperAdmin } from '../models/super-admin.js';
import { hashPassword } from './passwords.js';

/** Every super-admin account, oldest first. */
export const listSuperAdminAccounts = (): Promise<SuperAdmin[]> => listSuperAdmins();

/** Create a super-admin account. */
export interface CreateSuperAdmin {
  /** Who creates it; null from the command line. */
  actor: SuperAdminPrincipal | null;
  name: string;
  email: string;
  password: string;
}

/** Creates the account; 409 when the e-mail is taken. */
export async function createSuperAdminAccount(cmd: CreateSuperAdmin): Promise<SuperAdmin> {
  try {
    const admin = await insertSuperAdmin({
      _id: newId(),
      name: cmd.name,
      email: cmd.email,
      email_key: cmd.email.toLowerCase(),
      password_hash: await hashPassword(cmd.password),
      credentials_version: 1,
      last_login_at: null,
      created_by: cmd.actor?.superAdminId ?? null,
    });
    logger.info({ superAdminId: admin._id, by: admin.created_by }, 'super-admin account created');
    return admin;
  } catch (err) {
    if (isDuplicateKey(err)) throw ConflictError(`A super-admin account with the e-mail ${cmd.email} already exists`);
    throw err;
  }
}

/** Delete a super-admin account. */
export interface DeleteSuperAdmin {
  actor: SuperAdminPrincipal;
  id: string;
}

/** Deletes the account (its tokens stop at once); 422 for the last one, 404 for an unknown one. */
export async function deleteSuperAdminAccount(cmd: DeleteSuperAdmin): Promise<void> {
  const outcome = await deleteSuperAdmin(cmd.id);
  if (outcome === 'missing') throw NotFoundError('Super-admin account');
  if (outcome === 'last') throw StateError('The last super-admin account cannot be deleted; create another one first');
  logger.info({ superAdminId: cmd.id, by: cmd.actor.superAdminId }, 'super-admin account deleted');
}

/** Reset a super admin's password. */
export interface ResetSuperAdminPassword {
  actor: SuperAdminPrincipal;
  id: string;
  password: string;
}

/** Sets the password and ends every token of the account (the caller's own too, when it is theirs). */
export async function resetSuperAdminPassword(cmd: ResetSuperAdminPassword): Promise<SuperAdmin> {
  if (!(await findSuperAdmin(cmd.id))) throw NotFoundError('Super-admin account');
  const updated = await updateSuperAdmin(cmd.id, { password_hash: await hashPassword(cmd.password) }, { credentials_version: 1 });
  if (!updated) throw NotFoundError('Super-admin account');
  logger.info({ superAdminId: cmd.id, by: cmd.actor.superAdminId }, 'super-admin password reset');
  return updated;
}
