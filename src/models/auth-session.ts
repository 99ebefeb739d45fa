/**
 * Sign-in sessions: one document per issued session token, `_id` the token's `jti`. A token
 * authenticates only while its session exists and is not revoked, so logout, rotation and
 * "end my other sessions" are durable writes here, not Redis keys a restart would forget.
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** A stored session. */
export interface AuthSession extends TenantDoc {
  user_id: string;
  /** The token's `exp`; the database drops the session after it (the token is dead by then). */
  expires_at: Date;
  revoked_at: Date | null;
}

const schema = baseSchema<AuthSession>(
  {
    tenant_id: { type: String, required: true },
    user_id: { type: String, required: true },
    expires_at: { type: Date, required: true },
    revoked_at: { type: Date, default: null },
  },
  'auth_sessions',
);
// Serves "end this user's other sessions" (password change).
schema.index({ tenant_id: 1, user_id: 1 });
// Expires sessions whose token has expired, so the collection holds only live tokens.
schema.index({ expires_at: 1 }, { expireAfterSeconds: 0 });

/** The auth_sessions collection. */
export const AuthSessionModel = model<AuthSession>('AuthSession', schema);

/** Tenant-scoped access to sessions; authentication reads one by `_id` (the jti). */
export const authSessions = tenantRepo(AuthSessionModel, 'Session');

/** Revokes one live session; false when it was already revoked or is not this tenant's. */
export async function revokeAuthSession(tenantId: string, jti: string, at: Date): Promise<boolean> {
  const res = await collectionOf(AuthSessionModel).updateOne({ _id: jti, tenant_id: tenantId, revoked_at: null }, { $set: { revoked_at: at, updated_at: at } });
  return res.modifiedCount === 1;
}

/** Revokes every live session of the user except `keepJti` (the caller's own); answers how many. */
export async function revokeUserSessions(tenantId: string, userId: string, keepJti: string | null, at: Date): Promise<number> {
  const res = await collectionOf(AuthSessionModel).updateMany(
    { tenant_id: tenantId, user_id: userId, revoked_at: null, ...(keepJti ? { _id: { $ne: keepJti } } : {}) },
    { $set: { revoked_at: at, updated_at: at } },
  );
  return res.modifiedCount;
}
