import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { activityLogs } from '../../src/models/activity-log.js';
import { contacts } from '../../src/models/contact.js';
import { quickReplyFavorites } from '../../src/models/quick-reply.js';
import { findTenant } from '../../src/models/tenant.js';
import { users } from '../../src/models/user.js';
import { itChecksAccess } from '../support/access.js';
import { expectOneWinner } from '../support/claims.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation } from '../support/whatsapp.js';

const suffix = () => randomBytes(4).toString('hex');

/** Creates a quick reply as `s` and answers it. */
async function addReply(s: TestSession, body: Record<string, unknown> = {}) {
  const res = await s.call('POST', '/api/quick-replies', {
    body: { shortcut: `sc-${suffix()}`, title: 'Greeting', content: 'Halo {{contact.name}}!', ...body },
  });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { id: string; shortcut: string; [k: string]: any };
}

async function addDivision(s: TestSession, name = `Division ${suffix()}`): Promise<string> {
  const res = await s.call('POST', '/api/divisions', { body: { name } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id as string;
}

async function joinDivision(s: TestSession, divisionId: string, userId: string): Promise<void> {
  const res = await s.call('POST', `/api/divisions/${divisionId}/agents`, { body: { agent_ids: [userId] } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
}

/** An agent who may use quick replies but not manage them. */
const agentOf = (s: TestSession) => userWithPermissions(s, ['quick_replies.view', 'conversations.view']);
/** Someone who manages quick replies (and so has personal ones of their own). */
const managerOf = (s: TestSession) => userWithPermissions(s, ['quick_replies.view', 'quick_replies.manage', 'conversations.view']);

const shortcuts = (body: { data: { shortcut: string }[] }) => body.data.map((r) => r.shortcut);

describe('GET /api/quick-replies', () => {
  let s: TestSession;
  let agent: TestSession;
  let otherManager: TestSession;
  let mine: string;
  let theirs: string;
  before(async () => {
    s = await createSession();
    agent = await agentOf(s);
    otherManager = await managerOf(s);
    mine = await addDivision(s);
    theirs = await addDivision(s);
    await joinDivision(s, mine, agent.userId);
    await addReply(s, { shortcut: 'salam', title: 'Salam pembuka', content: 'Selamat pagi {{contact.name}}, ada yang bisa kami bantu?' });
    await addReply(s, { shortcut: 'ongkir', title: 'Ongkos kirim', content: 'Ongkir ke seluruh Indonesia gratis 🚚' });
    await addReply(s, { shortcut: 'retur', scope: 'division', division_id: mine, content: 'Retur dalam 7 hari' });
    await addReply(s, { shortcut: 'vip', scope: 'division', division_id: theirs, content: 'Layanan VIP' });
    await addReply(otherManager, { shortcut: 'catatan', scope: 'personal', content: 'Catatan pribadi' });
    await addReply(s, { shortcut: 'admin-only', scope: 'personal', content: 'Admin pribadi' });
  });
  itChecksAccess('GET', () => '/api/quick-replies', 'quick_replies.view', () => s);

  it('shows an agent the tenant-wide replies and those of their own divisions, not other divisions’ or other agents’ personal ones', async () => {
    const res = await agent.call('GET', '/api/quick-replies');
    expect(res.status).to.equal(200);
    expect(shortcuts(res.body).sort()).to.deep.equal(['ongkir', 'retur', 'salam']);
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 3, total_pages: 1 });
    const salam = res.body.data.find((r: any) => r.shortcut === 'salam');
    expect(salam).to.include({ title: 'Salam pembuka', scope: 'tenant', division_id: null, owner_id: null, usage_count: 0, last_used_at: null, favorited: false });
    expect(salam.variables).to.deep.equal(['contact.name']);
    expect(salam.created_at).to.match(/Z$/);
  });

  it('shows a manager every division’s replies and their own personal ones, never someone else’s personal ones', async () => {
    const res = await s.call('GET', '/api/quick-replies');
    expect(shortcuts(res.body).sort()).to.deep.equal(['admin-only', 'ongkir', 'retur', 'salam', 'vip']);
    const other = await otherManager.call('GET', '/api/quick-replies');
    expect(shortcuts(other.body).sort()).to.deep.equal(['catatan', 'ongkir', 'retur', 'salam', 'vip']);
  });

  it('filters by q (shortcut, title or content, any case, literally), scope, division_id and favorites_only', async () => {
    expect(shortcuts((await agent.call('GET', '/api/quick-replies?q=ONGKOS')).body)).to.deep.equal(['ongkir']);
    expect(shortcuts((await agent.call('GET', `/api/quick-replies?q=${encodeURIComponent('{{contact')}`)).body)).to.deep.equal(['salam']);
    expect(shortcuts((await agent.call('GET', '/api/quick-replies?q=.*')).body)).to.deep.equal([]);
    expect(shortcuts((await s.call('GET', '/api/quick-replies?scope=division')).body).sort()).to.deep.equal(['retur', 'vip']);
    expect(shortcuts((await s.call('GET', `/api/quick-replies?division_id=${theirs}`)).body)).to.deep.equal(['vip']);
    // An agent filtering on a division they are not in sees nothing of it.
    expect(shortcuts((await agent.call('GET', `/api/quick-replies?division_id=${theirs}`)).body)).to.deep.equal([]);
    expect(shortcuts((await s.call('GET', '/api/quick-replies?scope=personal')).body)).to.deep.equal(['admin-only']);
  });

  it('answers 400 for bad query parameters', async () => {
    for (const q of ['limit=0', 'limit=101', 'page=0', 'scope=global', 'division_id=nope', 'favorites_only=yes', 'q=', 'sort=usage']) {
      const res = await s.call('GET', `/api/quick-replies?${q}`);
      expect(res.status, q).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
  });

  it('is empty for another tenant', async () => {
    const other = await createSession();
    expect((await other.call('GET', '/api/quick-replies')).body.data).to.deep.equal([]);
  });
});

describe('GET /api/quick-replies ordering', () => {
  let s: TestSession;
  let agent: TestSession;
  const use = (who: TestSession, id: string) => who.call('POST', `/api/quick-replies/${id}/use`);
  before(async () => {
    s = await createSession();
    agent = await agentOf(s);
    const made: Record<string, string> = {};
    for (const sc of ['a1', 'b2', 'c3', 'd4', 'e5']) made[sc] = (await addReply(s, { shortcut: sc })).id;
    // Usage: c3 x3, e5 x2, a1 x1; favourites of the agent: d4 and a1.
    for (const [sc, n] of [['c3', 3], ['e5', 2], ['a1', 1]] as const) {
      for (let i = 0; i < n; i++) expect((await use(s, made[sc] as string)).status).to.equal(200);
    }
    for (const sc of ['d4', 'a1']) expect((await agent.call('POST', `/api/quick-replies/${made[sc]}/favorite`)).status).to.equal(200);
  });

  it('lists the caller’s favourites first, then the rest, each most used first and then by shortcut', async () => {
    const res = await agent.call('GET', '/api/quick-replies');
    expect(shortcuts(res.body)).to.deep.equal(['a1', 'd4', 'c3', 'e5', 'b2']);
    expect(res.body.data.map((r: any) => r.favorited)).to.deep.equal([true, true, false, false, false]);
    // Someone else's favourites do not move anything for the admin.
    expect(shortcuts((await s.call('GET', '/api/quick-replies')).body)).to.deep.equal(['c3', 'e5', 'a1', 'b2', 'd4']);
  });

  it('pages exactly across the favourites and the rest', async () => {
    const pages = [];
    for (let page = 1; page <= 3; page++) {
      const res = await agent.call('GET', `/api/quick-replies?limit=2&page=${page}`);
      expect(res.body.pagination).to.deep.equal({ page, limit: 2, total: 5, total_pages: 3 });
      pages.push(shortcuts(res.body));
    }
    expect(pages).to.deep.equal([['a1', 'd4'], ['c3', 'e5'], ['b2']]);
    expect(shortcuts((await agent.call('GET', '/api/quick-replies?limit=3&page=1')).body)).to.deep.equal(['a1', 'd4', 'c3']);
    expect(shortcuts((await agent.call('GET', '/api/quick-replies?limit=3&page=2')).body)).to.deep.equal(['e5', 'b2']);
    expect(shortcuts((await agent.call('GET', '/api/quick-replies?page=9')).body)).to.deep.equal([]);
  });

  it('lists only favourites with favorites_only=true', async () => {
    const res = await agent.call('GET', '/api/quick-replies?favorites_only=true');
    expect(shortcuts(res.body)).to.deep.equal(['a1', 'd4']);
    expect(res.body.pagination.total).to.equal(2);
    expect((await s.call('GET', '/api/quick-replies?favorites_only=true')).body.data).to.deep.equal([]);
  });
});

describe('POST /api/quick-replies', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    s = await createSession();
    other = await createSession();
  });
  itChecksAccess('POST', () => '/api/quick-replies', 'quick_replies.manage', () => s, {
    body: { shortcut: 'x', title: 'X', content: 'x' },
  });

  it('answers 403 to an agent who may only use quick replies, even for a personal one', async () => {
    const agent = await agentOf(s);
    const res = await agent.call('POST', '/api/quick-replies', { body: { shortcut: 'mine', title: 'Mine', content: 'x', scope: 'personal' } });
    expect(res.status).to.equal(403);
  });

  it('creates a tenant-wide reply by default, drops a leading slash, and records it in the activity log', async () => {
    const res = await s.call('POST', '/api/quick-replies', {
      body: { shortcut: ' /Terima-Kasih ', title: '  Terima kasih ', content: 'Terima kasih, {{ contact.name }}! 🙏 Salam, {{agent.name}}' },
    });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ shortcut: 'Terima-Kasih', title: 'Terima kasih', scope: 'tenant', division_id: null, owner_id: null, created_by: s.userId, usage_count: 0, favorited: false });
    expect(res.body.variables).to.deep.equal(['contact.name', 'agent.name']);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'quick_reply.created', resource_id: res.body.id });
    expect(entry?.resource_type).to.equal('quick_reply');
  });

  it('makes a personal reply the creator’s and a division reply its division’s', async () => {
    const personal = await addReply(s, { scope: 'personal' });
    expect(personal).to.include({ scope: 'personal', owner_id: s.userId, division_id: null });
    const divisionId = await addDivision(s);
    const division = await addReply(s, { scope: 'division', division_id: divisionId });
    expect(division).to.include({ scope: 'division', division_id: divisionId, owner_id: null });
  });

  it('answers 409 naming the shortcut when its scope owner already uses it (any case), and allows it elsewhere', async () => {
    await addReply(s, { shortcut: 'salam' });
    for (const shortcut of ['salam', 'SALAM', '/Salam']) {
      const res = await s.call('POST', '/api/quick-replies', { body: { shortcut, title: 'Again', content: 'x' } });
      expect(res.status, shortcut).to.equal(409);
      expect(res.body.code).to.equal('conflict');
      expect(res.body.message).to.include(`"${shortcut.replace('/', '')}"`).and.include('tenant-wide');
    }
    // The same shortcut as a personal reply, in a division, and in another tenant is fine.
    await addReply(s, { shortcut: 'salam', scope: 'personal' });
    const divisionId = await addDivision(s);
    await addReply(s, { shortcut: 'salam', scope: 'division', division_id: divisionId });
    const again = await s.call('POST', '/api/quick-replies', { body: { shortcut: 'Salam', title: 'x', content: 'x', scope: 'division', division_id: divisionId } });
    expect(again.status).to.equal(409);
    expect(again.body.message).to.include('this division');
    await addReply(other, { shortcut: 'salam' });
    // Another manager's personal "salam" does not collide with the admin's.
    const manager = await managerOf(s);
    await addReply(manager, { shortcut: 'salam', scope: 'personal' });
  });

  it('gives one of two simultaneous creations of one shortcut a 201 and the other a 409', async () => {
    for (let round = 0; round < 3; round++) {
      const shortcut = `twin-${suffix()}`;
      await expectOneWinner(() => s.call('POST', '/api/quick-replies', { body: { shortcut, title: 'T', content: 'x' } }));
      expect((await s.call('GET', `/api/quick-replies?q=${shortcut}`)).body.data).to.have.length(1);
    }
  });

  it('answers 400 naming an unknown variable or an unclosed {{', async () => {
    const unknown = await s.call('POST', '/api/quick-replies', { body: { shortcut: 'v1', title: 'V', content: 'Halo {{contact.nama}}' } });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.message).to.include('body.content').and.include('{{contact.nama}}').and.include('contact.name');
    const unclosed = await s.call('POST', '/api/quick-replies', { body: { shortcut: 'v2', title: 'V', content: 'Halo {{contact.name' } });
    expect(unclosed.status).to.equal(400);
    expect(unclosed.body.message).to.include('not closed');
  });

  it('answers 400 for bad bodies, and when division_id is not a division of the tenant', async () => {
    const foreignDivision = await addDivision(other);
    const bad: Record<string, unknown>[] = [
      {},
      { shortcut: 'a b', title: 'T', content: 'x' },
      { shortcut: '', title: 'T', content: 'x' },
      { shortcut: 'x'.repeat(51), title: 'T', content: 'x' },
      { shortcut: 'ok', title: '', content: 'x' },
      { shortcut: 'ok', title: 'T', content: '   ' },
      { shortcut: 'ok', title: 'T', content: 'x'.repeat(4097) },
      { shortcut: 'ok', title: 'T', content: 'x', scope: 'global' },
      { shortcut: 'ok', title: 'T', content: 'x', scope: 'division' },
      { shortcut: 'ok', title: 'T', content: 'x', scope: 'tenant', division_id: foreignDivision },
      { shortcut: 'ok', title: 'T', content: 'x', scope: 'division', division_id: 'nope' },
      { shortcut: 'ok', title: 'T', content: 'x', scope: 'division', division_id: foreignDivision },
      { shortcut: 'ok', title: 'T', content: 'x', scope: 'division', division_id: randomUUID() },
      { shortcut: 'ok', title: 'T', content: 'x', owner_id: s.userId },
      { shortcut: 7, title: 'T', content: 'x' },
    ];
    for (const body of bad) {
      const res = await s.call('POST', '/api/quick-replies', { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
    expect((await s.call('GET', '/api/quick-replies?q=ok')).body.data).to.deep.equal([]);
  });
});

describe('PATCH /api/quick-replies/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let reply: { id: string; shortcut: string };
  before(async () => {
    s = await createSession();
    other = await createSession();
    reply = await addReply(s, { shortcut: 'promo' });
  });
  itChecksAccess('PATCH', () => `/api/quick-replies/${reply.id}`, 'quick_replies.manage', () => s, { body: { title: 'X' } });

  it('changes the given fields and leaves the rest', async () => {
    const res = await s.call('PATCH', `/api/quick-replies/${reply.id}`, { body: { title: 'Promo Lebaran', content: 'Diskon 20% untuk {{contact.name}}' } });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ shortcut: 'promo', title: 'Promo Lebaran', content: 'Diskon 20% untuk {{contact.name}}', scope: 'tenant' });
    expect(Date.parse(res.body.updated_at)).to.be.at.least(Date.parse(res.body.created_at));
  });

  it('frees the old shortcut on rename and answers 409 for a taken one', async () => {
    const a = await addReply(s, { shortcut: 'lama' });
    await addReply(s, { shortcut: 'dipakai' });
    const renamed = await s.call('PATCH', `/api/quick-replies/${a.id}`, { body: { shortcut: 'baru' } });
    expect(renamed.status).to.equal(200);
    // On the embedded engine a unique index would keep "lama" taken; the claim is released.
    await addReply(s, { shortcut: 'LAMA' });
    const taken = await s.call('PATCH', `/api/quick-replies/${a.id}`, { body: { shortcut: 'Dipakai' } });
    expect(taken.status).to.equal(409);
    expect(taken.body.message).to.include('"Dipakai"');
    // Changing only the case of its own shortcut is not a conflict.
    expect((await s.call('PATCH', `/api/quick-replies/${a.id}`, { body: { shortcut: 'BARU' } })).body.shortcut).to.equal('BARU');
  });

  it('moves between scopes: personal becomes the caller’s, division needs a division', async () => {
    const r = await addReply(s, { shortcut: `move-${suffix()}` });
    const divisionId = await addDivision(s);
    const noDivision = await s.call('PATCH', `/api/quick-replies/${r.id}`, { body: { scope: 'division' } });
    expect(noDivision.status).to.equal(400);
    expect(noDivision.body.message).to.include('division_id');
    const toDivision = await s.call('PATCH', `/api/quick-replies/${r.id}`, { body: { scope: 'division', division_id: divisionId } });
    expect(toDivision.body).to.include({ scope: 'division', division_id: divisionId });
    const otherDivision = await addDivision(s);
    const moved = await s.call('PATCH', `/api/quick-replies/${r.id}`, { body: { division_id: otherDivision } });
    expect(moved.body).to.include({ scope: 'division', division_id: otherDivision });
    const personal = await s.call('PATCH', `/api/quick-replies/${r.id}`, { body: { scope: 'personal' } });
    expect(personal.body).to.include({ scope: 'personal', division_id: null, owner_id: s.userId });
    const stray = await s.call('PATCH', `/api/quick-replies/${r.id}`, { body: { division_id: divisionId } });
    expect(stray.status).to.equal(400);
  });

  it('answers 404 for another tenant’s reply and another agent’s personal reply', async () => {
    expect((await other.call('PATCH', `/api/quick-replies/${reply.id}`, { body: { title: 'Hijacked' } })).status).to.equal(404);
    const manager = await managerOf(s);
    const personal = await addReply(manager, { scope: 'personal' });
    const res = await s.call('PATCH', `/api/quick-replies/${personal.id}`, { body: { title: 'Hijacked' } });
    expect(res.status).to.equal(404);
    expect(res.body.code).to.equal('not_found');
    expect((await s.call('PATCH', `/api/quick-replies/${randomUUID()}`, { body: { title: 'X' } })).status).to.equal(404);
  });

  it('answers 400 for an empty or bad body and a bad id', async () => {
    for (const body of [{}, { title: '' }, { content: '{{agent.nickname}}' }, { scope: 'everyone' }, { usage_count: 99 }]) {
      expect((await s.call('PATCH', `/api/quick-replies/${reply.id}`, { body })).status, JSON.stringify(body)).to.equal(400);
    }
    expect((await s.call('PATCH', '/api/quick-replies/not-a-uuid', { body: { title: 'X' } })).status).to.equal(400);
  });
});

describe('DELETE /api/quick-replies/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    s = await createSession();
    other = await createSession();
  });
  itChecksAccess('DELETE', () => `/api/quick-replies/${randomUUID()}`, 'quick_replies.manage', () => s);

  it('deletes the reply, frees its shortcut and drops it from favourites', async () => {
    const r = await addReply(s, { shortcut: 'hapus' });
    const agent = await agentOf(s);
    expect((await agent.call('POST', `/api/quick-replies/${r.id}/favorite`)).status).to.equal(200);
    const res = await s.call('DELETE', `/api/quick-replies/${r.id}`);
    expect(res.status).to.equal(200);
    expect(res.body.message).to.include('hapus');
    expect((await s.call('DELETE', `/api/quick-replies/${r.id}`)).status).to.equal(404);
    expect(await quickReplyFavorites.find({ tenant_id: s.tenantId, quick_reply_id: r.id })).to.deep.equal([]);
    await addReply(s, { shortcut: 'hapus' });
  });

  it('answers 404 for another tenant’s reply and another agent’s personal reply', async () => {
    const r = await addReply(s);
    expect((await other.call('DELETE', `/api/quick-replies/${r.id}`)).status).to.equal(404);
    const manager = await managerOf(s);
    const personal = await addReply(manager, { scope: 'personal' });
    expect((await s.call('DELETE', `/api/quick-replies/${personal.id}`)).status).to.equal(404);
    expect((await manager.call('GET', '/api/quick-replies?scope=personal')).body.data).to.have.length(1);
  });

  it('answers 400 for a bad id', async () => {
    expect((await s.call('DELETE', '/api/quick-replies/123')).status).to.equal(400);
  });
});

describe('POST /api/quick-replies/{id}/use', () => {
  let s: TestSession;
  let other: TestSession;
  let reply: { id: string };
  before(async () => {
    s = await createSession();
    other = await createSession();
    reply = await addReply(s, {
      shortcut: 'sapa',
      content: 'Halo {{contact.name}} ({{contact.phone}}), saya {{agent.name}} dari {{organization.name}}. Email: {{contact.email}} #{{conversation.id}} via {{conversation.channel}}',
    });
  });
  itChecksAccess('POST', () => `/api/quick-replies/${reply.id}/use`, 'quick_replies.view', () => s);

  it('counts every one of many simultaneous uses and stamps last_used_at', async () => {
    const r = await addReply(s);
    const before = Date.now();
    const answers = await Promise.all(Array.from({ length: 40 }, () => s.call('POST', `/api/quick-replies/${r.id}/use`)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(40).fill(200));
    expect(answers.map((a) => a.body.usage_count).sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
    const [listed] = (await s.call('GET', `/api/quick-replies?q=${r.shortcut}`)).body.data;
    expect(listed.usage_count).to.equal(40);
    expect(Date.parse(listed.last_used_at)).to.be.at.least(before - 1000);
    expect(listed.updated_at).to.equal(r.updated_at);
    expect(answers[0]?.body).to.include({ rendered_content: null });
  });

  it('fills the variables for a conversation the caller sees', async () => {
    const wa = await connectWhatsapp(s);
    const started = await startConversation(s, wa, { name: 'Budi Santoso' });
    const agent = await userWithPermissions(s, ['quick_replies.view', 'conversations.view']);
    const res = await agent.call('POST', `/api/quick-replies/${reply.id}/use`, { body: { conversation_id: started.conversationId } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const [contact, tenant, user] = await Promise.all([
      contacts.findOwned(s.tenantId, started.contactId),
      findTenant(s.tenantId),
      users.findOwned(s.tenantId, agent.userId),
    ]);
    expect(contact.name).to.equal('Budi Santoso');
    expect(res.body.rendered_content).to.equal(
      `Halo Budi Santoso (${contact.phone ?? ''}), saya ${user.name} dari ${tenant?.name}. Email:  #${started.conversationId} via whatsapp`,
    );
    expect(res.body.unfilled_variables).to.deep.equal(contact.phone ? ['contact.email'] : ['contact.phone', 'contact.email']);
    expect(res.body.usage_count).to.be.at.least(1);

    // Someone who may not see conversations, and another tenant, get a 404 and count nothing.
    const blind = await userWithPermissions(s, ['quick_replies.view']);
    const usage = res.body.usage_count;
    const hidden = await blind.call('POST', `/api/quick-replies/${reply.id}/use`, { body: { conversation_id: started.conversationId } });
    expect(hidden.status).to.equal(404);
    expect(hidden.body.message).to.include('Conversation');
    const otherReply = await addReply(other);
    expect((await other.call('POST', `/api/quick-replies/${otherReply.id}/use`, { body: { conversation_id: started.conversationId } })).status).to.equal(404);
    const [after] = (await s.call('GET', '/api/quick-replies?q=sapa')).body.data;
    expect(after.usage_count).to.equal(usage);
  });

  it('answers 404 for another tenant’s reply and another agent’s personal reply', async () => {
    expect((await other.call('POST', `/api/quick-replies/${reply.id}/use`)).status).to.equal(404);
    const manager = await managerOf(s);
    const personal = await addReply(manager, { scope: 'personal' });
    expect((await s.call('POST', `/api/quick-replies/${personal.id}/use`)).status).to.equal(404);
    expect((await manager.call('POST', `/api/quick-replies/${personal.id}/use`)).body.usage_count).to.equal(1);
  });

  it('answers 400 for a bad id or body', async () => {
    expect((await s.call('POST', '/api/quick-replies/xyz/use')).status).to.equal(400);
    for (const body of [{ conversation_id: 'abc' }, { conversation_id: randomUUID(), extra: 1 }]) {
      expect((await s.call('POST', `/api/quick-replies/${reply.id}/use`, { body })).status, JSON.stringify(body)).to.equal(400);
    }
  });
});

describe('POST and DELETE /api/quick-replies/{id}/favorite', () => {
  let s: TestSession;
  let other: TestSession;
  let agent: TestSession;
  let reply: { id: string };
  before(async () => {
    s = await createSession();
    other = await createSession();
    agent = await agentOf(s);
    reply = await addReply(s);
  });
  itChecksAccess('POST', () => `/api/quick-replies/${reply.id}/favorite`, 'quick_replies.view', () => s);
  itChecksAccess('DELETE', () => `/api/quick-replies/${reply.id}/favorite`, 'quick_replies.view', () => s);

  it('adds a favourite once however often it is added, for that agent only', async () => {
    const answers = await Promise.all([1, 2, 3].map(() => agent.call('POST', `/api/quick-replies/${reply.id}/favorite`)));
    expect(answers.map((a) => [a.status, a.body.favorited])).to.deep.equal([[200, true], [200, true], [200, true]]);
    expect((await agent.call('POST', `/api/quick-replies/${reply.id}/favorite`)).body.favorited).to.equal(true);
    expect(await quickReplyFavorites.find({ tenant_id: s.tenantId, quick_reply_id: reply.id })).to.have.length(1);
    expect((await agent.call('GET', '/api/quick-replies?favorites_only=true')).body.data.map((r: any) => r.id)).to.deep.equal([reply.id]);
    expect((await s.call('GET', '/api/quick-replies')).body.data[0].favorited).to.equal(false);
  });

  it('removes it, and removing it again is fine', async () => {
    await agent.call('POST', `/api/quick-replies/${reply.id}/favorite`);
    for (let i = 0; i < 2; i++) {
      const res = await agent.call('DELETE', `/api/quick-replies/${reply.id}/favorite`);
      expect(res.status).to.equal(200);
      expect(res.body.favorited).to.equal(false);
    }
    expect((await agent.call('GET', '/api/quick-replies?favorites_only=true')).body.data).to.deep.equal([]);
  });

  it('answers 404 for another tenant’s reply and a reply the caller may not see', async () => {
    expect((await other.call('POST', `/api/quick-replies/${reply.id}/favorite`)).status).to.equal(404);
    expect((await other.call('DELETE', `/api/quick-replies/${reply.id}/favorite`)).status).to.equal(404);
    const divisionId = await addDivision(s);
    const hidden = await addReply(s, { scope: 'division', division_id: divisionId });
    expect((await agent.call('POST', `/api/quick-replies/${hidden.id}/favorite`)).status).to.equal(404);
    await joinDivision(s, divisionId, agent.userId);
    expect((await agent.call('POST', `/api/quick-replies/${hidden.id}/favorite`)).status).to.equal(200);
  });

  it('answers 400 for a bad id', async () => {
    expect((await agent.call('POST', '/api/quick-replies/nope/favorite')).status).to.equal(400);
    expect((await agent.call('DELETE', '/api/quick-replies/nope/favorite')).status).to.equal(400);
  });
});
