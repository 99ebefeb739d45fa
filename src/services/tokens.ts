/**
 * Credentials: JWTs for sessions and `osk_` API keys, resolved to the same Principal.
 * A session token is good while its session document (`_id` = the token's jti) is live, so a
 * revocation lasts in MongoDB; reading it runs beside the user and tenant reads, so it adds no
 * round trip. An API key reads `osk_<key id without dashes>_<secret>`, so authenticating it is
 * one `_id` lookup plus a constant-time hash comparison.
 */
import { createHash, createSecretKey, randomBytes, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Principal } from '../auth/principal.js';
import { appContext } from '../context.js';
import { UnauthorizedError } from '../errors.js';
import { findApiKeyById, touchApiKey } from '../models/api-key.js';
import { authSessions, type AuthSession } from '../models/auth-session.js';
import { InFlight } from '../in-flight.js';
import { roles, type Role } from '../models/role.js';
import { users, type User } from '../models/user.js';
import { findTenant, type Tenant } from '../models/tenant.js';

const API_KEY_PREFIX = 'osk_';

/** A signed session token. */
export interface IssuedToken {
  token: string;
  expires_at: string;
}

/**
 * Opens a session for the user and signs its JWT. `impersonatorId` marks the token as a super
 * admin's (claim `imp`); `expiresAt` caps its lifetime below the configured one.
 */
export async function issueToken(user: Pick<User, '_id' | 'tenant_id'>, impersonatorId?: string, expiresAt?: Date): Promise<IssuedToken> {
  const { secret, ttlSeconds } = appContext().config.jwt;
  const exp = Math.min(Math.floor(Date.now() / 1000) + ttlSeconds, expiresAt ? Math.floor(expiresAt.getTime() / 1000) : Infinity);
  const jti = randomUUID();
  await authSessions.insert({ _id: jti, tenant_id: user.tenant_id, user_id: user._id, expires_at: new Date(exp * 1000), revoked_at: null });
  const token = jwt.sign({ tid: user.tenant_id, ...(impersonatorId ? { imp: impersonatorId } : {}), exp }, secret, {
    algorithm: 'HS256',
    subject: user._id,
    jwtid: jti,
  });
  return { token, expires_at: new Date(exp * 1000).toISOString() };
}

// jsonwebtoken turns a string secret into a key on every verify, first trying (and failing) to
// read it as a public key: a measurable cost when 2,000 sockets reconnect at once.
let verifier: { secret: string; key: KeyObject } | null = null;

/** The HMAC key of the JWT secret, made once. */
export function verificationKey(secret: string): KeyObject {
  if (verifier?.secret !== secret) verifier = { secret, key: createSecretKey(Buffer.from(secret)) };
  return verifier.key;
}

/** A new API key's secret text and what is stored of it. */
export function generateApiKey(keyId: string): { key: string; prefix: string; secret_hash: string } {
  const secret = randomBytes(24).toString('base64url');
  const key = `${API_KEY_PREFIX}${keyId.replaceAll('-', '')}_${secret}`;
  return { key, prefix: key.slice(0, API_KEY_PREFIX.length + 8), secret_hash: sha256(secret) };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Resolves a bearer token (JWT or API key) to the caller, or throws 401. `readsAfter` (a
 * readMark) makes it read afresh what a concurrent authentication may have read before a change.
 */
export async function authenticateToken(token: string, readsAfter?: number): Promise<Principal> {
  return token.startsWith(API_KEY_PREFIX) ? authenticateApiKey(token, readsAfter) : authenticateJwt(token, readsAfter);
}

async function authenticateJwt(token: string, readsAfter?: number): Promise<Principal> {
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, verificationKey(appContext().config.jwt.secret), { algorithms: ['HS256'] }) as jwt.JwtPayload;
  } catch {
    throw UnauthorizedError('Invalid or expired token');
  }
  const { sub, tid, jti, exp, imp, aud } = claims;
  // Tenant session tokens carry no audience; a token with one belongs to another realm (a super admin's).
  if (aud !== undefined) throw UnauthorizedError('Invalid token');
  if (typeof sub !== 'string' || typeof tid !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') {
    throw UnauthorizedError('Invalid token');
  }
  const [session, principal] = await Promise.all([
    sessionReads.run(jti, () => authSessions.findOwnedOrNull(tid, jti), readsAfter),
    principalFor(tid, sub, 'jwt', readsAfter),
  ]);
  if (!session || session.user_id !== sub || session.revoked_at) throw UnauthorizedError('Token has been revoked');
  return {
    ...principal,
    jti,
    expiresAt: new Date(exp * 1000),
    ...(typeof imp === 'string' ? { impersonatorId: imp } : {}),
  };
}

async function authenticateApiKey(token: string, readsAfter?: number): Promise<Principal> {
  const match = /^osk_([0-9a-f]{32})_([A-Za-z0-9_-]{20,})$/.exec(token);
  if (!match) throw UnauthorizedError('Malformed API key');
  const [, hex, secret] = match as unknown as [string, string, string];
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const key = await findApiKeyById(id);
  const given = Buffer.from(sha256(secret), 'hex');
  // Compare even when the key is missing, so timing does not reveal which ids exist.
  const stored = Buffer.from(key?.secret_hash ?? sha256('missing'), 'hex');
  if (!key || !timingSafeEqual(given, stored)) throw UnauthorizedError('Invalid API key');
  if (key.revoked_at) throw UnauthorizedError('API key has been revoked');
  if (key.expires_at && key.expires_at.getTime() <= Date.now()) throw UnauthorizedError('API key has expired');
  const principal = await principalFor(key.tenant_id, key.user_id, 'api_key', readsAfter);
  void touchApiKey(key._id, new Date()).catch(() => undefined);
  const narrowed = key.permissions
    ? new Set([...principal.permissions].filter((p) => key.permissions?.includes(p)))
    : principal.permissions;
  return { ...principal, permissions: narrowed, apiKeyId: key._id, ...(key.expires_at ? { expiresAt: key.expires_at } : {}) };
}

// Concurrent authentications of the same sessions, users, roles and tenant share their reads.
const sessionReads = new InFlight<AuthSession | null>();
const userReads = new InFlight<User | null>();
const tenantReads = new InFlight<Tenant | null>();
const roleReads = new InFlight<Role | null>();

/** Loads the user and role behind a credential; a deleted or deactivated user is 401. */
async function principalFor(tenantId: string, userId: string, via: Principal['via'], readsAfter?: number): Promise<Principal> {
  const [user, tenant] = await Promise.all([
    userReads.run(`${tenantId}:${userId}`, () => users.findOwnedOrNull(tenantId, userId), readsAfter),
    tenantReads.run(tenantId, () => findTenant(tenantId), readsAfter),
  ]);
  if (!user || user.deleted_at || !user.is_active) {
    throw UnauthorizedError('Account is no longer active');
  }
  if (!tenant || tenant.status !== 'active') throw UnauthorizedError('Organization is suspended');
  const role = await roleReads.run(`${tenantId}:${user.role_id}`, () => roles.findOwnedOrNull(tenantId, user.role_id), readsAfter);
  return {
    tenantId,
    userId: user._id,
    userName: user.name,
    roleId: user.role_id,
    permissions: permissionSet(role?.permissions ?? []),
    via,
  };
}

// Every socket holds its principal; sockets of one role share one frozen set instead of a copy each.
const permissionSets = new Map<string, ReadonlySet<string>>();

/** The one shared set for this list of permissions. */
function permissionSet(list: string[]): ReadonlySet<string> {
  const key = [...list].sort().join(' ');
  let set = permissionSets.get(key);
  if (!set) {
    // Distinct permission lists are few (one per role); the bound only guards against churn.
    if (permissionSets.size >= 1000) permissionSets.clear();
    set = Object.freeze(new Set(list));
    permissionSets.set(key, set);
  }
  return set;
}
