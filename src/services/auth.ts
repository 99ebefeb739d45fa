/** Registration, login, logout and the current caller's profile. */
import { randomBytes } from 'node:crypto';
import type { Principal, SuperAdminPrincipal } from '../auth/principal.js';
import { BUILT_IN_ROLES } from '../auth/permissions.js';
import { appContext } from '../context.js';
import { AppError, ConflictError, isDuplicateKey, UnauthorizedError, ValidationError } from '../errors.js';
import { naturalId, newId } from '../ids.js';
import { roles, type Role } from '../models/role.js';
import { deleteTenant, findTenant, findTenantByIdOrSlug, insertTenant, type Tenant } from '../models/tenant.js';
import { findUsersByEmail, users, type User } from '../models/user.js';
import { workingHours } from '../models/working-hours.js';
import { recordActivity } from './activity-log.js';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.js';
import { revokeAuthSession } from '../models/auth-session.js';
import { announceSessionChange } from './session-changes.js';
import { issueToken, type IssuedToken } from './tokens.js';
import { createDefaultSchedule } from './working-hours-defaults.js';

/** What a successful register or login returns. */
export interface Session extends IssuedToken {
  user: User;
  tenant: Tenant;
}

/** Where a request came from, for the activity log. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

/** Register a tenant with its first admin. */
export interface RegisterTenant {
  /** Organization display name. */
  organizationName: string;
  /** Wanted URL slug; derived from the name when absent. */
  slug?: string;
  /** IANA time zone; Asia/Jakarta when absent. */
  timezone?: string;
  name: string;
  email: string;
  password: string;
  origin: RequestOrigin;
}

const slugify = (s: string) =>
  s
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'org';

/** Creates the tenant, its built-in roles, admin user and default working hours, and signs the admin in. */
export async function registerTenant(cmd: RegisterTenant): Promise<Session> {
  const { user, tenant } = await createOrganization(cmd);
  return { ...(await issueToken(user)), user, tenant };
}

/**
 * Creates the tenant, its built-in roles, admin user and default working hours: registration's
 * work, which a super admin's provisioning (`provisionedBy`, then the activity's actor) reuses.
 */
export async function createOrganization(cmd: RegisterTenant, provisionedBy?: SuperAdminPrincipal): Promise<{ user: User; tenant: Tenant }> {
  const tenant = await claimTenant(cmd);
  try {
    const now = new Date();
    // Through the repository, so the built-in names are claimed like custom ones and no custom
    // role can take them; one at a time, so the undo below never races an insert still running.
    const created: Role[] = [];
    for (const r of BUILT_IN_ROLES) {
      created.push(
        await roles.insert({
          _id: naturalId('role', tenant._id, r.name),
          tenant_id: tenant._id,
          name: r.name,
          description: r.description,
          permissions: r.permissions,
          is_system: true,
        }),
      );
    }
    const admin = created.find((r) => r.name === 'admin');
    if (!admin) throw new Error('admin role missing after registration');
    const user = await users.insert({
      _id: newId(),
      tenant_id: tenant._id,
      name: cmd.name,
      email: cmd.email,
      email_key: cmd.email.toLowerCase(),
      password_hash: await hashPassword(cmd.password),
      role_id: admin._id,
      status: 'offline',
      status_changed_at: null,
      max_concurrent_conversations: 10,
      is_active: true,
      last_login_at: now,
      deleted_at: null,
    });
    await createDefaultSchedule(tenant._id);
    await recordActivity({
      tenantId: tenant._id,
      actor: provisionedBy ?? { userId: user._id, userName: user.name },
      action: provisionedBy ? 'tenant.provisioned' : 'tenant.registered',
      resourceType: 'tenant',
      resourceId: tenant._id,
      details: { name: tenant.name, slug: tenant.slug, email: cmd.email },
      ip: cmd.origin.ip,
      userAgent: cmd.origin.userAgent,
    });
    return { user, tenant };
  } catch (err) {
    // No multi-document transactions on every engine: undo by hand so nothing is half-written.
    // The repositories free the role-name and e-mail claims, deleteTenant the slug claim.
    await Promise.all([
      roles.removeMany({ tenant_id: tenant._id }),
      users.removeMany({ tenant_id: tenant._id }),
      workingHours.removeMany({ tenant_id: tenant._id }),
    ]);
    await deleteTenant(tenant._id);
    throw err;
  }
}

async function claimTenant(cmd: RegisterTenant): Promise<Tenant> {
  const base = cmd.slug ?? slugify(cmd.organizationName);
  for (let attempt = 0; attempt < 5; attempt++) {
    const slug = attempt === 0 ? base : `${base}-${randomBytes(3).toString('hex')}`;
    try {
      const now = new Date();
      return await insertTenant({
        _id: newId(),
        name: cmd.organizationName,
        slug,
        timezone: cmd.timezone ?? 'Asia/Jakarta',
        timezone_updated_at: now,
        status: 'active',
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      if (cmd.slug) throw ConflictError(`The slug "${cmd.slug}" is already taken`);
    }
  }
  throw ConflictError('Could not find a free slug; please choose one');
}

/** Log in with e-mail and password. */
export interface Login {
  email: string;
  password: string;
  /** Tenant id or slug; needed only when the e-mail belongs to several organizations. */
  tenant?: string;
  origin: RequestOrigin;
}

/**
 * Checks the credentials and opens a session. Nothing about the e-mail is told before a password
 * matched: an unknown e-mail, a wrong password and an e-mail of several organizations each cost
 * about one password comparison (the candidates' run in parallel; an unknown e-mail burns one at
 * the configured cost) and get the same 401. "tenant_required" comes only when the password
 * matched in more than one organization.
 */
export async function login(cmd: Login): Promise<Session> {
  let candidates = await findUsersByEmail(cmd.email);
  if (cmd.tenant) {
    const t = await findTenantByIdOrSlug(cmd.tenant);
    candidates = candidates.filter((u) => u.tenant_id === t?._id);
  }
  const matched = await usersMatching(candidates, cmd.password);
  if (matched.length === 0) {
    await Promise.all(candidates.map((u) => recordFailedLogin(u, cmd.origin)));
    throw UnauthorizedError('Invalid e-mail or password');
  }
  if (matched.length > 1) {
    throw new AppError(400, 'tenant_required', 'This e-mail belongs to several organizations; pass "tenant" (id or slug)');
  }
  const user = matched[0] as User;
  if (!user.is_active) throw UnauthorizedError('This account is deactivated');
  const tenant = await findTenant(user.tenant_id);
  if (!tenant || tenant.status !== 'active') throw UnauthorizedError('This organization is suspended');
  const updated = await users.update(user.tenant_id, user._id, { last_login_at: new Date() });
  await recordActivity({ ...loginActivity(user, cmd.origin), action: 'auth.login' });
  return { ...(await issueToken(updated)), user: updated, tenant };
}

/** The candidates whose password hash the password matches, all compared at once. */
async function usersMatching(candidates: User[], password: string): Promise<User[]> {
  if (candidates.length === 0) {
    await burnPasswordCheck(password);
    return [];
  }
  const ok = await Promise.all(candidates.map((u) => verifyPassword(password, u.password_hash)));
  return candidates.filter((_, i) => ok[i]);
}

const loginActivity = (user: User, origin: RequestOrigin) => ({
  tenantId: user.tenant_id,
  actor: { userId: user._id, userName: user.name },
  resourceType: 'agent',
  resourceId: user._id,
  ip: origin.ip,
  userAgent: origin.userAgent,
});

// A guessing run against one account leaves one auth.login_failed row per this window, not one per guess.
const FAILED_LOGIN_ROW_WINDOW_MS = 15 * 60_000;

/** Records a failed login of `user` in its organization's activity log, at most once per window. */
async function recordFailedLogin(user: User, origin: RequestOrigin): Promise<void> {
  const first = await appContext().redis.set(`auth:login-failed-recorded:${user._id}`, '1', 'PX', FAILED_LOGIN_ROW_WINDOW_MS, 'NX');
  if (first) await recordActivity({ ...loginActivity(user, origin), action: 'auth.login_failed' });
}

/** Ends the caller's session: its token stops working at once, its open sockets close. */
export async function logout(principal: Principal): Promise<void> {
  const jti = sessionTokenId(principal, 'Only a session token can be logged out; revoke API keys with DELETE /api/api-keys/{id}');
  await endSession(principal.tenantId, jti);
}

/** The caller's session token id, or 400 with `message` for an API key. */
function sessionTokenId(principal: Principal, message: string): string {
  if (principal.via !== 'jwt' || !principal.jti) throw ValidationError(message);
  return principal.jti;
}

/** Revokes one session (401 if it was revoked meanwhile) and closes its sockets everywhere. */
async function endSession(tenantId: string, jti: string): Promise<void> {
  if (!(await revokeAuthSession(tenantId, jti, new Date()))) throw UnauthorizedError('Token has been revoked');
  await announceSessionChange({ tenantId, jti });
}

/** The caller's user and tenant. */
export async function currentProfile(principal: Principal): Promise<{ user: User; tenant: Tenant }> {
  const [user, tenant] = await Promise.all([users.findOwned(principal.tenantId, principal.userId), findTenant(principal.tenantId)]);
  if (!tenant) throw UnauthorizedError('Organization no longer exists');
  return { user, tenant };
}

/**
 * Rotates the caller's session token: the one presented is revoked first (so two rotations of
 * one token cannot both succeed), then a fresh session is opened for the same user.
 */
export async function refreshToken(principal: Principal): Promise<IssuedToken> {
  const jti = sessionTokenId(principal, 'API keys do not need refreshing');
  const user = await users.findOwned(principal.tenantId, principal.userId);
  await endSession(principal.tenantId, jti);
  // An impersonation stays as short as it was granted: the new token ends when the old one did.
  return issueToken(user, principal.impersonatorId, principal.impersonatorId ? principal.expiresAt : undefined);
}
