/**
 * API keys: long-lived credentials that act as their creator, optionally narrowed to some of
 * the creator's permissions. The secret is shown once at creation and only its hash is kept;
 * revoking keeps the row so the activity log can still name the key.
 */
import type { Principal } from '../auth/principal.js';
import type { Permission } from '../auth/permissions.js';
import { AppError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { apiKeys, type ApiKey } from '../models/api-key.js';
import type { Page, Scoped } from '../models/repo.js';
import { users } from '../models/user.js';
import { assertCanGrant } from './roles.js';
import { announceSessionChange } from './session-changes.js';
import { generateApiKey } from './tokens.js';

/** List API keys. */
export interface ListApiKeys {
  tenantId: string;
  principal: Principal;
  /** Whose keys; the caller's own unless they hold agents.manage. */
  userId?: string | undefined;
  status?: 'active' | 'expired' | 'revoked' | undefined;
  page: number;
  limit: number;
}

/** One page of an agent's keys (the caller's by default), newest first. */
export async function listApiKeys(q: ListApiKeys): Promise<Page<ApiKey>> {
  const userId = q.userId ?? q.principal.userId;
  if (userId !== q.principal.userId) {
    if (!q.principal.permissions.has('agents.manage')) {
      throw ForbiddenError('Listing another agent’s API keys requires the agents.manage permission');
    }
    await users.findOwned(q.tenantId, userId);
  }
  const filter: Scoped = { tenant_id: q.tenantId, user_id: userId };
  const now = new Date();
  if (q.status === 'revoked') filter.revoked_at = { $ne: null };
  if (q.status === 'expired') Object.assign(filter, { revoked_at: null, expires_at: { $ne: null, $lte: now } });
  if (q.status === 'active') Object.assign(filter, { revoked_at: null, $or: [{ expires_at: null }, { expires_at: { $gt: now } }] });
  return apiKeys.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** Create an API key for the caller. */
export interface CreateApiKey {
  tenantId: string;
  /** The creator; the key acts as them. */
  principal: Principal;
  name: string;
  /** Narrow the key to these (held) permissions; absent means all of the creator's, as they change. */
  permissions?: Permission[] | undefined;
  /** When the key stops working; absent or null means never. */
  expiresAt?: Date | null | undefined;
}

/** A created key and its secret text, which is never stored. */
export interface CreatedApiKey {
  apiKey: ApiKey;
  key: string;
}

/**
 * Creates a key acting as the caller. Keys cannot mint keys, and an impersonation session
 * cannot leave behind a credential that outlives it (both 403).
 */
export async function createApiKey(cmd: CreateApiKey): Promise<CreatedApiKey> {
  if (cmd.principal.via === 'api_key') throw ForbiddenError('API keys cannot create API keys; sign in to create one');
  if (cmd.principal.impersonatorId) throw ForbiddenError('API keys cannot be created while impersonating an agent');
  if (cmd.permissions) assertCanGrant(cmd.principal, cmd.permissions);
  if (cmd.expiresAt && cmd.expiresAt.getTime() <= Date.now()) {
    throw ValidationError('expires_at must be in the future', [{ in: 'body', field: 'expires_at', message: 'must be in the future' }]);
  }
  const id = newId();
  const { key, prefix, secret_hash } = generateApiKey(id);
  const apiKey = await apiKeys.insert({
    _id: id,
    tenant_id: cmd.tenantId,
    user_id: cmd.principal.userId,
    name: cmd.name,
    prefix,
    secret_hash,
    permissions: cmd.permissions ?? null,
    expires_at: cmd.expiresAt ?? null,
    last_used_at: null,
    revoked_at: null,
  });
  return { apiKey, key };
}

/** Revoke an API key. */
export interface RevokeApiKey {
  tenantId: string;
  principal: Principal;
  apiKeyId: string;
}

/**
 * Revokes a key at once (authentication reads the key on every request; its sockets are told). Another agent's key
 * needs agents.manage and is otherwise a 404, like another tenant's; revoking a revoked key is a
 * 404 too, so each revocation is one activity entry.
 */
export async function revokeApiKey(cmd: RevokeApiKey): Promise<ApiKey> {
  const key = await apiKeys.findOwned(cmd.tenantId, cmd.apiKeyId);
  if (key.user_id !== cmd.principal.userId && !cmd.principal.permissions.has('agents.manage')) {
    throw NotFoundError('API key');
  }
  if (key.revoked_at) throw new AppError(404, 'not_found', 'API key has already been revoked');
  const revoked = await apiKeys.update(cmd.tenantId, key._id, { revoked_at: new Date() });
  // Sockets opened with the key close too, on every process.
  await announceSessionChange({ tenantId: cmd.tenantId, apiKeyId: key._id });
  return revoked;
}
