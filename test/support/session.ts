/**
 * Fresh tenants and users for tests (Novu's UserSession): each `describe` registers its own
 * organization, so nothing is shared or truncated between tests.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { newId } from '../../src/ids.js';
import { roles } from '../../src/models/role.js';
import { users } from '../../src/models/user.js';
import { hashPassword } from '../../src/services/passwords.js';
import { api, type ApiOptions } from './http.js';

/** A signed-in admin of a new tenant. */
export interface TestSession {
  tenantId: string;
  tenantSlug: string;
  userId: string;
  email: string;
  password: string;
  token: string;
  /** Calls the API as this session's user. */
  call<T = any>(method: string, path: string, opts?: ApiOptions): ReturnType<typeof api<T>>;
}

const unique = () => randomBytes(4).toString('hex');

/** Registers a new organization and returns its admin's session. */
export async function createSession(overrides: Record<string, unknown> = {}): Promise<TestSession> {
  const suffix = unique();
  const body = {
    organization_name: `Toko ${suffix}`,
    name: 'Admin',
    email: `admin-${suffix}@example.test`,
    password: 'rahasia-123',
    ...overrides,
  };
  const res = await api('POST', '/api/auth/register', { body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return sessionFrom(res.body.token, {
    tenantId: res.body.tenant.id,
    tenantSlug: res.body.tenant.slug,
    userId: res.body.agent.id,
    email: body.email as string,
    password: body.password as string,
  });
}

function sessionFrom(token: string, rest: Omit<TestSession, 'token' | 'call'>): TestSession {
  return { ...rest, token, call: (method, path, opts = {}) => api(method, path, { token, ...opts }) };
}

/**
 * A user of `session`'s tenant holding exactly `permissions` (through a custom role made for
 * it), signed in over HTTP.
 */
export async function userWithPermissions(session: TestSession, permissions: string[]): Promise<TestSession> {
  const suffix = unique();
  const role = await roles.insert({
    _id: newId(),
    tenant_id: session.tenantId,
    name: `test-role-${suffix}`,
    description: '',
    permissions,
    is_system: false,
  });
  const email = `user-${suffix}@example.test`;
  const password = 'rahasia-456';
  const user = await users.insert({
    _id: newId(),
    tenant_id: session.tenantId,
    name: `User ${suffix}`,
    email,
    email_key: email,
    password_hash: await hashPassword(password),
    role_id: role._id,
    status: 'offline',
    status_changed_at: null,
    max_concurrent_conversations: 5,
    is_active: true,
    last_login_at: null,
    deleted_at: null,
  });
  const res = await api('POST', '/api/auth/login', { body: { email, password } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return sessionFrom(res.body.token, {
    tenantId: session.tenantId,
    tenantSlug: session.tenantSlug,
    userId: user._id,
    email,
    password,
  });
}

/** Someone who signs in with an e-mail and password (a browser test's agent). */
export interface SignIn {
  id: string;
  email: string;
  password: string;
}

/** Creates an agent of `admin`'s tenant with the built-in `agent` role, through the API. */
export async function createAgent(admin: TestSession, name: string): Promise<SignIn> {
  const role = ((await admin.call('GET', '/api/roles')).body as { id: string; name: string }[]).find((r) => r.name === 'agent');
  const email = `agen-${unique()}@example.test`;
  const password = 'kata-sandi-agen';
  const created = await admin.call('POST', '/api/agents', { body: { name, email, password, role_id: role?.id } });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  return { id: created.body.id as string, email, password };
}
