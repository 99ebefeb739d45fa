import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { naturalId } from '../../src/ids.js';
import { activityLogs } from '../../src/models/activity-log.js';
import { divisionMembers } from '../../src/models/division.js';
import { saveSchedule, workingHours } from '../../src/models/working-hours.js';
import { scheduleId } from '../../src/services/working-hours-defaults.js';
import { itChecksAccess } from '../support/access.js';
import { expectOneWinner, insertClaim, type ClaimScope } from '../support/claims.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

const suffix = () => randomBytes(4).toString('hex');

async function addDivision(s: TestSession, body: Record<string, unknown> = {}) {
  const res = await s.call('POST', '/api/divisions', { body: { name: `Division ${suffix()}`, ...body } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { id: string; name: string; [k: string]: any };
}

async function addAgent(s: TestSession, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await s.call('POST', '/api/agents', {
    body: {
      name: `Agent ${suffix()}`,
      email: `agent-${suffix()}@example.test`,
      password: 'sandi-rahasia-1',
      role_id: naturalId('role', s.tenantId, 'agent'),
      ...overrides,
    },
  });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id as string;
}

const ids = (list: { id: string }[]) => list.map((x) => x.id);

const nameClaims = (s: TestSession): ClaimScope => ({ kind: 'division.name', scopeId: s.tenantId });

describe('GET /api/divisions', () => {
  let s: TestSession;
  let other: TestSession;
  let sales: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    sales = await addDivision(s, { name: 'Sales' });
    await addDivision(s, { name: 'Support (L1)' });
    await addDivision(s, { name: 'Archive', is_active: false });
    await addDivision(other, { name: 'Billing' });
    await addAgent(s, { division_ids: [sales.id] });
    await addAgent(s, { division_ids: [sales.id] });
  });
  itChecksAccess('GET', () => '/api/divisions', 'divisions.view', () => s);

  it('lists the tenant’s divisions by name with agent counts', async () => {
    const res = await s.call('GET', '/api/divisions');
    expect(res.status).to.equal(200);
    expect(res.body.data.map((d: any) => d.name)).to.deep.equal(['Archive', 'Sales', 'Support (L1)']);
    expect(res.body.data.map((d: any) => d.agent_count)).to.deep.equal([0, 2, 0]);
    expect(res.body.data[1]).to.include({ id: sales.id, description: '', is_active: true });
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 3, total_pages: 1 });
  });

  it('filters by name (any case, literally) and by is_active, and pages', async () => {
    const q = await s.call('GET', `/api/divisions?q=${encodeURIComponent('(l1')}`);
    expect(q.body.data.map((d: any) => d.name)).to.deep.equal(['Support (L1)']);
    const inactive = await s.call('GET', '/api/divisions?is_active=false');
    expect(inactive.body.data.map((d: any) => d.name)).to.deep.equal(['Archive']);
    const page2 = await s.call('GET', '/api/divisions?limit=2&page=2');
    expect(page2.body.data.map((d: any) => d.name)).to.deep.equal(['Support (L1)']);
    expect(page2.body.pagination).to.include({ total: 3, total_pages: 2 });
  });

  it('answers 400 for bad query parameters', async () => {
    for (const q of ['limit=0', 'limit=500', 'is_active=maybe', 'sort=name', 'q=']) {
      expect((await s.call('GET', `/api/divisions?${q}`)).status, q).to.equal(400);
    }
  });
});

describe('POST /api/divisions', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    s = await createSession();
    other = await createSession();
  });
  itChecksAccess('POST', () => '/api/divisions', 'divisions.manage', () => s, { body: { name: 'X' } });

  it('creates a division', async () => {
    const res = await s.call('POST', '/api/divisions', { body: { name: '  VIP Support ', description: 'Top customers' } });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ name: 'VIP Support', description: 'Top customers', is_active: true, agent_count: 0 });
    expect(res.body.id).to.match(/^[0-9a-f-]{36}$/);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'division.created', resource_id: res.body.id });
    expect(entry?.resource_type).to.equal('division');
  });

  it('answers 409 for a name the tenant already uses (any case), but not for another tenant’s', async () => {
    await addDivision(s, { name: 'Returns' });
    for (const name of ['Returns', 'RETURNS']) {
      const res = await s.call('POST', '/api/divisions', { body: { name } });
      expect(res.status, name).to.equal(409);
      expect(res.body.code).to.equal('conflict');
    }
    await addDivision(other, { name: 'Returns' });
  });

  it('gives one of two simultaneous creations with one name a 201 and the other a 409', async () => {
    for (let round = 0; round < 3; round++) {
      const name = `Twin ${suffix()}`;
      await expectOneWinner(() => s.call('POST', '/api/divisions', { body: { name } }));
      expect((await s.call('GET', `/api/divisions?q=${encodeURIComponent(name)}`)).body.data).to.have.length(1);
    }
  });

  it('is not blocked by a claim its owner no longer backs, but is by one taken moments ago', async () => {
    const stranded = `Stranded ${suffix()}`;
    await insertClaim(nameClaims(s), stranded);
    await addDivision(s, { name: stranded });
    const renamedAway = await addDivision(s);
    const left = `Left behind ${suffix()}`;
    await insertClaim(nameClaims(s), left, { ownerId: renamedAway.id });
    await addDivision(s, { name: left.toUpperCase() });
    const inFlight = `In flight ${suffix()}`;
    await insertClaim(nameClaims(s), inFlight, { ageMs: 0 });
    const res = await s.call('POST', '/api/divisions', { body: { name: inFlight } });
    expect(res.status).to.equal(409);
    expect(res.body.message).to.equal(`A division named "${inFlight}" already exists`);
  });

  it('answers 400 for bad fields', async () => {
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 'A', is_active: 'yes' }, { name: 'A', colour: 'red' }, { name: 7 }]) {
      const res = await s.call('POST', '/api/divisions', { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
  });
});

describe('GET /api/divisions/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let division: any;
  let agentA: string;
  let agentB: string;
  before(async () => {
    s = await createSession();
    other = await createSession();
    division = await addDivision(s);
    agentB = await addAgent(s, { name: 'Budi', division_ids: [division.id] });
    agentA = await addAgent(s, { name: 'Ana', division_ids: [division.id] });
  });
  itChecksAccess('GET', () => `/api/divisions/${division.id}`, 'divisions.view', () => s);

  it('answers the division with its agents by name', async () => {
    const res = await s.call('GET', `/api/divisions/${division.id}`);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: division.id, name: division.name, agent_count: 2 });
    expect(ids(res.body.agents)).to.deep.equal([agentA, agentB]);
    expect(res.body.agents[0]).to.include({ name: 'Ana', status: 'offline' });
    expect(res.body.agents[0].division_ids).to.deep.equal([division.id]);
    expect(res.body.agents[0]).not.to.have.property('password_hash');
  });

  it('answers 404 for another tenant’s division and 400 for a malformed id', async () => {
    const res = await other.call('GET', `/api/divisions/${division.id}`);
    expect(res.status).to.equal(404);
    expect(JSON.stringify(res.body)).not.to.include(division.name);
    expect((await s.call('GET', `/api/divisions/${randomUUID()}`)).status).to.equal(404);
    expect((await s.call('GET', '/api/divisions/abc')).status).to.equal(400);
  });
});

describe('PATCH /api/divisions/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let division: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    division = await addDivision(s, { name: 'Sales' });
  });
  itChecksAccess('PATCH', () => `/api/divisions/${division.id}`, 'divisions.manage', () => s, { body: { name: 'X' } });

  it('updates name, description and is_active', async () => {
    const res = await s.call('PATCH', `/api/divisions/${division.id}`, { body: { name: 'SALES', description: 'New deals', is_active: false } });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: division.id, name: 'SALES', description: 'New deals', is_active: false, agent_count: 0 });
    const again = await s.call('GET', `/api/divisions/${division.id}`);
    expect(again.body).to.include({ name: 'SALES', is_active: false });
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'division.updated', resource_id: division.id });
    expect(entry?.details.changes).to.deep.equal({ name: 'SALES', description: 'New deals', is_active: false });
  });

  it('answers 409 when renamed to another division’s name', async () => {
    await addDivision(s, { name: 'Support' });
    const res = await s.call('PATCH', `/api/divisions/${division.id}`, { body: { name: 'support' } });
    expect(res.status).to.equal(409);
  });

  it('frees the old name for a new division, and lets a division take an old name back', async () => {
    const d = await addDivision(s, { name: 'Billing' });
    expect((await s.call('PATCH', `/api/divisions/${d.id}`, { body: { name: 'Invoices' } })).status).to.equal(200);
    const heir = await addDivision(s, { name: 'billing' });
    expect((await s.call('POST', '/api/divisions', { body: { name: 'INVOICES' } })).status).to.equal(409);
    expect((await s.call('PATCH', `/api/divisions/${heir.id}`, { body: { name: 'Accounts' } })).status).to.equal(200);
    const back = await s.call('PATCH', `/api/divisions/${d.id}`, { body: { name: 'Billing' } });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
  });

  it('answers 400 for an empty or bad body, 404 for another tenant’s division', async () => {
    for (const body of [{}, { name: '' }, { is_active: 1 }, { agent_ids: [] }]) {
      expect((await s.call('PATCH', `/api/divisions/${division.id}`, { body })).status, JSON.stringify(body)).to.equal(400);
    }
    const res = await other.call('PATCH', `/api/divisions/${division.id}`, { body: { name: 'Mine now' } });
    expect(res.status).to.equal(404);
    expect((await s.call('GET', `/api/divisions/${division.id}`)).body.name).not.to.equal('Mine now');
  });
});

describe('DELETE /api/divisions/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let division: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    division = await addDivision(s);
  });
  itChecksAccess('DELETE', () => `/api/divisions/${division.id}`, 'divisions.manage', () => s);

  it('removes the division, its memberships and its working-hours override; the agents stay', async () => {
    const d = await addDivision(s);
    const keep = await addDivision(s);
    const agent = await addAgent(s, { division_ids: [d.id, keep.id] });
    const now = new Date();
    await saveSchedule({
      _id: scheduleId(s.tenantId, d.id),
      tenant_id: s.tenantId,
      division_id: d.id,
      entries: [{ id: randomUUID(), day_of_week: 1, start_time: '09:00:00', end_time: '12:00:00', is_active: true, created_at: now, updated_at: now }],
      holidays: [],
    });
    const res = await s.call('DELETE', `/api/divisions/${d.id}`);
    expect(res.status).to.equal(200);
    expect(res.body.message).to.include(d.name);
    expect((await s.call('GET', `/api/divisions/${d.id}`)).status).to.equal(404);
    expect(await workingHours.findOwnedOrNull(s.tenantId, scheduleId(s.tenantId, d.id))).to.equal(null);
    expect(await workingHours.findOwnedOrNull(s.tenantId, scheduleId(s.tenantId, null))).not.to.equal(null);
    expect(await divisionMembers.count({ tenant_id: s.tenantId, division_id: d.id })).to.equal(0);
    const a = await s.call('GET', `/api/agents/${agent}`);
    expect(a.status).to.equal(200);
    expect(a.body.division_ids).to.deep.equal([keep.id]);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'division.deleted', resource_id: d.id });
    expect(entry?.actor_id).to.equal(s.userId);
  });

  it('frees the name for a new division', async () => {
    const d = await addDivision(s, { name: 'Seasonal' });
    expect((await s.call('DELETE', `/api/divisions/${d.id}`)).status).to.equal(200);
    const again = await addDivision(s, { name: 'SEASONAL' });
    expect(again.id).not.to.equal(d.id);
  });

  it('answers 404 for another tenant’s division (which stays) and 400 for a malformed id', async () => {
    expect((await other.call('DELETE', `/api/divisions/${division.id}`)).status).to.equal(404);
    expect((await s.call('GET', `/api/divisions/${division.id}`)).status).to.equal(200);
    expect((await s.call('DELETE', '/api/divisions/123')).status).to.equal(400);
  });
});

describe('GET /api/divisions/{id}/agents', () => {
  let s: TestSession;
  let other: TestSession;
  let division: any;
  let members: string[];
  before(async () => {
    s = await createSession();
    other = await createSession();
    division = await addDivision(s);
    members = [];
    for (const name of ['Citra', 'Ana', 'Budi']) members.push(await addAgent(s, { name, division_ids: [division.id] }));
    await addAgent(s, { name: 'Outside' });
  });
  itChecksAccess('GET', () => `/api/divisions/${division.id}/agents`, 'divisions.view', () => s);

  it('pages through the division’s agents by name', async () => {
    const first = await s.call('GET', `/api/divisions/${division.id}/agents?limit=2`);
    expect(first.status).to.equal(200);
    expect(first.body.data.map((a: any) => a.name)).to.deep.equal(['Ana', 'Budi']);
    expect(first.body.pagination).to.deep.equal({ page: 1, limit: 2, total: 3, total_pages: 2 });
    const second = await s.call('GET', `/api/divisions/${division.id}/agents?limit=2&page=2`);
    expect(second.body.data.map((a: any) => a.name)).to.deep.equal(['Citra']);
    const q = await s.call('GET', `/api/divisions/${division.id}/agents?q=bud`);
    expect(q.body.data.map((a: any) => a.name)).to.deep.equal(['Budi']);
  });

  it('answers 404 for another tenant’s division and 400 for bad input', async () => {
    expect((await other.call('GET', `/api/divisions/${division.id}/agents`)).status).to.equal(404);
    expect((await s.call('GET', '/api/divisions/x/agents')).status).to.equal(400);
    expect((await s.call('GET', `/api/divisions/${division.id}/agents?status=busy`)).status).to.equal(400);
    expect((await s.call('GET', `/api/divisions/${division.id}/agents?role_id=${randomUUID()}`)).status).to.equal(400);
  });
});

describe('POST /api/divisions/{id}/agents', () => {
  let s: TestSession;
  let other: TestSession;
  let division: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    division = await addDivision(s);
  });
  itChecksAccess('POST', () => `/api/divisions/${division.id}/agents`, 'divisions.manage', () => s, { body: { agent_ids: [randomUUID()] } });

  it('adds agents and answers the division with all its agents', async () => {
    const d = await addDivision(s);
    const a = await addAgent(s, { name: 'Ana' });
    const b = await addAgent(s, { name: 'Budi' });
    const res = await s.call('POST', `/api/divisions/${d.id}/agents`, { body: { agent_ids: [b, a] } });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: d.id, agent_count: 2 });
    expect(ids(res.body.agents)).to.deep.equal([a, b]);
    expect((await s.call('GET', `/api/agents/${a}`)).body.division_ids).to.deep.equal([d.id]);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'division.agents_added', resource_id: d.id });
    expect(entry?.details.changes).to.deep.equal({ agent_ids: [b, a] });
  });

  it('is idempotent: adding the same member twice keeps one membership', async () => {
    const d = await addDivision(s);
    const a = await addAgent(s);
    const [one, two] = await Promise.all([
      s.call('POST', `/api/divisions/${d.id}/agents`, { body: { agent_ids: [a, a] } }),
      s.call('POST', `/api/divisions/${d.id}/agents`, { body: { agent_ids: [a] } }),
    ]);
    expect([one.status, two.status]).to.deep.equal([200, 200]);
    const again = await s.call('POST', `/api/divisions/${d.id}/agents`, { body: { agent_ids: [a] } });
    expect(again.body.agent_count).to.equal(1);
    expect(await divisionMembers.count({ tenant_id: s.tenantId, division_id: d.id })).to.equal(1);
  });

  it('keeps every agent when ten are added to one division at the same time', async () => {
    const d = await addDivision(s);
    const agents = await Promise.all(Array.from({ length: 10 }, () => addAgent(s)));
    const answers = await Promise.all(agents.map((a) => s.call('POST', `/api/divisions/${d.id}/agents`, { body: { agent_ids: [a] } })));
    expect(answers.map((r) => r.status)).to.deep.equal(Array(10).fill(200));
    const res = await s.call('GET', `/api/divisions/${d.id}`);
    expect(res.body.agent_count).to.equal(10);
    expect(ids(res.body.agents)).to.have.members(agents);
  });

  it('answers 400 listing unknown, other-tenant and deleted agents, and adds none', async () => {
    const d = await addDivision(s);
    const good = await addAgent(s);
    const deleted = await addAgent(s);
    await s.call('DELETE', `/api/agents/${deleted}`);
    const theirs = await addAgent(other);
    const unknown = randomUUID();
    const res = await s.call('POST', `/api/divisions/${d.id}/agents`, { body: { agent_ids: [good, unknown, theirs, deleted] } });
    expect(res.status).to.equal(400);
    expect(res.body.details.map((x: any) => x.value)).to.have.members([unknown, theirs, deleted]);
    expect(res.body.details[0].field).to.equal('agent_ids');
    expect((await s.call('GET', `/api/divisions/${d.id}`)).body.agents).to.deep.equal([]);
  });

  it('answers 400 for a bad body and 404 for another tenant’s division', async () => {
    const a = await addAgent(s);
    const tooMany = Array.from({ length: 101 }, () => randomUUID());
    for (const body of [{}, { agent_ids: [] }, { agent_ids: ['x'] }, { agent_ids: tooMany }, { agent_ids: [a], role: 'x' }, { agent_ids: a }]) {
      expect((await s.call('POST', `/api/divisions/${division.id}/agents`, { body })).status, JSON.stringify(body).slice(0, 80)).to.equal(400);
    }
    const theirs = await addDivision(other);
    expect((await s.call('POST', `/api/divisions/${theirs.id}/agents`, { body: { agent_ids: [a] } })).status).to.equal(404);
    expect((await other.call('GET', `/api/divisions/${theirs.id}`)).body.agents).to.deep.equal([]);
  });

  it('accepts a caller with divisions.manage but not agents.manage', async () => {
    const lead = await userWithPermissions(s, ['divisions.manage']);
    const a = await addAgent(s);
    const res = await lead.call('POST', `/api/divisions/${division.id}/agents`, { body: { agent_ids: [a] } });
    expect(res.status).to.equal(200);
    expect(ids(res.body.agents)).to.include(a);
  });
});

describe('DELETE /api/divisions/{id}/agents', () => {
  let s: TestSession;
  let other: TestSession;
  let division: any;
  before(async () => {
    s = await createSession();
    other = await createSession();
    division = await addDivision(s);
  });
  itChecksAccess('DELETE', () => `/api/divisions/${division.id}/agents`, 'divisions.manage', () => s, { body: { agent_ids: [randomUUID()] } });

  it('removes the agents, ignores non-members and answers the remaining agents', async () => {
    const d = await addDivision(s);
    const a = await addAgent(s, { division_ids: [d.id] });
    const b = await addAgent(s, { division_ids: [d.id] });
    const outsider = await addAgent(s);
    const res = await s.call('DELETE', `/api/divisions/${d.id}/agents`, { body: { agent_ids: [a, outsider, randomUUID()] } });
    expect(res.status).to.equal(200);
    expect(ids(res.body.agents)).to.deep.equal([b]);
    expect(res.body.agent_count).to.equal(1);
    expect((await s.call('GET', `/api/agents/${a}`)).body.division_ids).to.deep.equal([]);
    const again = await s.call('DELETE', `/api/divisions/${d.id}/agents`, { body: { agent_ids: [a] } });
    expect(ids(again.body.agents)).to.deep.equal([b]);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'division.agents_removed', resource_id: d.id });
    expect(entry?.resource_type).to.equal('division');
  });

  it('answers 404 for another tenant’s division, leaving its members, and 400 for a bad body', async () => {
    const theirs = await addDivision(other);
    const member = await addAgent(other, { division_ids: [theirs.id] });
    const res = await s.call('DELETE', `/api/divisions/${theirs.id}/agents`, { body: { agent_ids: [member] } });
    expect(res.status).to.equal(404);
    expect(ids((await other.call('GET', `/api/divisions/${theirs.id}`)).body.agents)).to.deep.equal([member]);
    for (const body of [{}, { agent_ids: [] }, { agent_ids: ['nope'] }, { agent_ids: [member], extra: 1 }]) {
      expect((await s.call('DELETE', `/api/divisions/${division.id}/agents`, { body })).status, JSON.stringify(body)).to.equal(400);
    }
  });
});
