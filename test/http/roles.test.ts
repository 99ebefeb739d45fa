import { expect } from 'chai';
import { ALL_PERMISSIONS } from '../../src/auth/permissions.js';
import { newId } from '../../src/ids.js';
import { users } from '../../src/models/user.js';
import { itChecksAccess } from '../support/access.js';
import { expectOneWinner, insertClaim, type ClaimScope } from '../support/claims.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

/** Inserts a live agent holding `roleId` (the Agents API is another group's; the role guard only needs the row). */
async function agentWithRole(s: TestSession, roleId: string) {
  const id = newId();
  return users.insert({
    _id: id,
    tenant_id: s.tenantId,
    name: `Holder ${id.slice(0, 6)}`,
    email: `holder-${id}@example.test`,
    email_key: `holder-${id}@example.test`,
    password_hash: 'x',
    role_id: roleId,
    status: 'offline',
    status_changed_at: null,
    max_concurrent_conversations: 5,
    is_active: true,
    last_login_at: null,
    deleted_at: null,
  });
}

const nameClaims = (s: TestSession): ClaimScope => ({ kind: 'role.name', scopeId: s.tenantId });

async function roleByName(s: TestSession, name: string): Promise<any> {
  const res = await s.call('GET', '/api/roles');
  const role = res.body.find((r: { name: string }) => r.name === name);
  if (!role) throw new Error(`no role ${name}`);
  return role;
}

const MALFORMED_ID = 'not-a-uuid';

describe('GET /api/roles', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await s.call('POST', '/api/roles', { body: { name: 'Billing desk', permissions: ['billing.view'] } });
    await s.call('POST', '/api/roles', { body: { name: 'auditor', permissions: ['activity_logs.view'] } });
    await other.call('POST', '/api/roles', { body: { name: 'Other tenant role', permissions: [] } });
  });
  itChecksAccess('GET', () => '/api/roles', 'roles.view', () => s);

  it('lists built-in roles first, then custom roles by name, each with its agent count', async () => {
    const res = await s.call('GET', '/api/roles');
    expect(res.status).to.equal(200);
    const list = res.body as { name: string; is_system: boolean; agent_count: number; permissions: string[] }[];
    expect(list.slice(0, 3).map((r) => r.name)).to.deep.equal(['admin', 'agent', 'supervisor']);
    expect(list.slice(0, 3).every((r) => r.is_system)).to.equal(true);
    const custom = list.slice(3).map((r) => r.name);
    expect(custom).to.deep.equal([...custom].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })));
    expect(custom).to.include.members(['auditor', 'Billing desk']);
    const admin = list.find((r) => r.name === 'admin');
    expect(admin?.agent_count).to.equal(1);
    expect(admin?.permissions).to.have.members(ALL_PERMISSIONS);
    expect(list.find((r) => r.name === 'auditor')?.agent_count).to.equal(0);
  });

  it('counts live agents only', async () => {
    const role = await roleByName(s, 'auditor');
    const a = await agentWithRole(s, role.id);
    await agentWithRole(s, role.id);
    expect((await roleByName(s, 'auditor')).agent_count).to.equal(2);
    await users.update(s.tenantId, a._id, { deleted_at: new Date() });
    expect((await roleByName(s, 'auditor')).agent_count).to.equal(1);
  });

  it('never shows another tenant’s roles', async () => {
    const res = await s.call('GET', '/api/roles');
    expect(res.body.map((r: { name: string }) => r.name)).not.to.include('Other tenant role');
    const ids = new Set((await other.call('GET', '/api/roles')).body.map((r: { id: string }) => r.id));
    expect(res.body.some((r: { id: string }) => ids.has(r.id))).to.equal(false);
  });

  it('answers 400 for an unknown query parameter', async () => {
    const res = await s.call('GET', '/api/roles?page=2');
    expect(res.status).to.equal(400);
    expect(res.body.details[0].in).to.equal('query');
  });
});

describe('POST /api/roles', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('POST', () => '/api/roles', 'roles.manage', () => s, { body: { name: 'x', permissions: [] } });

  it('creates a custom role with deduplicated permissions in catalogue order', async () => {
    const res = await s.call('POST', '/api/roles', {
      body: { name: '  Team lead ', description: 'Leads a shift', permissions: ['conversations.assign', 'agents.view', 'agents.view'] },
    });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ name: 'Team lead', description: 'Leads a shift', is_system: false, agent_count: 0 });
    expect(res.body.permissions).to.deep.equal(['agents.view', 'conversations.assign']);
    expect(res.body.id).to.match(/^[0-9a-f-]{36}$/);
    expect(res.body.created_at).to.match(/Z$/);
    const got = await s.call('GET', `/api/roles/${res.body.id}`);
    expect(got.body.permissions).to.deep.equal(['agents.view', 'conversations.assign']);
  });

  it('answers 400 listing every unknown permission', async () => {
    const res = await s.call('POST', '/api/roles', { body: { name: 'Bad', permissions: ['agents.view', 'foo.bar', 'root'] } });
    expect(res.status).to.equal(400);
    expect(res.body.code).to.equal('validation_error');
    expect(res.body.message).to.include('foo.bar').and.include('root');
    expect(res.body.details[0].field).to.equal('permissions');
  });

  it('answers 400 for wrong types, missing and unknown fields, and out-of-range values', async () => {
    const cases = [
      { permissions: [] },
      { name: 'A' },
      { name: 42, permissions: [] },
      { name: 'A', permissions: 'agents.view' },
      { name: '', permissions: [] },
      { name: '   ', permissions: [] },
      { name: 'x'.repeat(61), permissions: [] },
      { name: 'A', description: 'd'.repeat(501), permissions: [] },
      { name: 'A', permissions: [], is_system: true },
      { name: 'A\u0000B', permissions: [] },
    ];
    for (const body of cases) {
      const res = await s.call('POST', '/api/roles', { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.details).to.be.an('array').that.is.not.empty;
    }
  });

  it('answers 409 for a name already in use, compared without case', async () => {
    expect((await s.call('POST', '/api/roles', { body: { name: 'Night shift', permissions: [] } })).status).to.equal(201);
    const dup = await s.call('POST', '/api/roles', { body: { name: 'NIGHT SHIFT', permissions: [] } });
    expect(dup.status).to.equal(409);
    expect(dup.body.code).to.equal('conflict');
    expect((await s.call('POST', '/api/roles', { body: { name: 'Admin', permissions: [] } })).status).to.equal(409);
  });

  it('gives one of two simultaneous creations with one name a 201 and the other a 409', async () => {
    for (let round = 0; round < 3; round++) {
      const name = `Twin ${Date.now()}-${round}`;
      await expectOneWinner(() => s.call('POST', '/api/roles', { body: { name, permissions: [] } }));
      expect((await s.call('GET', '/api/roles')).body.filter((r: { name: string }) => r.name === name)).to.have.length(1);
    }
  });

  it('is not blocked by a claim its owner no longer backs, but is by one taken moments ago', async () => {
    await insertClaim(nameClaims(s), 'Stranded');
    expect((await s.call('POST', '/api/roles', { body: { name: 'stranded', permissions: [] } })).status).to.equal(201);
    const renamedAway = (await s.call('POST', '/api/roles', { body: { name: 'Moved on', permissions: [] } })).body.id as string;
    await insertClaim(nameClaims(s), 'Left behind', { ownerId: renamedAway });
    expect((await s.call('POST', '/api/roles', { body: { name: 'Left behind', permissions: [] } })).status).to.equal(201);
    await insertClaim(nameClaims(s), 'In flight', { ageMs: 0 });
    const res = await s.call('POST', '/api/roles', { body: { name: 'In flight', permissions: [] } });
    expect(res.status).to.equal(409);
    expect(res.body.message).to.equal('A role named "In flight" already exists');
  });

  it('allows the same name in another tenant', async () => {
    const other = await createSession();
    expect((await other.call('POST', '/api/roles', { body: { name: 'Night shift', permissions: [] } })).status).to.equal(201);
  });

  it('answers 403 when granting a permission the caller does not hold', async () => {
    const manager = await userWithPermissions(s, ['roles.manage', 'roles.view', 'agents.view']);
    const res = await manager.call('POST', '/api/roles', { body: { name: 'Escalated', permissions: ['agents.view', 'billing.manage'] } });
    expect(res.status).to.equal(403);
    expect(res.body.message).to.include('billing.manage').and.not.include('agents.view');
    const ok = await manager.call('POST', '/api/roles', { body: { name: 'Narrow', permissions: ['agents.view'] } });
    expect(ok.status).to.equal(201);
  });
});

describe('GET /api/roles/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let roleId: string;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    roleId = (await s.call('POST', '/api/roles', { body: { name: 'Viewer', permissions: ['contacts.view'] } })).body.id;
  });
  itChecksAccess('GET', () => `/api/roles/${roleId}`, 'roles.view', () => s);

  it('returns the role with its permissions and agent count', async () => {
    await agentWithRole(s, roleId);
    const res = await s.call('GET', `/api/roles/${roleId}`);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: roleId, name: 'Viewer', agent_count: 1 });
    expect(res.body.permissions).to.deep.equal(['contacts.view']);
  });

  it('answers 400 for a malformed id', async () => {
    const res = await s.call('GET', `/api/roles/${MALFORMED_ID}`);
    expect(res.status).to.equal(400);
    expect(res.body.details[0].field).to.equal('id');
  });

  it('answers 404 for another tenant’s role and for an unknown id', async () => {
    const theirs = await other.call('GET', `/api/roles/${roleId}`);
    expect(theirs.status).to.equal(404);
    expect(JSON.stringify(theirs.body)).not.to.include('Viewer');
    expect((await s.call('GET', `/api/roles/${newId()}`)).status).to.equal(404);
  });
});

describe('PATCH /api/roles/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let roleId: string;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    roleId = (await s.call('POST', '/api/roles', { body: { name: 'Support L1', permissions: ['contacts.view', 'messages.send'] } })).body.id;
  });
  itChecksAccess('PATCH', () => `/api/roles/${roleId}`, 'roles.manage', () => s, { body: { description: 'x' } });

  it('changes name, description and the complete permission set', async () => {
    const res = await s.call('PATCH', `/api/roles/${roleId}`, {
      body: { name: 'Support tier 1', description: 'First line', permissions: ['contacts.view', 'notes.manage'] },
    });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ name: 'Support tier 1', description: 'First line' });
    // Catalogue order, whatever order they were sent in.
    expect(res.body.permissions).to.deep.equal(['notes.manage', 'contacts.view']);
    expect(new Date(res.body.updated_at).getTime()).to.be.at.least(new Date(res.body.created_at).getTime());
  });

  it('applies new permissions to signed-in holders on their next request', async () => {
    const holder = await userWithPermissions(s, ['contacts.view']);
    const me = await holder.call('GET', '/api/auth/me');
    expect((await holder.call('GET', '/api/roles')).status).to.equal(403);
    await s.call('PATCH', `/api/roles/${me.body.agent.role_id}`, { body: { permissions: ['contacts.view', 'roles.view'] } });
    expect((await holder.call('GET', '/api/roles')).status).to.equal(200);
  });

  it('allows changing only the case of the role’s own name', async () => {
    const res = await s.call('PATCH', `/api/roles/${roleId}`, { body: { name: 'SUPPORT TIER 1' } });
    expect(res.status).to.equal(200);
    expect(res.body.name).to.equal('SUPPORT TIER 1');
  });

  it('answers 409 when renaming to a name in use', async () => {
    await s.call('POST', '/api/roles', { body: { name: 'Taken', permissions: [] } });
    const res = await s.call('PATCH', `/api/roles/${roleId}`, { body: { name: 'taken' } });
    expect(res.status).to.equal(409);
  });

  it('frees the old name for a new role, and lets a role take an old name back', async () => {
    const id = (await s.call('POST', '/api/roles', { body: { name: 'Night desk', permissions: [] } })).body.id as string;
    expect((await s.call('PATCH', `/api/roles/${id}`, { body: { name: 'Late desk' } })).status).to.equal(200);
    const heir = await s.call('POST', '/api/roles', { body: { name: 'NIGHT DESK', permissions: [] } });
    expect(heir.status, JSON.stringify(heir.body)).to.equal(201);
    expect((await s.call('POST', '/api/roles', { body: { name: 'late desk', permissions: [] } })).status).to.equal(409);
    expect((await s.call('PATCH', `/api/roles/${heir.body.id}`, { body: { name: 'Day desk' } })).status).to.equal(200);
    expect((await s.call('PATCH', `/api/roles/${id}`, { body: { name: 'Night desk' } })).status).to.equal(200);
  });

  it('answers 422 for any change to the built-in admin role', async () => {
    const admin = await roleByName(s, 'admin');
    for (const body of [{ permissions: ['agents.view'] }, { description: 'changed' }, { name: 'owner' }]) {
      const res = await s.call('PATCH', `/api/roles/${admin.id}`, { body });
      expect(res.status, JSON.stringify(body)).to.equal(422);
      expect(res.body.code).to.equal('state_not_allowed');
    }
    expect((await s.call('GET', `/api/roles/${admin.id}`)).body.permissions).to.have.members(ALL_PERMISSIONS);
  });

  it('lets other built-in roles change permissions but not their name', async () => {
    const agent = await roleByName(s, 'agent');
    const renamed = await s.call('PATCH', `/api/roles/${agent.id}`, { body: { name: 'operator' } });
    expect(renamed.status).to.equal(422);
    const same = await s.call('PATCH', `/api/roles/${agent.id}`, { body: { name: 'agent', permissions: ['conversations.view', 'messages.send'] } });
    expect(same.status).to.equal(200);
    expect(same.body).to.include({ name: 'agent', is_system: true });
    expect(same.body.permissions).to.deep.equal(['conversations.view', 'messages.send']);
  });

  it('answers 403 when adding a permission the caller lacks, but allows removing one', async () => {
    const manager = await userWithPermissions(s, ['roles.manage', 'contacts.view']);
    const target = (await s.call('POST', '/api/roles', { body: { name: 'Mixed', permissions: ['contacts.view', 'billing.view'] } })).body.id;
    const add = await manager.call('PATCH', `/api/roles/${target}`, { body: { permissions: ['contacts.view', 'billing.view', 'billing.manage'] } });
    expect(add.status).to.equal(403);
    expect(add.body.message).to.include('billing.manage').and.not.include('billing.view');
    const remove = await manager.call('PATCH', `/api/roles/${target}`, { body: { permissions: ['contacts.view'] } });
    expect(remove.status).to.equal(200);
    expect(remove.body.permissions).to.deep.equal(['contacts.view']);
  });

  it('answers 400 for an empty body, unknown fields, wrong types, unknown permissions and a malformed id', async () => {
    for (const body of [{}, { is_system: false }, { name: 7 }, { permissions: ['nope.nope'] }, { description: null }]) {
      const res = await s.call('PATCH', `/api/roles/${roleId}`, { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    expect((await s.call('PATCH', `/api/roles/${MALFORMED_ID}`, { body: { description: 'x' } })).status).to.equal(400);
  });

  it('answers 404 for another tenant’s role and leaves it unchanged', async () => {
    const res = await other.call('PATCH', `/api/roles/${roleId}`, { body: { description: 'hijacked' } });
    expect(res.status).to.equal(404);
    expect((await s.call('GET', `/api/roles/${roleId}`)).body.description).not.to.equal('hijacked');
  });
});

describe('DELETE /api/roles/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
  });
  const create = async (name: string) => (await s.call('POST', '/api/roles', { body: { name, permissions: [] } })).body.id as string;
  itChecksAccess('DELETE', () => `/api/roles/${newId()}`, 'roles.manage', () => s);

  it('deletes an unused custom role', async () => {
    const id = await create('Temp');
    const res = await s.call('DELETE', `/api/roles/${id}`);
    expect(res.status).to.equal(200);
    expect(res.body.message).to.include('Temp');
    expect((await s.call('GET', `/api/roles/${id}`)).status).to.equal(404);
    expect((await s.call('DELETE', `/api/roles/${id}`)).status).to.equal(404);
  });

  it('answers 409 saying how many agents still hold the role', async () => {
    const id = await create('Busy');
    await agentWithRole(s, id);
    await agentWithRole(s, id);
    const res = await s.call('DELETE', `/api/roles/${id}`);
    expect(res.status).to.equal(409);
    expect(res.body.message).to.include('2 agents');
    expect((await s.call('GET', `/api/roles/${id}`)).status).to.equal(200);
  });

  it('frees the name for a new role', async () => {
    const id = await create('Seasonal');
    expect((await s.call('DELETE', `/api/roles/${id}`)).status).to.equal(200);
    expect((await s.call('POST', '/api/roles', { body: { name: 'seasonal', permissions: [] } })).status).to.equal(201);
  });

  it('ignores deleted agents when checking holders', async () => {
    const id = await create('Former');
    const a = await agentWithRole(s, id);
    await users.update(s.tenantId, a._id, { deleted_at: new Date() });
    expect((await s.call('DELETE', `/api/roles/${id}`)).status).to.equal(200);
  });

  it('answers 422 for every built-in role', async () => {
    for (const name of ['admin', 'supervisor', 'agent']) {
      const role = await roleByName(s, name);
      const res = await s.call('DELETE', `/api/roles/${role.id}`);
      expect(res.status, name).to.equal(422);
    }
  });

  it('answers 400 for a malformed id', async () => {
    expect((await s.call('DELETE', `/api/roles/${MALFORMED_ID}`)).status).to.equal(400);
  });

  it('answers 404 for another tenant’s role and keeps it', async () => {
    const id = await create('Keep me');
    expect((await other.call('DELETE', `/api/roles/${id}`)).status).to.equal(404);
    expect((await s.call('GET', `/api/roles/${id}`)).status).to.equal(200);
  });
});

describe('GET /api/permissions', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('GET', () => '/api/permissions', 'roles.view', () => s);

  it('lists the whole catalogue with descriptions and groups', async () => {
    const res = await s.call('GET', '/api/permissions');
    expect(res.status).to.equal(200);
    expect(res.body.map((p: { name: string }) => p.name)).to.deep.equal(ALL_PERMISSIONS);
    const assign = res.body.find((p: { name: string }) => p.name === 'conversations.assign');
    expect(assign).to.deep.equal({ name: 'conversations.assign', description: 'Assign and unassign conversations', group: 'conversations' });
    expect(res.body.every((p: { description: string }) => p.description.length > 0)).to.equal(true);
  });

  it('answers 400 for an unknown query parameter', async () => {
    expect((await s.call('GET', '/api/permissions?group=agents')).status).to.equal(400);
  });
});
