/**
 * The super-admin realm's credentials. Its tokens are JWTs signed like tenant sessions but with
 * their own audience (`aud`), which tenant authentication refuses (services/tokens.ts) and this
 * module requires, and no `tid`: a tenant token cannot pass here, nor one of these there. API
 * keys are tenant credentials only. A token also carries its account's `credentials_version`,
 * so a password reset or the account's deletion ends every token of it at the next request.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SuperAdminPrincipal } from '../auth/principal.js';
import { appContext } from '../context.js';
import { UnauthorizedError } from '../errors.js';
import { findSuperAdmin, findSuperAdminByEmail, updateSuperAdmin, type SuperAdmin } from '../models/super-admin.js';
import { burnPasswordCheck, verifyPassword } from './passwords.js';
import { verificationKey, type IssuedToken } from './tokens.js';

/** The `aud` of every super-admin token. */
export const SUPER_ADMIN_AUDIENCE = 'omnistream:super-admin';

// Operators sign in for a working session, not for the week a tenant session lasts.
const TOKEN_TTL_SECONDS = 2 * 3600;

/** A super admin's signed token. */
export function issueSuperAdminToken(admin: Pick<SuperAdmin, '_id' | 'credentials_version'>): IssuedToken {
  const { secret } = appContext().config.jwt;
  const exp = Math.floor(Date.now() / 1000) + Math.min(TOKEN_TTL_SECONDS, appContext().config.jwt.ttlSeconds);
  const token = jwt.sign({ ver: admin.credentials_version, exp }, secret, {
    algorithm: 'HS256',
    audience: SUPER_ADMIN_AUDIENCE,
    subject: admin._id,
    jwtid: randomUUID(),
  });
  return { token, expires_at: new Date(exp * 1000).toISOString() };
}

/** Resolves a super-admin bearer token, or 401 (tenant tokens, API keys, stale or foreign tokens alike). */
export async function authenticateSuperAdmin(token: string): Promise<SuperAdminPrincipal> {
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, verificationKey(appContext().config.jwt.secret), { algorithms: ['HS256'], audience: SUPER_ADMIN_AUDIENCE }) as jwt.JwtPayload;
  } catch {
    throw UnauthorizedError('A super-admin token is required');
  }
  const { sub, jti, exp, ver } = claims;
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number' || typeof ver !== 'number') throw UnauthorizedError('Invalid token');
  const admin = await findSuperAdmin(sub);
  if (!admin || admin.credentials_version !== ver) throw UnauthorizedError('Token has been revoked');
  return { realm: 'super_admin', superAdminId: admin._id, name: admin.name, email: admin.email, jti, expiresAt: new Date(exp * 1000) };
}

/** Log in as a super admin. */
export interface SuperAdminLogin {
  email: string;
  password: string;
}

/**
 * Checks the credentials and signs a token. An unknown e-mail costs one password comparison
 * too and gets the same 401 as a wrong password.
 */
export async function loginSuperAdmin(cmd: SuperAdminLogin): Promise<IssuedToken & { admin: SuperAdmin }> {
  const admin = await findSuperAdminByEmail(cmd.email);
  const ok = admin ? await verifyPassword(cmd.password, admin.password_hash) : await burnPasswordCheck(cmd.password);
  if (!admin || !ok) throw UnauthorizedError('Invalid e-mail or password');
  const updated = (await updateSuperAdmin(admin._id, { last_login_at: new Date() })) ?? admin;
  return { ...issueSuperAdminToken(updated), admin: updated };
}
