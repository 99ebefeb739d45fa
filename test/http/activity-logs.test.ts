import { expect } from 'chai';
import { newId } from '../../src/ids.js';
import { api } from '../support/http.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function logs(s: TestSession, query = ''): Promise<any> {
  const res = await s.call('GET', `/api/activity-logs${query ? `?${query}` : ''}`);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body;
}

describe('GET /api/activity-logs', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
  });
  itChecksAccess('GET', () => '/api/activity-logs', 'activity_logs.view', () => s);

  it('records role changes with who, what and which role', async () => {
    const created = await s.call('POST', '/api/roles', { body: { name: 'Audited', permissions: ['contacts.view'] } });
    const roleId = created.body.id as string;
    await s.call('PATCH', `/api/roles/${roleId}`, { body: { permissions: ['contacts.view', 'contacts.manage'] } });
    await s.call('DELETE', `/api/roles/${roleId}`);
    const body = await logs(s, `resource_type=role&resource_id=${roleId}`);
    expect(body.data.map((e: { action: string }) => e.action)).to.deep.equal(['role.deleted', 'role.updated', 'role.created']);
    const [deleted, updated, create] = body.data;
    expect(create.actor).to.deep.equal({ type: 'user', id: s.userId, name: 'Admin' });
    expect(create).to.include({ resource_type: 'role', resource_id: roleId, impersonator_id: null });
    expect(create.details.changes).to.deep.include({ name: 'Audited', permissions: ['contacts.view'] });
    expect(updated.details.changes.permissions).to.deep.equal(['contacts.view', 'contacts.manage']);
    expect(deleted.resource_id).to.equal(roleId);
    expect(create.ip).to.be.a('string');
    expect(create.user_agent).to.be.a('string');
    expect(create.created_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(create).to.have.all.keys(
      'id', 'actor', 'impersonator_id', 'action', 'resource_type', 'resource_id', 'details', 'ip', 'user_agent', 'created_at',
    );
  });

  it('records API key creation and revocation without the secret, naming the key used', async () => {
    const key = (await s.call('POST', '/api/api-keys', { body: { name: 'Reporting', permissions: ['api_keys.manage', 'activity_logs.view'] } })).body;
    const secret = (key.key as string).split('_').pop() as string;
    const revoke = await api('DELETE', `/api/api-keys/${key.id}`, { token: key.key });
    expect(revoke.status).to.equal(200);
    const body = await logs(s, `resource_type=api_key&resource_id=${key.id}`);
    expect(body.data.map((e: { action: string }) => e.action)).to.deep.equal(['api_key.revoked', 'api_key.created']);
    const [revoked, created] = body.data;
    expect(created.actor).to.deep.equal({ type: 'user', id: s.userId, name: 'Admin' });
    expect(created.details.changes).to.deep.include({ name: 'Reporting' });
    expect(revoked.actor).to.deep.equal({ type: 'api_key', id: s.userId, name: 'Admin' });
    expect(revoked.details.api_key_id).to.equal(key.id);
    const everything = JSON.stringify(await logs(s, 'limit=100'));
    expect(everything).not.to.include(secret);
    expect(everything).not.to.include(key.key);
    expect(everything).not.to.include(s.password);
  });

  it('does not record refused calls', async () => {
    const before = (await logs(s, 'action=role.created')).pagination.total;
    await s.call('POST', '/api/roles', { body: { name: 'x', permissions: ['bogus.perm'] } });
    const weak = await userWithPermissions(s, []);
    await weak.call('POST', '/api/roles', { body: { name: 'y', permissions: [] } });
    expect((await logs(s, 'action=role.created')).pagination.total).to.equal(before);
  });

  it('filters by actor, action and time range, and pages newest first', async () => {
    const actor = await userWithPermissions(s, ['roles.manage', 'activity_logs.view']);
    const t0 = new Date();
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      expect((await actor.call('POST', '/api/roles', { body: { name, permissions: [] } })).status).to.equal(201);
      await sleep(5);
    }
    const byActor = await logs(s, `actor_id=${actor.userId}&action=role.created`);
    expect(byActor.pagination.total).to.equal(5);
    expect(byActor.data.map((e: any) => e.details.changes.name)).to.deep.equal(['p5', 'p4', 'p3', 'p2', 'p1']);
    expect(byActor.data.every((e: any) => e.actor.id === actor.userId)).to.equal(true);

    const page1 = await logs(s, `actor_id=${actor.userId}&action=role.created&limit=2&page=1`);
    const page2 = await logs(s, `actor_id=${actor.userId}&action=role.created&limit=2&page=2`);
    const page3 = await logs(s, `actor_id=${actor.userId}&action=role.created&limit=2&page=3`);
    expect(page1.pagination).to.deep.equal({ page: 1, limit: 2, total: 5, total_pages: 3 });
    const names = [...page1.data, ...page2.data, ...page3.data].map((e: any) => e.details.changes.name);
    expect(names).to.deep.equal(['p5', 'p4', 'p3', 'p2', 'p1']);

    const from = encodeURIComponent(t0.toISOString());
    expect((await logs(s, `action=role.created&from=${from}`)).pagination.total).to.equal(5);
    const future = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect((await logs(s, `from=${future}`)).data).to.deep.equal([]);
    const beforeStart = encodeURIComponent(new Date(t0.getTime() - 1).toISOString());
    const scoped = `actor_id=${actor.userId}&action=role.created`;
    expect((await logs(s, `${scoped}&to=${beforeStart}`)).pagination.total).to.equal(0);
    expect((await logs(s, `${scoped}&to=${future}`)).pagination.total).to.equal(5);
    // Roles made by earlier tests fall inside that window, so `to` narrows rather than empties.
    expect((await logs(s, `action=role.created&to=${beforeStart}`)).pagination.total).to.be.greaterThan(0);
    const offset = encodeURIComponent('2000-01-01T07:00:00+07:00');
    expect((await logs(s, `from=${offset}&actor_id=${actor.userId}&action=role.created`)).pagination.total).to.equal(5);
    // The actor's sign-in is theirs too: the actor filter alone sees it.
    const all = await logs(s, `actor_id=${actor.userId}`);
    expect(all.data.map((e: any) => e.action)).to.include('auth.login');
  });

  it('never shows another tenant’s entries, even when filtering by its ids', async () => {
    const role = (await other.call('POST', '/api/roles', { body: { name: 'Secret ops', permissions: [] } })).body;
    const mine = await logs(s, 'limit=100');
    const theirIds = new Set((await logs(other, 'limit=100')).data.map((e: { id: string }) => e.id));
    expect(mine.data.some((e: { id: string }) => theirIds.has(e.id))).to.equal(false);
    expect(JSON.stringify(mine)).not.to.include('Secret ops');
    expect((await logs(s, `resource_id=${role.id}`)).data).to.deep.equal([]);
    expect((await logs(s, `actor_id=${other.userId}`)).data).to.deep.equal([]);
  });

  it('answers 400 for malformed filters, from after to, out-of-range pages and unknown parameters', async () => {
    const cases = [
      'actor_id=nope',
      'resource_id=123',
      'from=yesterday',
      'to=2024-01-01',
      'from=2024-01-01T00:00:00',
      `from=${encodeURIComponent('2024-02-01T00:00:00Z')}&to=${encodeURIComponent('2024-01-01T00:00:00Z')}`,
      'action=Role%20Created',
      'resource_type=role.x',
      'limit=101',
      'limit=0',
      'page=0',
      'actor=me',
      'action=a&action=b',
      // One bad bound next to a good one: the order check must not run on the unparsed text (was a 500).
      `from=null&to=${encodeURIComponent('0020-02-29T00:00:00Z')}`,
      `from=${encodeURIComponent('2024-01-01T00:00:00Z')}&to=soon`,
    ];
    for (const q of cases) {
      const res = await s.call('GET', `/api/activity-logs?${q}`);
      expect(res.status, q).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
    const range = await s.call('GET', `/api/activity-logs?from=${encodeURIComponent('2024-02-01T00:00:00Z')}&to=${encodeURIComponent('2024-01-01T00:00:00Z')}`);
    expect(range.body.message).to.include('from must not be after to');
  });

  it('returns an empty page for an unknown id filter, not an error', async () => {
    const res = await logs(s, `resource_id=${newId()}`);
    expect(res.data).to.deep.equal([]);
    expect(res.pagination.total).to.equal(0);
  });
});
