import { expect } from 'chai';
import { newId } from '../../src/ids.js';
import { issueToken } from '../../src/services/tokens.js';
import { api } from '../support/http.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inOneHour = () => new Date(Date.now() + 3600_000).toISOString();

async function createKey(s: TestSession, body: Record<string, unknown> = {}): Promise<any> {
  const res = await s.call('POST', '/api/api-keys', { body: { name: 'Integration', ...body } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
}

describe('GET /api/api-keys', () => {
  let s: TestSession;
  let other: TestSession;
  let keys: any[];
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    keys = [];
    for (const name of ['first', 'second', 'third']) keys.push(await createKey(s, { name }));
    await s.call('DELETE', `/api/api-keys/${keys[0].id}`);
    await createKey(other, { name: 'theirs' });
  });
  itChecksAccess('GET', () => '/api/api-keys', 'authenticated', () => s);

  it('lists the caller’s keys newest first, revoked ones included, never with a secret', async () => {
    const res = await s.call('GET', '/api/api-keys');
    expect(res.status).to.equal(200);
    expect(res.body.data.map((k: { name: string }) => k.name)).to.deep.equal(['third', 'second', 'first']);
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 3, total_pages: 1 });
    const first = res.body.data[2];
    expect(first.status).to.equal('revoked');
    expect(first.revoked_at).to.be.a('string');
    expect(first).to.have.all.keys(
      'id', 'name', 'prefix', 'user_id', 'permissions', 'status', 'last_used_at', 'expires_at', 'revoked_at', 'created_at', 'updated_at',
    );
    const text = JSON.stringify(res.body);
    for (const k of keys) expect(text).not.to.include(k.key);
    expect(text).not.to.include('secret');
  });

  it('filters by status and pages with a stable order', async () => {
    const active = await s.call('GET', '/api/api-keys?status=active');
    expect(active.body.data.map((k: { name: string }) => k.name)).to.deep.equal(['third', 'second']);
    const revoked = await s.call('GET', '/api/api-keys?status=revoked');
    expect(revoked.body.data.map((k: { name: string }) => k.name)).to.deep.equal(['first']);
    const p1 = await s.call('GET', '/api/api-keys?limit=2&page=1');
    const p2 = await s.call('GET', '/api/api-keys?limit=2&page=2');
    expect(p1.body.pagination.total_pages).to.equal(2);
    expect([...p1.body.data, ...p2.body.data].map((k: { name: string }) => k.name)).to.deep.equal(['third', 'second', 'first']);
  });

  it('shows only the caller’s own keys, not a colleague’s', async () => {
    const colleague = await userWithPermissions(s, ['api_keys.manage']);
    await createKey(colleague, { name: 'colleague key' });
    const mine = await s.call('GET', '/api/api-keys');
    expect(mine.body.data.map((k: { name: string }) => k.name)).not.to.include('colleague key');
    const theirs = await colleague.call('GET', '/api/api-keys');
    expect(theirs.body.data.map((k: { name: string }) => k.name)).to.deep.equal(['colleague key']);
  });

  it('lets an agents.manage holder list another agent’s keys, and nobody else', async () => {
    const colleague = await userWithPermissions(s, ['api_keys.manage']);
    await createKey(colleague, { name: 'audited' });
    const asAdmin = await s.call('GET', `/api/api-keys?user_id=${colleague.userId}`);
    expect(asAdmin.status).to.equal(200);
    expect(asAdmin.body.data.map((k: { name: string }) => k.name)).to.deep.equal(['audited']);
    const peer = await userWithPermissions(s, ['api_keys.manage']);
    expect((await peer.call('GET', `/api/api-keys?user_id=${colleague.userId}`)).status).to.equal(403);
  });

  it('answers 400 for bad query values and unknown parameters', async () => {
    for (const q of ['status=lost', 'limit=0', 'limit=101', 'page=abc', 'user_id=nope', 'sort=name']) {
      const res = await s.call('GET', `/api/api-keys?${q}`);
      expect(res.status, q).to.equal(400);
    }
  });

  it('answers 404 for another tenant’s agent and never shows its keys', async () => {
    const res = await s.call('GET', `/api/api-keys?user_id=${other.userId}`);
    expect(res.status).to.equal(404);
    const mine = await s.call('GET', '/api/api-keys');
    expect(mine.body.data.map((k: { name: string }) => k.name)).not.to.include('theirs');
  });
});

describe('POST /api/api-keys', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('POST', () => '/api/api-keys', 'api_keys.manage', () => s, { body: { name: 'x' } });

  it('creates a key shown once, which authenticates as the caller', async () => {
    const expires = inOneHour();
    const created = await createKey(s, { name: 'CRM sync', permissions: ['activity_logs.view', 'agents.view'], expires_at: expires });
    expect(created.key).to.match(/^osk_[0-9a-f]{32}_[A-Za-z0-9_-]{20,}$/);
    expect(created.key.startsWith(created.prefix)).to.equal(true);
    expect(created).to.include({ name: 'CRM sync', user_id: s.userId, status: 'active', revoked_at: null, last_used_at: null });
    expect(created.permissions).to.deep.equal(['agents.view', 'activity_logs.view']);
    expect(new Date(created.expires_at).getTime()).to.equal(new Date(expires).getTime());
    const me = await api('GET', '/api/auth/me', { token: created.key });
    expect(me.status).to.equal(200);
    expect(me.body.via).to.equal('api_key');
    expect(me.body.agent.id).to.equal(s.userId);
    expect(me.body.permissions).to.deep.equal(['activity_logs.view', 'agents.view']);
  });

  it('gives the key only the intersection of its permissions and the creator’s', async () => {
    const created = await createKey(s, { permissions: ['activity_logs.view'] });
    expect((await api('GET', '/api/activity-logs', { token: created.key })).status).to.equal(200);
    const denied = await api('GET', '/api/roles', { token: created.key });
    expect(denied.status).to.equal(403);
    expect(denied.body.message).to.include('roles.view');
  });

  it('follows the creator’s current permissions: a key loses what its creator loses', async () => {
    const creator = await userWithPermissions(s, ['api_keys.manage', 'roles.view']);
    const roleId = (await creator.call('GET', '/api/auth/me')).body.agent.role_id;
    const narrowed = await createKey(creator, { permissions: ['roles.view'] });
    const inheriting = await createKey(creator);
    expect(inheriting.permissions).to.equal(null);
    expect((await api('GET', '/api/roles', { token: narrowed.key })).status).to.equal(200);
    expect((await api('GET', '/api/roles', { token: inheriting.key })).status).to.equal(200);
    await s.call('PATCH', `/api/roles/${roleId}`, { body: { permissions: ['api_keys.manage'] } });
    expect((await api('GET', '/api/roles', { token: narrowed.key })).status).to.equal(403);
    expect((await api('GET', '/api/roles', { token: inheriting.key })).status).to.equal(403);
  });

  it('records when a key was last used', async () => {
    const created = await createKey(s, { permissions: [] });
    expect((await api('GET', '/api/auth/me', { token: created.key })).status).to.equal(200);
    let listed: any = null;
    // The touch is deliberately not awaited by authentication; give it a moment.
    for (let i = 0; i < 20 && !listed?.last_used_at; i++) {
      await sleep(50);
      listed = (await s.call('GET', '/api/api-keys?limit=100')).body.data.find((k: { id: string }) => k.id === created.id);
    }
    expect(listed.last_used_at).to.be.a('string');
  });

  it('stops authenticating once it expires', async () => {
    const created = await createKey(s, { expires_at: new Date(Date.now() + 1500).toISOString() });
    expect((await api('GET', '/api/auth/me', { token: created.key })).status).to.equal(200);
    await sleep(1700);
    const res = await api('GET', '/api/auth/me', { token: created.key });
    expect(res.status).to.equal(401);
    expect(res.body.message).to.match(/expired/);
    const listed = (await s.call('GET', '/api/api-keys?status=expired')).body.data;
    expect(listed.map((k: { id: string }) => k.id)).to.include(created.id);
  });

  it('rejects a tampered secret', async () => {
    const created = await createKey(s);
    const tampered = `${created.key.slice(0, -2)}${created.key.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await api('GET', '/api/auth/me', { token: tampered })).status).to.equal(401);
  });

  it('answers 403 when a key tries to create a key, even holding api_keys.manage', async () => {
    const created = await createKey(s, { permissions: ['api_keys.manage'] });
    const res = await api('POST', '/api/api-keys', { token: created.key, body: { name: 'minted' } });
    expect(res.status).to.equal(403);
    expect(res.body.message).to.match(/API keys cannot create/);
  });

  it('answers 403 while impersonating', async () => {
    const { token } = await issueToken({ _id: s.userId, tenant_id: s.tenantId }, newId());
    const res = await api('POST', '/api/api-keys', { token, body: { name: 'left behind' } });
    expect(res.status).to.equal(403);
  });

  it('answers 403 for permissions the caller does not hold', async () => {
    const manager = await userWithPermissions(s, ['api_keys.manage', 'contacts.view']);
    const res = await manager.call('POST', '/api/api-keys', { body: { name: 'x', permissions: ['contacts.view', 'contacts.manage'] } });
    expect(res.status).to.equal(403);
    expect(res.body.message).to.include('contacts.manage');
  });

  it('answers 400 for unknown permissions, past or malformed expiry, bad names and unknown fields', async () => {
    const unknown = await s.call('POST', '/api/api-keys', { body: { name: 'x', permissions: ['agents.view', 'keys.mint'] } });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.message).to.include('keys.mint');
    const cases = [
      {},
      { name: '' },
      { name: 'x'.repeat(101) },
      { name: 5 },
      { name: 'x', expires_at: new Date(Date.now() - 1000).toISOString() },
      { name: 'x', expires_at: '2999-01-01' },
      { name: 'x', expires_at: '2999-01-01T00:00:00' },
      { name: 'x', expires_at: 'tomorrow' },
      { name: 'x', permissions: 'agents.view' },
      { name: 'x', user_id: s.userId },
    ];
    for (const body of cases) {
      const res = await s.call('POST', '/api/api-keys', { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.details).to.be.an('array').that.is.not.empty;
    }
  });

  it('accepts an expiry with an offset and null for never', async () => {
    const withOffset = await createKey(s, { expires_at: '2999-01-01T07:00:00+07:00' });
    expect(withOffset.expires_at).to.equal('2999-01-01T00:00:00.000Z');
    expect((await createKey(s, { expires_at: null })).expires_at).to.equal(null);
  });
});

describe('DELETE /api/api-keys/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
  });
  itChecksAccess('DELETE', () => `/api/api-keys/${newId()}`, 'api_keys.manage', () => s);

  it('revokes the key at once and keeps it listed; a second revoke is 404', async () => {
    const created = await createKey(s);
    expect((await api('GET', '/api/auth/me', { token: created.key })).status).to.equal(200);
    const res = await s.call('DELETE', `/api/api-keys/${created.id}`);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: created.id, status: 'revoked' });
    expect(res.body.revoked_at).to.be.a('string');
    expect(res.body).not.to.have.property('key');
    const after = await api('GET', '/api/auth/me', { token: created.key });
    expect(after.status).to.equal(401);
    expect(after.body.message).to.match(/revoked/);
    const listed = (await s.call('GET', '/api/api-keys?status=revoked')).body.data;
    expect(listed.map((k: { id: string }) => k.id)).to.include(created.id);
    const again = await s.call('DELETE', `/api/api-keys/${created.id}`);
    expect(again.status).to.equal(404);
    expect(again.body.message).to.match(/already been revoked/);
  });

  it('lets a key revoke itself', async () => {
    const created = await createKey(s, { permissions: ['api_keys.manage'] });
    expect((await api('DELETE', `/api/api-keys/${created.id}`, { token: created.key })).status).to.equal(200);
    expect((await api('GET', '/api/auth/me', { token: created.key })).status).to.equal(401);
  });

  it('hides a colleague’s key (404) unless the caller holds agents.manage', async () => {
    const colleague = await userWithPermissions(s, ['api_keys.manage']);
    const theirs = await createKey(colleague);
    const peer = await userWithPermissions(s, ['api_keys.manage']);
    const denied = await peer.call('DELETE', `/api/api-keys/${theirs.id}`);
    expect(denied.status).to.equal(404);
    expect((await api('GET', '/api/auth/me', { token: theirs.key })).status).to.equal(200);
    const byAdmin = await s.call('DELETE', `/api/api-keys/${theirs.id}`);
    expect(byAdmin.status).to.equal(200);
    expect(byAdmin.body.user_id).to.equal(colleague.userId);
    expect((await api('GET', '/api/auth/me', { token: theirs.key })).status).to.equal(401);
  });

  it('answers 400 for a malformed id', async () => {
    const res = await s.call('DELETE', '/api/api-keys/123');
    expect(res.status).to.equal(400);
    expect(res.body.details[0].field).to.equal('id');
  });

  it('answers 404 for another tenant’s key and leaves it working', async () => {
    const theirs = await createKey(other);
    const res = await s.call('DELETE', `/api/api-keys/${theirs.id}`);
    expect(res.status).to.equal(404);
    expect((await api('GET', '/api/auth/me', { token: theirs.key })).status).to.equal(200);
    expect((await s.call('DELETE', `/api/api-keys/${newId()}`)).status).to.equal(404);
  });
});
