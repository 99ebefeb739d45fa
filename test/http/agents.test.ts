import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ALL_PERMISSIONS } from '../../src/auth/permissions.js';
import { naturalId } from '../../src/ids.js';
import { activityLogs } from '../../src/models/activity-log.js';
import { apiKeys } from '../../src/models/api-key.js';
import { roles } from '../../src/models/role.js';
import { generateApiKey } from '../../src/services/tokens.js';
import { itChecksAccess } from '../support/access.js';
import { api } from '../support/http.js';
import { expectOneWinner, insertClaim, type ClaimScope } from '../support/claims.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

const builtInRole = (s: TestSession, name: 'admin' | 'supervisor' | 'agent') => naturalId('role', s.tenantId, name);
const suffix = () => randomBytes(4).toString('hex');

/** Creates an agent through the API and returns its body and password. */
async function addAgent(s: TestSession, overrides: Record<string, unknown> = {}) {
  const password = 'sandi-rahasia-1';
  const body = {
    name: `Agent ${suffix()}`,
    email: `agent-${suffix()}@example.test`,
    password,
    role_id: builtInRole(s, 'agent'),
    ...overrides,
  };
  const res = await s.call('POST', '/api/agents', { body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { ...res.body, password } as { id: string; email: string; password: string; [k: string]: any };
}

async function addDivision(s: TestSession, name = `Division ${suffix()}`): Promise<string> {
  const res = await s.call('POST', '/api/divisions', { body: { name } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id as string;
}

/** A custom role holding exactly these permissions. */
async function customRole(s: TestSession, permissions: string[]): Promise<string> {
  const role = await roles.insert({
    _id: randomUUID(),
    tenant_id: s.tenantId,
    name: `custom-${suffix()}`,
    description: '',
    permissions,
    is_system: false,
  });
  return role._id;
}

const login = (email: string, password: string) => api('POST', '/api/auth/login', { body: { email, password } });

const emailClaims = (s: TestSession): ClaimScope => ({ kind: 'user.email', scopeId: s.tenantId });

describe('GET /api/agents', () => {
  let s: TestSession;
  let other: TestSession;
  let sales: string;
  let ana: any;
  let budi: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    sales = await addDivision(s, 'Sales');
    ana = await addAgent(s, { name: 'Ana Putri', email: `ana.putri-${suffix()}@example.test`, division_ids: [sales] });
    budi = await addAgent(s, { name: 'Budi (Sales)', role_id: builtInRole(s, 'supervisor') });
    await addAgent(other, { name: 'Ana Outsider' });
  });

  it('lists the tenant’s agents by name with role and divisions, and nobody else’s', async () => {
    const res = await s.call('GET', '/api/agents');
    expect(res.status).to.equal(200);
    const names = res.body.data.map((a: any) => a.name);
    expect(names).to.deep.equal(['Admin', 'Ana Putri', 'Budi (Sales)']);
    const a = res.body.data[1];
    expect(a).to.include({ id: ana.id, status: 'offline', is_active: true, deleted_at: null, max_concurrent_conversations: 5 });
    expect(a.role).to.deep.equal({ id: builtInRole(s, 'agent'), name: 'agent' });
    expect(a.division_ids).to.deep.equal([sales]);
    expect(a).not.to.have.property('password_hash');
    expect(a).not.to.have.property('email_key');
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 3, total_pages: 1 });
  });

  it('pages with a stable order', async () => {
    const first = await s.call('GET', '/api/agents?limit=2');
    const second = await s.call('GET', '/api/agents?limit=2&page=2');
    expect(first.body.pagination).to.include({ total: 3, total_pages: 2 });
    expect(first.body.data.map((a: any) => a.name)).to.deep.equal(['Admin', 'Ana Putri']);
    expect(second.body.data.map((a: any) => a.name)).to.deep.equal(['Budi (Sales)']);
  });

  it('filters by role, division, status and text (any case, regex characters taken literally)', async () => {
    const byRole = await s.call('GET', `/api/agents?role_id=${builtInRole(s, 'supervisor')}`);
    expect(byRole.body.data.map((a: any) => a.id)).to.deep.equal([budi.id]);
    const byDivision = await s.call('GET', `/api/agents?division_id=${sales}`);
    expect(byDivision.body.data.map((a: any) => a.id)).to.deep.equal([ana.id]);
    const unknownDivision = await s.call('GET', `/api/agents?division_id=${randomUUID()}`);
    expect(unknownDivision.body.data).to.deep.equal([]);
    const online = await s.call('GET', '/api/agents?status=online');
    expect(online.body.data).to.deep.equal([]);
    const byName = await s.call('GET', '/api/agents?q=ANA');
    expect(byName.body.data.map((a: any) => a.id)).to.deep.equal([ana.id]);
    const byEmail = await s.call('GET', `/api/agents?q=${encodeURIComponent('ana.putri')}`);
    expect(byEmail.body.data.map((a: any) => a.id)).to.deep.equal([ana.id]);
    const literal = await s.call('GET', `/api/agents?q=${encodeURIComponent('(Sales)')}`);
    expect(literal.body.data.map((a: any) => a.id)).to.deep.equal([budi.id]);
    const dotStar = await s.call('GET', `/api/agents?q=${encodeURIComponent('.*')}`);
    expect(dotStar.body.data).to.deep.equal([]);
  });

  it('leaves deleted agents out unless include_deleted=true', async () => {
    const gone = await addAgent(s, { name: 'Zed Gone' });
    expect((await s.call('DELETE', `/api/agents/${gone.id}`)).status).to.equal(200);
    const without = await s.call('GET', '/api/agents?q=zed');
    expect(without.body.data).to.deep.equal([]);
    const withDeleted = await s.call('GET', '/api/agents?q=zed&include_deleted=true');
    expect(withDeleted.body.data.map((a: any) => a.id)).to.deep.equal([gone.id]);
    expect(withDeleted.body.data[0].deleted_at).to.be.a('string');
  });

  it('answers 400 for bad filters and paging', async () => {
    for (const q of ['status=away', 'role_id=nope', 'include_deleted=yes', 'limit=101', 'page=0', 'colour=red', 'q=']) {
      const res = await s.call('GET', `/api/agents?${q}`);
      expect(res.status, q).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
  });

  // Last: the 403 check adds a user to the tenant, which the exact lists above do not expect.
  itChecksAccess('GET', () => '/api/agents', 'agents.view', () => s);
});

describe('POST /api/agents', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    s = await createSession();
    other = await createSession();
  });
  itChecksAccess('POST', () => '/api/agents', 'agents.manage', () => s, { body: {} });

  it('creates an active, offline agent who can sign in', async () => {
    const d1 = await addDivision(s);
    const d2 = await addDivision(s);
    const email = `Siti-${suffix()}@Example.test`;
    const res = await s.call('POST', '/api/agents', {
      body: { name: '  Siti  ', email, password: 'kata-sandi-1', role_id: builtInRole(s, 'agent'), division_ids: [d1, d2, d1] },
    });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ name: 'Siti', email, status: 'offline', is_active: true, max_concurrent_conversations: 5 });
    expect(res.body.division_ids).to.have.members([d1, d2]).and.have.length(2);
    expect(res.body.last_login_at).to.equal(null);
    expect(res.body.created_at).to.match(/Z$/);
    const signedIn = await login(email.toLowerCase(), 'kata-sandi-1');
    expect(signedIn.status).to.equal(200);
    expect(signedIn.body.agent.id).to.equal(res.body.id);
    expect(signedIn.body.permissions).to.include('conversations.view').and.not.include('agents.manage');
  });

  it('records agent.created without the password', async () => {
    const a = await addAgent(s, { max_concurrent_conversations: 12 });
    expect(a.max_concurrent_conversations).to.equal(12);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'agent.created', resource_id: a.id });
    expect(entry?.resource_type).to.equal('agent');
    expect(entry?.actor_id).to.equal(s.userId);
    expect(JSON.stringify(entry?.details)).to.include('[redacted]').and.not.include(a.password);
  });

  it('answers 409 for an e-mail already used in the organization (any case), but not in another one', async () => {
    const a = await addAgent(s);
    const dup = await s.call('POST', '/api/agents', {
      body: { name: 'Dup', email: a.email.toUpperCase(), password: 'kata-sandi-1', role_id: builtInRole(s, 'agent') },
    });
    expect(dup.status).to.equal(409);
    expect(dup.body.code).to.equal('conflict');
    await addAgent(other, { email: a.email });
  });

  it('gives one of two simultaneous creations with one e-mail a 201 and the other a 409', async () => {
    for (let round = 0; round < 3; round++) {
      const email = `twin-${suffix()}@example.test`;
      const body = { name: 'Twin', email, password: 'kata-sandi-1', role_id: builtInRole(s, 'agent') };
      await expectOneWinner(() => s.call('POST', '/api/agents', { body }));
      const listed = await s.call('GET', `/api/agents?q=${encodeURIComponent(email)}`);
      expect(listed.body.data).to.have.length(1);
    }
  });

  it('is not blocked by a claim its owner no longer backs (a crash between claim and write)', async () => {
    const nobodys = `stranded-${suffix()}@example.test`;
    await insertClaim(emailClaims(s), nobodys);
    expect((await addAgent(s, { email: nobodys.toUpperCase() })).email).to.equal(nobodys.toUpperCase());
    // Its owner exists but moved on to another address.
    const mover = await addAgent(s);
    const left = `left-behind-${suffix()}@example.test`;
    await insertClaim(emailClaims(s), left, { ownerId: mover.id });
    await addAgent(s, { email: left });
    const dup = await s.call('POST', '/api/agents', { body: { name: 'Dup', email: left, password: 'kata-sandi-1', role_id: builtInRole(s, 'agent') } });
    expect(dup.status).to.equal(409);
  });

  it('is blocked by a claim taken moments ago, whose owner may still be writing', async () => {
    const email = `in-flight-${suffix()}@example.test`;
    await insertClaim(emailClaims(s), email, { ageMs: 0 });
    const res = await s.call('POST', '/api/agents', { body: { name: 'Late', email, password: 'kata-sandi-1', role_id: builtInRole(s, 'agent') } });
    expect(res.status).to.equal(409);
    expect(res.body.message).to.equal(`An agent with the e-mail ${email} already exists`);
  });

  it('answers 400 naming role_id or division_ids for ids that are not of this organization', async () => {
    const base = { name: 'X', email: `x-${suffix()}@example.test`, password: 'kata-sandi-1' };
    for (const roleId of [randomUUID(), builtInRole(other, 'agent')]) {
      const res = await s.call('POST', '/api/agents', { body: { ...base, role_id: roleId } });
      expect(res.status).to.equal(400);
      expect(res.body.details[0]).to.include({ field: 'role_id', value: roleId });
    }
    const theirs = await addDivision(other);
    const mine = await addDivision(s);
    const res = await s.call('POST', '/api/agents', { body: { ...base, role_id: builtInRole(s, 'agent'), division_ids: [mine, theirs] } });
    expect(res.status).to.equal(400);
    expect(res.body.details).to.have.length(1);
    expect(res.body.details[0]).to.include({ field: 'division_ids', value: theirs });
    expect((await login(base.email, base.password)).status).to.equal(401);
  });

  it('answers 400 for bad fields', async () => {
    const ok = { name: 'X', email: `x-${suffix()}@example.test`, password: 'kata-sandi-1', role_id: builtInRole(s, 'agent') };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ok, email: 'not-an-email' }, 'email'],
      [{ ...ok, password: 'short' }, 'password'],
      [{ ...ok, name: '   ' }, 'name'],
      [{ ...ok, role_id: 'admin' }, 'role_id'],
      [{ ...ok, division_ids: ['nope'] }, 'division_ids.0'],
      [{ ...ok, max_concurrent_conversations: 0 }, 'max_concurrent_conversations'],
      [{ ...ok, max_concurrent_conversations: 101 }, 'max_concurrent_conversations'],
      [{ ...ok, max_concurrent_conversations: 2.5 }, 'max_concurrent_conversations'],
      [{ ...ok, status: 'online' }, ''],
      [{ ...ok, password: undefined }, 'password'],
      [{ ...ok, name: 42 }, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await s.call('POST', '/api/agents', { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
      if (field) expect(res.body.details.map((d: any) => d.field), JSON.stringify(body)).to.include(field);
    }
  });

  it('refuses to hand out permissions the caller does not hold (403), and allows a subset', async () => {
    const manager = await userWithPermissions(s, ['agents.view', 'agents.manage', 'conversations.view', 'messages.send']);
    const body = (roleId: string) => ({ name: 'Y', email: `y-${suffix()}@example.test`, password: 'kata-sandi-1', role_id: roleId });
    const asAdmin = await manager.call('POST', '/api/agents', { body: body(builtInRole(s, 'admin')) });
    expect(asAdmin.status).to.equal(403);
    expect(asAdmin.body.message).to.include('roles.manage');
    const asAgent = await manager.call('POST', '/api/agents', { body: body(builtInRole(s, 'agent')) });
    expect(asAgent.status).to.equal(403);
    const subset = await customRole(s, ['conversations.view', 'messages.send']);
    const ok = await manager.call('POST', '/api/agents', { body: body(subset) });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    expect(ok.body.role.id).to.equal(subset);
  });
});

describe('GET /api/agents/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let agent: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    agent = await addAgent(s);
  });
  itChecksAccess('GET', () => `/api/agents/${agent.id}`, 'agents.view', () => s);

  it('answers the agent', async () => {
    const res = await s.call('GET', `/api/agents/${agent.id}`);
    expect(res.status).to.equal(200);
    const { password: _password, ...created } = agent;
    expect(res.body).to.deep.equal(created);
  });

  it('answers 404 for another tenant’s agent and for an unknown id', async () => {
    const theirs = await other.call('GET', `/api/agents/${s.userId}`);
    expect(theirs.status).to.equal(404);
    expect(theirs.body.code).to.equal('not_found');
    expect(JSON.stringify(theirs.body)).not.to.include(s.email);
    expect((await s.call('GET', `/api/agents/${randomUUID()}`)).status).to.equal(404);
  });

  it('answers 400 for a malformed id', async () => {
    const res = await s.call('GET', '/api/agents/not-a-uuid');
    expect(res.status).to.equal(400);
    expect(res.body.details[0]).to.include({ in: 'params', field: 'id' });
  });
});

describe('PATCH /api/agents/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let agent: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    agent = await addAgent(s);
  });
  itChecksAccess('PATCH', () => `/api/agents/${agent.id}`, 'agents.manage', () => s, { body: { name: 'X' } });

  it('changes name, e-mail, password and capacity; the new credentials sign in, the old do not', async () => {
    const a = await addAgent(s);
    const email = `renamed-${suffix()}@example.test`;
    const res = await s.call('PATCH', `/api/agents/${a.id}`, {
      body: { name: 'Renamed', email, password: 'baru-sandi-2', max_concurrent_conversations: 9 },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ id: a.id, name: 'Renamed', email, max_concurrent_conversations: 9 });
    expect(Date.parse(res.body.updated_at)).to.be.at.least(Date.parse(a.updated_at));
    expect((await login(email, 'baru-sandi-2')).status).to.equal(200);
    expect((await login(a.email, a.password)).status).to.equal(401);
    expect((await login(email, a.password)).status).to.equal(401);
  });

  it('replaces the set of divisions', async () => {
    const [d1, d2, d3] = [await addDivision(s), await addDivision(s), await addDivision(s)];
    const a = await addAgent(s, { division_ids: [d1, d2] });
    const res = await s.call('PATCH', `/api/agents/${a.id}`, { body: { division_ids: [d2, d3] } });
    expect(res.status).to.equal(200);
    expect(res.body.division_ids).to.have.members([d2, d3]).and.have.length(2);
    const inD1 = await s.call('GET', `/api/agents?division_id=${d1}`);
    expect(inD1.body.data.map((x: any) => x.id)).not.to.include(a.id);
    const cleared = await s.call('PATCH', `/api/agents/${a.id}`, { body: { division_ids: [] } });
    expect(cleared.body.division_ids).to.deep.equal([]);
  });

  it('answers 409 for an e-mail another agent uses', async () => {
    const a = await addAgent(s);
    const b = await addAgent(s);
    const res = await s.call('PATCH', `/api/agents/${a.id}`, { body: { email: b.email.toUpperCase() } });
    expect(res.status).to.equal(409);
    const same = await s.call('PATCH', `/api/agents/${a.id}`, { body: { email: a.email.toUpperCase() } });
    expect(same.status).to.equal(200);
  });

  it('frees the old e-mail for a new agent, and lets an agent take an old address back', async () => {
    const a = await addAgent(s);
    const moved = `moved-${suffix()}@example.test`;
    expect((await s.call('PATCH', `/api/agents/${a.id}`, { body: { email: moved } })).status).to.equal(200);
    const heir = await addAgent(s, { email: a.email, password: 'heir-pass-4' });
    expect((await login(a.email, 'heir-pass-4')).body.agent.id).to.equal(heir.id);
    expect((await s.call('PATCH', `/api/agents/${heir.id}`, { body: { email: `heir-${suffix()}@example.test` } })).status).to.equal(200);
    const back = await s.call('PATCH', `/api/agents/${a.id}`, { body: { email: a.email } });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect((await login(a.email, a.password)).body.agent.id).to.equal(a.id);
  });

  it('frees the old e-mail when it changes along with an admin’s demotion (the tenant actor’s path)', async () => {
    const t = await createSession();
    const b = await addAgent(t, { role_id: builtInRole(t, 'admin') });
    const res = await t.call('PATCH', `/api/agents/${b.id}`, {
      body: { role_id: builtInRole(t, 'agent'), email: `demoted-${suffix()}@example.test` },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    await addAgent(t, { email: b.email });
  });

  it('answers 400 for an empty or bad body and for another tenant’s role or division', async () => {
    for (const body of [{}, { colour: 'red' }, { is_active: 'no' }, { role_id: 'x' }, { max_concurrent_conversations: 1000 }, { email: 'x' }]) {
      const res = await s.call('PATCH', `/api/agents/${agent.id}`, { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    const role = await s.call('PATCH', `/api/agents/${agent.id}`, { body: { role_id: builtInRole(other, 'agent') } });
    expect(role.status).to.equal(400);
    expect(role.body.details[0].field).to.equal('role_id');
    const division = await s.call('PATCH', `/api/agents/${agent.id}`, { body: { division_ids: [await addDivision(other)] } });
    expect(division.status).to.equal(400);
    expect(division.body.details[0].field).to.equal('division_ids');
    expect((await s.call('PATCH', '/api/agents/123', { body: { name: 'X' } })).status).to.equal(400);
  });

  it('answers 404 for another tenant’s agent and leaves it unchanged', async () => {
    const res = await other.call('PATCH', `/api/agents/${agent.id}`, { body: { name: 'Hijacked' } });
    expect(res.status).to.equal(404);
    expect((await s.call('GET', `/api/agents/${agent.id}`)).body.name).to.equal(agent.name);
  });

  it('refuses roles the caller does not hold and changes to agents who outrank the caller (403)', async () => {
    const manager = await userWithPermissions(s, ['agents.view', 'agents.manage', 'conversations.view']);
    const low = await addAgent(s, { role_id: await customRole(s, ['conversations.view']) });
    const promote = await manager.call('PATCH', `/api/agents/${low.id}`, { body: { role_id: builtInRole(s, 'admin') } });
    expect(promote.status).to.equal(403);
    const promoteSelf = await manager.call('PATCH', `/api/agents/${manager.userId}`, { body: { role_id: builtInRole(s, 'admin') } });
    expect(promoteSelf.status).to.equal(403);
    const takeover = await manager.call('PATCH', `/api/agents/${s.userId}`, { body: { password: 'i-own-you-now' } });
    expect(takeover.status).to.equal(403);
    expect((await login(s.email, s.password)).status).to.equal(200);
    const fine = await manager.call('PATCH', `/api/agents/${low.id}`, { body: { name: 'Still Low' } });
    expect(fine.status).to.equal(200);
    expect(fine.body.name).to.equal('Still Low');
  });

  it('deactivation signs the agent out and stops auto-assignment; reactivation lets them back in', async () => {
    const a = await addAgent(s);
    const session = await login(a.email, a.password);
    const token = session.body.token as string;
    expect((await api('PATCH', `/api/agents/${a.id}/status`, { token, body: { status: 'online' } })).status).to.equal(200);
    const off = await s.call('PATCH', `/api/agents/${a.id}`, { body: { is_active: false } });
    expect(off.status).to.equal(200);
    expect(off.body).to.include({ is_active: false, status: 'offline' });
    expect((await api('GET', '/api/auth/me', { token })).status).to.equal(401);
    expect((await login(a.email, a.password)).status).to.equal(401);
    const on = await s.call('PATCH', `/api/agents/${a.id}`, { body: { is_active: true } });
    expect(on.body.is_active).to.equal(true);
    expect((await login(a.email, a.password)).status).to.equal(200);
  });

  it('never lets the organization lose its last active admin (422)', async () => {
    const t = await createSession();
    const demote = await t.call('PATCH', `/api/agents/${t.userId}`, { body: { role_id: builtInRole(t, 'agent') } });
    expect(demote.status).to.equal(422);
    expect(demote.body.code).to.equal('state_not_allowed');
    const selfOff = await t.call('PATCH', `/api/agents/${t.userId}`, { body: { is_active: false } });
    expect(selfOff.status).to.equal(422);
    // Someone holding every permission, but not through the admin role, still cannot do it.
    const boss = await userWithPermissions(t, [...ALL_PERMISSIONS]);
    const off = await boss.call('PATCH', `/api/agents/${t.userId}`, { body: { is_active: false } });
    expect(off.status).to.equal(422);
    const second = await addAgent(t, { role_id: builtInRole(t, 'admin') });
    const nowOk = await t.call('PATCH', `/api/agents/${t.userId}`, { body: { role_id: builtInRole(t, 'supervisor') } });
    expect(nowOk.status).to.equal(200);
    const last = await boss.call('PATCH', `/api/agents/${second.id}`, { body: { role_id: builtInRole(t, 'agent') } });
    expect(last.status).to.equal(422);
  });

  it('lets only one of two admins demoting each other at the same time succeed', async () => {
    const t = await createSession();
    const b = await addAgent(t, { role_id: builtInRole(t, 'admin') });
    const bSession = (await login(b.email, b.password)).body.token as string;
    const [one, two] = await Promise.all([
      t.call('PATCH', `/api/agents/${b.id}`, { body: { role_id: builtInRole(t, 'agent') } }),
      api('PATCH', `/api/agents/${t.userId}`, { token: bSession, body: { role_id: builtInRole(t, 'agent') } }),
    ]);
    expect([one.status, two.status].sort()).to.deep.equal([200, 422]);
    const admins = await t.call('GET', `/api/agents?role_id=${builtInRole(t, 'admin')}`);
    expect(admins.body.data).to.have.length(1);
  });

  it('answers 422 for a deleted agent', async () => {
    const a = await addAgent(s);
    await s.call('DELETE', `/api/agents/${a.id}`);
    const res = await s.call('PATCH', `/api/agents/${a.id}`, { body: { is_active: true } });
    expect(res.status).to.equal(422);
  });

  it('records agent.updated', async () => {
    await s.call('PATCH', `/api/agents/${agent.id}`, { body: { max_concurrent_conversations: 7 } });
    const entries = await activityLogs.find({ tenant_id: s.tenantId, action: 'agent.updated', resource_id: agent.id });
    expect(entries.map((e) => e.details.changes)).to.deep.include({ max_concurrent_conversations: 7 });
  });
});

describe('DELETE /api/agents/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let victim: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    victim = await addAgent(s);
  });
  itChecksAccess('DELETE', () => `/api/agents/${victim.id}`, 'agents.manage', () => s);

  it('soft-deletes: history still shows the agent, but they can no longer sign in or use old credentials', async () => {
    const division = await addDivision(s);
    const a = await addAgent(s, { division_ids: [division] });
    const token = (await login(a.email, a.password)).body.token as string;
    const keyId = randomUUID();
    const key = generateApiKey(keyId);
    await apiKeys.insert({
      _id: keyId,
      tenant_id: s.tenantId,
      user_id: a.id,
      name: 'integration',
      prefix: key.prefix,
      secret_hash: key.secret_hash,
      permissions: null,
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
    });
    expect((await api('GET', '/api/auth/me', { token: key.key })).status).to.equal(200);

    const res = await s.call('DELETE', `/api/agents/${a.id}`);
    expect(res.status).to.equal(200);
    expect(res.body.message).to.be.a('string');

    const shown = await s.call('GET', `/api/agents/${a.id}`);
    expect(shown.status).to.equal(200);
    expect(shown.body).to.include({ id: a.id, name: a.name, email: a.email, is_active: false, status: 'offline' });
    expect(shown.body.deleted_at).to.be.a('string');
    expect(shown.body.division_ids).to.deep.equal([]);
    expect((await s.call('GET', `/api/divisions/${division}`)).body.agents).to.deep.equal([]);

    expect((await login(a.email, a.password)).status).to.equal(401);
    expect((await api('GET', '/api/auth/me', { token })).status).to.equal(401);
    expect((await api('GET', '/api/auth/me', { token: key.key })).status).to.equal(401);
    expect((await apiKeys.findOwned(s.tenantId, keyId)).revoked_at).to.be.an.instanceOf(Date);
  });

  it('frees the e-mail for a new agent', async () => {
    const a = await addAgent(s);
    await s.call('DELETE', `/api/agents/${a.id}`);
    const again = await addAgent(s, { email: a.email, password: 'another-pass-3' });
    expect(again.id).not.to.equal(a.id);
    const signedIn = await login(a.email, 'another-pass-3');
    expect(signedIn.status).to.equal(200);
    expect(signedIn.body.agent.id).to.equal(again.id);
    expect((await s.call('GET', `/api/agents/${a.id}`)).body.email).to.equal(a.email);
  });

  it('frees the e-mail of a deleted admin (deleted through the tenant actor)', async () => {
    const a = await addAgent(s, { role_id: builtInRole(s, 'admin') });
    expect((await s.call('DELETE', `/api/agents/${a.id}`)).status).to.equal(200);
    const again = await addAgent(s, { email: a.email.toUpperCase() });
    expect(again.id).not.to.equal(a.id);
  });

  it('answers 422 for oneself, the last active admin and an agent already deleted', async () => {
    const t = await createSession();
    const self = await t.call('DELETE', `/api/agents/${t.userId}`);
    expect(self.status).to.equal(422);
    const boss = await userWithPermissions(t, [...ALL_PERMISSIONS]);
    const lastAdmin = await boss.call('DELETE', `/api/agents/${t.userId}`);
    expect(lastAdmin.status).to.equal(422);
    expect(lastAdmin.body.message).to.match(/last active admin/);
    expect((await t.call('GET', '/api/auth/me')).status).to.equal(200);
    const a = await addAgent(t);
    expect((await t.call('DELETE', `/api/agents/${a.id}`)).status).to.equal(200);
    expect((await t.call('DELETE', `/api/agents/${a.id}`)).status).to.equal(422);
  });

  it('answers 403 for an agent who outranks the caller', async () => {
    const manager = await userWithPermissions(s, ['agents.view', 'agents.manage']);
    const res = await manager.call('DELETE', `/api/agents/${s.userId}`);
    expect(res.status).to.equal(403);
    expect((await s.call('GET', `/api/agents/${s.userId}`)).body.deleted_at).to.equal(null);
  });

  it('answers 404 for another tenant’s agent and 400 for a malformed id', async () => {
    const res = await other.call('DELETE', `/api/agents/${victim.id}`);
    expect(res.status).to.equal(404);
    expect((await s.call('GET', `/api/agents/${victim.id}`)).body.deleted_at).to.equal(null);
    expect((await s.call('DELETE', '/api/agents/nope')).status).to.equal(400);
  });

  it('records agent.deleted', async () => {
    await s.call('DELETE', `/api/agents/${victim.id}`);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'agent.deleted', resource_id: victim.id });
    expect(entry?.resource_type).to.equal('agent');
  });
});

describe('PATCH /api/agents/{id}/status', () => {
  let s: TestSession;
  let other: TestSession;
  let plain: TestSession;
  before(async () => {
    s = await createSession();
    other = await createSession();
    plain = await userWithPermissions(s, []);
  });
  itChecksAccess('PATCH', () => `/api/agents/${s.userId}/status`, 'authenticated', () => s, { body: { status: 'online' } });

  it('lets any agent toggle their own status', async () => {
    const before = Date.now();
    const res = await plain.call('PATCH', `/api/agents/${plain.userId}/status`, { body: { status: 'online' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.status).to.equal('online');
    expect(Date.parse(res.body.status_changed_at)).to.be.at.least(before - 1000);
    const online = await s.call('GET', '/api/agents?status=online');
    expect(online.body.data.map((a: any) => a.id)).to.deep.equal([plain.userId]);
    const again = await plain.call('PATCH', `/api/agents/${plain.userId}/status`, { body: { status: 'online' } });
    expect(again.body.status_changed_at).to.equal(res.body.status_changed_at);
    const off = await plain.call('PATCH', `/api/agents/${plain.userId}/status`, { body: { status: 'offline' } });
    expect(off.body.status).to.equal('offline');
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'agent.status_changed', resource_id: plain.userId });
    expect(entry?.actor_id).to.equal(plain.userId);
  });

  it('changes another agent’s status only with agents.manage (403 otherwise)', async () => {
    const denied = await plain.call('PATCH', `/api/agents/${s.userId}/status`, { body: { status: 'online' } });
    expect(denied.status).to.equal(403);
    expect(denied.body.message).to.include('agents.manage');
    const allowed = await s.call('PATCH', `/api/agents/${plain.userId}/status`, { body: { status: 'online' } });
    expect(allowed.status).to.equal(200);
    expect(allowed.body.status).to.equal('online');
  });

  it('answers 404 for another tenant’s agent, with or without agents.manage', async () => {
    const weak = await userWithPermissions(other, []);
    for (const caller of [other, weak]) {
      const res = await caller.call('PATCH', `/api/agents/${s.userId}/status`, { body: { status: 'online' } });
      expect(res.status).to.equal(404);
    }
    expect((await s.call('GET', `/api/agents/${s.userId}`)).body.status).to.equal('offline');
  });

  it('answers 422 for a deactivated or deleted agent', async () => {
    const a = await addAgent(s);
    await s.call('PATCH', `/api/agents/${a.id}`, { body: { is_active: false } });
    expect((await s.call('PATCH', `/api/agents/${a.id}/status`, { body: { status: 'online' } })).status).to.equal(422);
    await s.call('DELETE', `/api/agents/${a.id}`);
    const res = await s.call('PATCH', `/api/agents/${a.id}/status`, { body: { status: 'online' } });
    expect(res.status).to.equal(422);
    expect(res.body.code).to.equal('state_not_allowed');
  });

  it('answers 400 for a bad body or id', async () => {
    for (const body of [{ status: 'away' }, { status: 'online', note: 'x' }, {}, { status: true }]) {
      const res = await s.call('PATCH', `/api/agents/${s.userId}/status`, { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    expect((await s.call('PATCH', '/api/agents/xyz/status', { body: { status: 'online' } })).status).to.equal(400);
  });
});
