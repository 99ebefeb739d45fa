import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { slotConversationId } from '../../src/models/conversation.js';
import { slotId } from '../../src/services/conversation-opening.js';
import { baseUrl, testServerEnv } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { startServerProcess } from '../support/server-process.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

/** What an agent without conversations.view_all typically holds. */
const AGENT = ['conversations.view', 'conversations.manage', 'conversations.assign', 'conversations.takeover'];

let s: TestSession;
let wa: WhatsappAccount;
let other: TestSession;
let otherWa: WhatsappAccount;
/** Holds AGENT only: sees its own, its divisions' and division-less conversations. */
let agent: TestSession;
let divisionId: string;

const fresh = async (text?: string) => (await startConversation(s, wa, { text })).conversationId;

/** A conversation moved (over the Transfers API) into a division `agent` is not a member of. */
async function hiddenConversation(): Promise<string> {
  const id = await fresh();
  const moved = await s.call('POST', `/api/conversations/${id}/transfer`, { body: { to_division_id: divisionId, reason: 'billing question' } });
  expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
  return id;
}

/** Live events for one signed-in user. */
async function listen(token: string) {
  const socket = connect(baseUrl(), { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
  const seen: { event: string; data: Record<string, any> }[] = [];
  socket.onAny((event: string, payload: { data: Record<string, any> }) => {
    if (event.includes('.') && event !== 'sync.done') seen.push({ event, data: payload.data });
  });
  await new Promise((r) => socket.once('sync.done', r));
  return { seen, close: () => socket.close() };
}

describe('Conversations API', () => {
  before(async function () {
    this.timeout(30000);
    s = await createSession();
    wa = await connectWhatsapp(s);
    other = await createSession();
    otherWa = await connectWhatsapp(other);
    agent = await userWithPermissions(s, AGENT);
    const division = await s.call('POST', '/api/divisions', { body: { name: `Billing ${randomUUID().slice(0, 6)}` } });
    expect(division.status, JSON.stringify(division.body)).to.equal(201);
    divisionId = division.body.id;
  });

  /** The 404 tests every conversation-scoped endpoint gets. */
  function itHidesOthers(method: string, suffix: string, body?: unknown) {
    it('answers 404 for another tenant’s conversation, without its data', async () => {
      const foreign = (await startConversation(other, otherWa)).conversationId;
      const res = await s.call(method, `/api/conversations/${foreign}${suffix}`, { body });
      expect(res.status).to.equal(404);
      expect(res.body.code).to.equal('not_found');
      expect(JSON.stringify(res.body)).not.to.include(foreign);
    });
    it('answers 404 for a conversation the agent may not see', async () => {
      const res = await agent.call(method, `/api/conversations/${await hiddenConversation()}${suffix}`, { body });
      expect(res.status).to.equal(404);
    });
    it('answers 400 for a malformed id', async () => {
      const res = await s.call(method, `/api/conversations/not-a-uuid${suffix}`, { body });
      expect(res.status).to.equal(400);
      expect(res.body.details[0].field).to.equal('id');
    });
  }

  describe('GET /api/conversations', () => {
    let a: Awaited<ReturnType<typeof startConversation>>;
    let b: string;
    before(async () => {
      // Provider timestamps are whole seconds: a minute apart keeps the order certain.
      a = await startConversation(s, wa, { name: 'Siti Rahayu', text: 'first', at: Math.floor(Date.now() / 1000) - 60 });
      b = await fresh('second');
    });

    it('lists conversations newest activity first, each with its contact', async () => {
      const res = await s.call('GET', '/api/conversations?limit=100');
      expect(res.status).to.equal(200);
      const ids = res.body.data.map((c: any) => c.id);
      expect(ids.indexOf(b)).to.be.lessThan(ids.indexOf(a.conversationId));
      const times = res.body.data.map((c: any) => c.last_message_at);
      expect(times).to.deep.equal([...times].sort().reverse());
      const row = res.body.data.find((c: any) => c.id === a.conversationId);
      expect(row.contact).to.deep.equal({ id: a.contactId, name: 'Siti Rahayu', phone: a.from, email: null, channel: 'whatsapp' });
      expect(row).to.include({ status: 'open', channel: 'whatsapp', last_message_preview: 'first', unread_count: 1, message_count: 1 });
      expect(res.body.pagination.total).to.equal(res.body.data.length);
    });

    it('pages with a stable order', async () => {
      const all = (await s.call('GET', '/api/conversations?limit=100')).body.data.map((c: any) => c.id);
      const second = await s.call('GET', '/api/conversations?limit=1&page=2');
      expect(second.body.data.map((c: any) => c.id)).to.deep.equal([all[1]]);
      expect(second.body.pagination).to.include({ page: 2, limit: 1, total: all.length, total_pages: all.length });
    });

    it('filters by status (several), assignee (id, me, unassigned), contact, channel, tag and unread', async () => {
      await s.call('PATCH', `/api/conversations/${b}/status`, { body: { status: 'pending' } });
      await s.call('PATCH', `/api/conversations/${a.conversationId}/assign`, { body: { agent_id: agent.userId } });
      await s.call('PATCH', `/api/conversations/${a.conversationId}/tags`, { body: { tags: ['vip'] } });
      const ids = async (q: string, who = s) => {
        const res = await who.call('GET', `/api/conversations?limit=100&${q}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        return res.body.data.map((c: any) => c.id) as string[];
      };
      expect(await ids('status=pending')).to.deep.equal([b]);
      expect(await ids('status=pending,open')).to.include.members([a.conversationId, b]);
      expect(await ids('status=resolved')).to.deep.equal([]);
      expect(await ids(`assignee_id=${agent.userId}`)).to.deep.equal([a.conversationId]);
      expect(await ids('assignee_id=me', agent)).to.deep.equal([a.conversationId]);
      expect(await ids('assignee_id=unassigned')).to.include(b).and.not.include(a.conversationId);
      expect(await ids(`contact_id=${a.contactId}`)).to.deep.equal([a.conversationId]);
      expect(await ids('channel=whatsapp')).to.include.members([a.conversationId, b]);
      expect(await ids('channel=email')).to.deep.equal([]);
      expect(await ids('tag=VIP')).to.deep.equal([a.conversationId]);
      expect(await ids('unread=true')).to.include(b);
      await agent.call('POST', `/api/conversations/${a.conversationId}/read`);
      expect(await ids('unread=false')).to.include(a.conversationId).and.not.include(b);
    });

    it('shows an agent only the conversations they may see; division_id filters', async () => {
      const hidden = await hiddenConversation();
      const mine = await agent.call('GET', '/api/conversations?limit=100');
      const seen = mine.body.data.map((c: any) => c.id);
      expect(seen).to.include(b);
      expect(seen).to.not.include(hidden);
      const admin = await s.call('GET', `/api/conversations?division_id=${divisionId}`);
      expect(admin.body.data.map((c: any) => c.id)).to.deep.equal([hidden]);
      const none = await s.call('GET', '/api/conversations?division_id=none&limit=100');
      expect(none.body.data.map((c: any) => c.id)).to.include(b).and.not.include(hidden);
    });

    it('never lists another tenant’s conversations', async () => {
      const foreign = (await startConversation(other, otherWa)).conversationId;
      const res = await s.call('GET', '/api/conversations?limit=100');
      expect(res.body.data.map((c: any) => c.id)).to.not.include(foreign);
      expect(res.body.data.every((c: any) => c.contact.id !== undefined)).to.equal(true);
    });

    it('answers 400 for bad filters, unknown parameters and an oversized page', async () => {
      for (const q of ['status=bogus', 'status=open,nope', 'assignee_id=someone', 'division_id=x', 'contact_id=1', 'channel=sms', 'unread=yes', 'limit=1000', 'page=0', 'sort=name']) {
        const res = await s.call('GET', `/api/conversations?${q}`);
        expect(res.status, q).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
      }
    });

    itChecksAccess('GET', () => '/api/conversations', 'conversations.view', () => s);
  });

  describe('GET /api/conversations/{id}', () => {
    it('answers the conversation with its contact', async () => {
      const c = await startConversation(s, wa, { name: 'Andi', text: 'Paket saya di mana?' });
      const res = await s.call('GET', `/api/conversations/${c.conversationId}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: c.conversationId, contact_id: c.contactId, status: 'open', assignee_id: null, account_id: wa.accountId });
      expect(res.body.contact).to.include({ id: c.contactId, name: 'Andi', phone: c.from });
      expect(res.body.read_markers).to.deep.equal({});
    });

    it('answers an agent their division-less conversation', async () => {
      const id = await fresh();
      expect((await agent.call('GET', `/api/conversations/${id}`)).status).to.equal(200);
    });

    itHidesOthers('GET', '');
    itChecksAccess('GET', () => `/api/conversations/${randomUUID()}`, 'conversations.view', () => s);
  });

  describe('PATCH /api/conversations/{id}/assign', () => {
    it('assigns, reassigns and unassigns, telling the previous assignee', async () => {
      const id = await hiddenConversation();
      const first = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: agent.userId } });
      expect(first.status).to.equal(200);
      expect(first.body.assignee_id).to.equal(agent.userId);
      expect(first.body.contact.id).to.be.a('string');
      // Now theirs, the agent sees it though it is in a division they are not in.
      expect((await agent.call('GET', `/api/conversations/${id}`)).status).to.equal(200);

      const watcher = await listen(agent.token);
      try {
        const second = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: s.userId } });
        expect(second.body.assignee_id).to.equal(s.userId);
        const event = await until(async () => watcher.seen.find((e) => e.event === 'conversation.assigned' && e.data.id === id), 'conversation.assigned for the previous assignee');
        expect(event.data).to.include({ assignee_id: s.userId, previous_assignee_id: agent.userId, assigned_by: s.userId });
      } finally {
        watcher.close();
      }
      // No longer theirs and not in their division: gone for them.
      expect((await agent.call('GET', `/api/conversations/${id}`)).status).to.equal(404);

      const cleared = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: null } });
      expect(cleared.status).to.equal(200);
      expect(cleared.body.assignee_id).to.equal(null);
    });

    it('changes nothing when assigning the current assignee', async () => {
      const id = await fresh();
      const first = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: agent.userId } });
      const again = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: agent.userId } });
      expect(again.status).to.equal(200);
      expect(again.body.updated_at).to.equal(first.body.updated_at);
    });

    it('answers 400 for an agent of another tenant, a deactivated agent, or one who cannot see conversations', async () => {
      const id = await fresh();
      const foreign = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: other.userId } });
      expect(foreign.status).to.equal(400);
      expect(foreign.body.message).to.equal('unknown agent');
      const blind = await userWithPermissions(s, ['agents.view']);
      const res = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: blind.userId } });
      expect(res.status).to.equal(400);
      const inactive = await userWithPermissions(s, AGENT);
      expect((await s.call('PATCH', `/api/agents/${inactive.userId}`, { body: { is_active: false } })).status).to.equal(200);
      const off = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: inactive.userId } });
      expect(off.status).to.equal(400);
      expect(off.body.message).to.match(/deactivated/);
      expect((await s.call('GET', `/api/conversations/${id}`)).body.assignee_id).to.equal(null);
    });

    it('answers 400 for a missing, malformed or extra field', async () => {
      const id = await fresh();
      for (const body of [{}, { agent_id: 'x' }, { agent_id: 5 }, { agent_id: null, note: 'hi' }]) {
        const res = await s.call('PATCH', `/api/conversations/${id}/assign`, { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
      }
    });

    it('answers 422 for a closed conversation', async () => {
      const id = await fresh();
      await s.call('PATCH', `/api/conversations/${id}/status`, { body: { status: 'closed' } });
      const res = await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: agent.userId } });
      expect(res.status).to.equal(422);
      expect(res.body.message).to.match(/closed conversation cannot be assigned/);
    });

    itHidesOthers('PATCH', '/assign', { agent_id: null });
    itChecksAccess('PATCH', () => `/api/conversations/${randomUUID()}/assign`, 'conversations.assign', () => s, { body: { agent_id: null } });
  });

  describe('PATCH /api/conversations/{id}/status', () => {
    const setStatus = (id: string, status: string, who = s) => who.call('PATCH', `/api/conversations/${id}/status`, { body: { status } });

    it('follows the allowed transitions and refuses the others with 422', async () => {
      const id = await fresh();
      for (const status of ['pending', 'open', 'resolved', 'open', 'pending', 'resolved']) {
        const res = await setStatus(id, status);
        expect(res.status, status).to.equal(200);
        expect(res.body.status).to.equal(status);
      }
      const refused = await setStatus(id, 'pending');
      expect(refused.status).to.equal(422);
      expect(refused.body.code).to.equal('state_not_allowed');
      expect(refused.body.message).to.equal('A resolved conversation cannot become pending; it can become open, closed');
    });

    it('answers 200 unchanged for the current status', async () => {
      const id = await fresh();
      const before = await s.call('GET', `/api/conversations/${id}`);
      const same = await setStatus(id, 'open');
      expect(same.status).to.equal(200);
      expect(same.body.updated_at).to.equal(before.body.updated_at);
    });

    it('closes for good and frees the customer: their next message starts a new conversation', async () => {
      const c = await startConversation(s, wa);
      const closed = await setStatus(c.conversationId, 'closed');
      expect(closed.status).to.equal(200);
      expect(closed.body.closed_at).to.be.a('string');
      expect(await slotConversationId(slotId(s.tenantId, c.contactId))).to.equal(null);
      for (const status of ['open', 'resolved']) expect((await setStatus(c.conversationId, status)).status).to.equal(422);
      const next = await startConversation(s, wa, { from: c.from, text: 'Halo lagi' });
      expect(next.conversationId).to.not.equal(c.conversationId);
      expect(next.contactId).to.equal(c.contactId);
      expect((await s.call('GET', `/api/conversations/${c.conversationId}`)).body.message_count).to.equal(1);
    });

    it('keeps a resolved conversation for the customer: their next message reopens it', async () => {
      const c = await startConversation(s, wa);
      await setStatus(c.conversationId, 'resolved');
      const again = await startConversation(s, wa, { from: c.from, text: 'Satu pertanyaan lagi' });
      expect(again.conversationId).to.equal(c.conversationId);
      const now = await s.call('GET', `/api/conversations/${c.conversationId}`);
      expect(now.body).to.include({ status: 'open', message_count: 2, closed_at: null });
    });

    it('emits conversation.updated', async () => {
      const id = await fresh();
      const watcher = await listen(agent.token);
      try {
        await setStatus(id, 'pending');
        await until(async () => watcher.seen.find((e) => e.event === 'conversation.updated' && e.data.id === id && e.data.status === 'pending'), 'conversation.updated');
      } finally {
        watcher.close();
      }
    });

    it('answers 400 for a status that cannot be set by hand, an unknown one or extra fields', async () => {
      const id = await fresh();
      for (const body of [{ status: 'expired' }, { status: 'done' }, {}, { status: 'open', extra: 1 }, { status: 'closed', reason: '' }]) {
        const res = await s.call('PATCH', `/api/conversations/${id}/status`, { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
      }
    });

    itHidesOthers('PATCH', '/status', { status: 'pending' });
    itChecksAccess('PATCH', () => `/api/conversations/${randomUUID()}/status`, 'conversations.manage', () => s, { body: { status: 'pending' } });
  });

  describe('POST /api/conversations/{id}/read', () => {
    it('records the reader and clears the unread count of an unassigned conversation', async () => {
      const id = await fresh();
      const res = await agent.call('POST', `/api/conversations/${id}/read`);
      expect(res.status).to.equal(200);
      expect(res.body.unread_count).to.equal(0);
      expect(Date.parse(res.body.read_markers[agent.userId])).to.be.closeTo(Date.now(), 10_000);
    });

    it('leaves the assignee’s unread count when someone else reads, and clears it when they do', async () => {
      const id = await fresh();
      await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: agent.userId } });
      const peek = await s.call('POST', `/api/conversations/${id}/read`, { body: {} });
      expect(peek.body.unread_count).to.equal(1);
      expect(peek.body.read_markers).to.have.keys([s.userId]);
      const own = await agent.call('POST', `/api/conversations/${id}/read`);
      expect(own.body.unread_count).to.equal(0);
      expect(own.body.read_markers).to.have.keys([s.userId, agent.userId]);
    });

    it('answers 400 for fields in the body', async () => {
      const res = await s.call('POST', `/api/conversations/${await fresh()}/read`, { body: { all: true } });
      expect(res.status).to.equal(400);
    });

    itHidesOthers('POST', '/read');
    itChecksAccess('POST', () => `/api/conversations/${randomUUID()}/read`, 'conversations.view', () => s);
  });

  describe('POST /api/conversations/expire', () => {
    const hoursAgo = (h: number) => Math.floor(Date.now() / 1000) - h * 3600;

    it('expires idle open and pending conversations only, and frees their customers', async () => {
      const stale = await startConversation(s, wa, { at: hoursAgo(30) });
      const stalePending = await startConversation(s, wa, { at: hoursAgo(50) });
      await s.call('PATCH', `/api/conversations/${stalePending.conversationId}/status`, { body: { status: 'pending' } });
      const staleResolved = await startConversation(s, wa, { at: hoursAgo(50) });
      await s.call('PATCH', `/api/conversations/${staleResolved.conversationId}/status`, { body: { status: 'resolved' } });
      const recent = await startConversation(s, wa, { at: hoursAgo(2) });
      const foreign = await startConversation(other, otherWa, { at: hoursAgo(50) });

      const narrow = await s.call('POST', '/api/conversations/expire', { body: { older_than_hours: 40 } });
      expect(narrow.status).to.equal(200);
      expect(narrow.body).to.deep.equal({ expired: [stalePending.conversationId], count: 1, has_more: false });

      const res = await s.call('POST', '/api/conversations/expire', { body: {} });
      expect(res.body.expired).to.deep.equal([stale.conversationId]);
      const get = (id: string, who = s) => who.call('GET', `/api/conversations/${id}`).then((r) => r.body);
      expect(await get(stale.conversationId)).to.include({ status: 'expired' }).and.have.property('closed_at').that.is.a('string');
      expect((await get(staleResolved.conversationId)).status).to.equal('resolved');
      expect((await get(recent.conversationId)).status).to.equal('open');
      expect((await get(foreign.conversationId, other)).status).to.equal('open');
      const next = await startConversation(s, wa, { from: stale.from });
      expect(next.conversationId).to.not.equal(stale.conversationId);
      // Expired is final.
      expect((await s.call('PATCH', `/api/conversations/${stale.conversationId}/status`, { body: { status: 'open' } })).status).to.equal(422);
    });

    it('leaves alone the conversations the caller may not see', async () => {
      const id = await hiddenConversation();
      // Backdate through the customer: a conversation whose only message is old.
      const old = await startConversation(s, wa, { at: hoursAgo(100) });
      await s.call('POST', `/api/conversations/${old.conversationId}/transfer`, { body: { to_division_id: divisionId, reason: 'billing' } });
      const res = await agent.call('POST', '/api/conversations/expire', { body: { older_than_hours: 1 } });
      expect(res.status).to.equal(200);
      expect(res.body.expired).to.not.include(old.conversationId).and.not.include(id);
      expect((await s.call('GET', `/api/conversations/${old.conversationId}`)).body.status).to.equal('open');
    });

    it('answers 400 for an out-of-range or non-integer age, or extra fields', async () => {
      for (const body of [{ older_than_hours: 0 }, { older_than_hours: 721 }, { older_than_hours: 1.5 }, { older_than_hours: '24' }, { all: true }]) {
        const res = await s.call('POST', '/api/conversations/expire', { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
      }
    });

    itChecksAccess('POST', () => '/api/conversations/expire', 'conversations.manage', () => s, { body: {} });
  });

  describe('PATCH /api/conversations/{id}/tags', () => {
    const tags = (id: string, body: unknown, who = s) => who.call('PATCH', `/api/conversations/${id}/tags`, { body });

    it('replaces the list, normalized, or edits it', async () => {
      const id = await fresh();
      const set = await tags(id, { tags: ['  VIP ', 'Refund', 'vip'] });
      expect(set.status).to.equal(200);
      expect(set.body.tags).to.deep.equal(['vip', 'refund']);
      const edited = await tags(id, { add: ['Shipping', 'vip'], remove: ['REFUND'] });
      expect(edited.body.tags).to.deep.equal(['vip', 'shipping']);
      const cleared = await tags(id, { tags: [] });
      expect(cleared.body.tags).to.deep.equal([]);
    });

    it('tags a closed conversation too', async () => {
      const id = await fresh();
      await s.call('PATCH', `/api/conversations/${id}/status`, { body: { status: 'closed' } });
      expect((await tags(id, { add: ['spam'] })).body.tags).to.deep.equal(['spam']);
    });

    it('answers 422 when an edit would leave more than 30 tags', async () => {
      const id = await fresh();
      await tags(id, { tags: Array.from({ length: 30 }, (_, i) => `t${i}`) });
      const res = await tags(id, { add: ['one-more'] });
      expect(res.status).to.equal(422);
      expect((await s.call('GET', `/api/conversations/${id}`)).body.tags).to.have.length(30);
    });

    it('answers 400 for both forms at once, neither, bad tags or too many', async () => {
      const id = await fresh();
      const cases = [{ tags: ['a'], add: ['b'] }, {}, { tags: ['a,b'] }, { tags: [''] }, { tags: ['x'.repeat(51)] }, { tags: Array.from({ length: 31 }, (_, i) => `t${i}`) }, { tags: 'vip' }, { add: [1] }, { set: ['a'] }];
      for (const body of cases) expect((await tags(id, body)).status, JSON.stringify(body)).to.equal(400);
    });

    itHidesOthers('PATCH', '/tags', { add: ['x'] });
    itChecksAccess('PATCH', () => `/api/conversations/${randomUUID()}/tags`, 'conversations.manage', () => s, { body: { add: ['x'] } });
  });

  describe('POST /api/conversations/{id}/takeover', () => {
    it('makes the caller the assignee and tells the previous one', async () => {
      const id = await hiddenConversation();
      await s.call('PATCH', `/api/conversations/${id}/assign`, { body: { agent_id: agent.userId } });
      const supervisor = await userWithPermissions(s, ['conversations.view', 'conversations.view_all', 'conversations.takeover']);
      const watcher = await listen(agent.token);
      try {
        const res = await supervisor.call('POST', `/api/conversations/${id}/takeover`, { body: { reason: 'Customer asked for a manager' } });
        expect(res.status).to.equal(200);
        expect(res.body).to.include({ id, assignee_id: supervisor.userId, previous_assignee_id: agent.userId });
        const event = await until(async () => watcher.seen.find((e) => e.event === 'conversation.takeover' && e.data.id === id), 'conversation.takeover');
        expect(event.data).to.include({ previous_assignee_id: agent.userId, taken_over_by: supervisor.userId, reason: 'Customer asked for a manager' });
      } finally {
        watcher.close();
      }
      const again = await supervisor.call('POST', `/api/conversations/${id}/takeover`, { body: {} });
      expect(again.status).to.equal(200);
      expect(again.body.assignee_id).to.equal(supervisor.userId);
    });

    it('answers 422 for a closed conversation', async () => {
      const id = await fresh();
      await s.call('PATCH', `/api/conversations/${id}/status`, { body: { status: 'closed' } });
      expect((await s.call('POST', `/api/conversations/${id}/takeover`, { body: {} })).status).to.equal(422);
    });

    it('answers 400 for a bad reason or extra fields', async () => {
      const id = await fresh();
      for (const body of [{ reason: '' }, { reason: 'x'.repeat(501) }, { reason: 7 }, { agent_id: agent.userId }]) {
        expect((await s.call('POST', `/api/conversations/${id}/takeover`, { body })).status, JSON.stringify(body)).to.equal(400);
      }
    });

    itHidesOthers('POST', '/takeover', {});
    itChecksAccess('POST', () => `/api/conversations/${randomUUID()}/takeover`, 'conversations.takeover', () => s, { body: {} });
  });

  describe('POST /api/conversations/bulk', () => {
    const bulk = (body: unknown, who = s) => who.call('POST', '/api/conversations/bulk', { body });

    it('applies the action to each conversation and reports per id', async () => {
      const [a, b] = [await fresh(), await fresh()];
      const foreign = (await startConversation(other, otherWa)).conversationId;
      const hidden = await hiddenConversation();
      const res = await bulk({ action: 'add_tags', ids: [a, foreign, b, hidden], tags: ['Promo'] }, agent);
      expect(res.status).to.equal(200);
      expect(res.body.results.map((r: any) => [r.id, r.ok, r.status])).to.deep.equal([
        [a, true, 200],
        [foreign, false, 404],
        [b, true, 200],
        [hidden, false, 404],
      ]);
      expect(res.body.results[1]).to.include({ code: 'not_found' });
      expect(res.body).to.include({ succeeded: 2, failed: 2 });
      expect((await s.call('GET', `/api/conversations/${b}`)).body.tags).to.deep.equal(['promo']);
      expect((await other.call('GET', `/api/conversations/${foreign}`)).body.tags).to.deep.equal([]);
      expect((await s.call('GET', `/api/conversations/${hidden}`)).body.tags).to.deep.equal([]);

      const removed = await bulk({ action: 'remove_tags', ids: [a, b], tags: ['promo'] });
      expect(removed.body.succeeded).to.equal(2);
      expect((await s.call('GET', `/api/conversations/${a}`)).body.tags).to.deep.equal([]);
    });

    it('assigns, unassigns and changes status, reporting the conversations whose state forbids it', async () => {
      const [a, b] = [await fresh(), await fresh()];
      await s.call('PATCH', `/api/conversations/${b}/status`, { body: { status: 'resolved' } });
      const assigned = await bulk({ action: 'assign', ids: [a, b], agent_id: agent.userId });
      expect(assigned.body.succeeded).to.equal(2);
      expect((await s.call('GET', `/api/conversations/${a}`)).body.assignee_id).to.equal(agent.userId);
      const pending = await bulk({ action: 'status', ids: [a, b], status: 'pending' });
      expect(pending.body.results[0]).to.include({ ok: true, status: 200 });
      expect(pending.body.results[1]).to.include({ ok: false, status: 422, code: 'state_not_allowed' });
      const unassigned = await bulk({ action: 'unassign', ids: [a, b] });
      expect(unassigned.body.succeeded).to.equal(2);
      expect((await s.call('GET', `/api/conversations/${b}`)).body.assignee_id).to.equal(null);
    });

    it('answers 403 for assigning in bulk without conversations.assign, changing nothing', async () => {
      const id = await fresh();
      const manager = await userWithPermissions(s, ['conversations.view', 'conversations.manage']);
      const res = await bulk({ action: 'assign', ids: [id], agent_id: manager.userId }, manager);
      expect(res.status).to.equal(403);
      expect(res.body.message).to.include('conversations.assign');
      expect((await s.call('GET', `/api/conversations/${id}`)).body.assignee_id).to.equal(null);
    });

    it('answers 400 for an agent of another tenant, for the whole call', async () => {
      const id = await fresh();
      const res = await bulk({ action: 'assign', ids: [id], agent_id: other.userId });
      expect(res.status).to.equal(400);
      expect(res.body.message).to.equal('unknown agent');
    });

    it('answers 400 for bad ids, actions and fields', async () => {
      const id = randomUUID();
      const cases = [
        { action: 'add_tags', ids: [], tags: ['a'] },
        { action: 'add_tags', ids: [id, id], tags: ['a'] },
        { action: 'add_tags', ids: Array.from({ length: 101 }, () => randomUUID()), tags: ['a'] },
        { action: 'add_tags', ids: ['nope'], tags: ['a'] },
        { action: 'add_tags', ids: [id] },
        { action: 'assign', ids: [id] },
        { action: 'status', ids: [id], status: 'expired' },
        { action: 'delete', ids: [id] },
        { action: 'unassign', ids: [id], agent_id: id },
        { ids: [id] },
      ];
      for (const body of cases) expect((await bulk(body)).status, JSON.stringify(body).slice(0, 80)).to.equal(400);
    });

    itChecksAccess('POST', () => '/api/conversations/bulk', 'conversations.manage', () => s, { body: { action: 'unassign', ids: [randomUUID()] } });
  });

  describe('Conversation changes and auto-assignment capacity', () => {
    it('frees an agent’s capacity when their conversation closes, serving the waiting conversation', async function () {
      this.timeout(30000);
      const t = await createSession();
      const twa = await connectWhatsapp(t);
      const x = await userWithPermissions(t, AGENT);
      expect((await t.call('PATCH', `/api/agents/${x.userId}`, { body: { max_concurrent_conversations: 1 } })).status).to.equal(200);
      expect((await x.call('PATCH', `/api/agents/${x.userId}/status`, { body: { status: 'online' } })).status).to.equal(200);
      const a = (await startConversation(t, twa)).conversationId;
      expect((await t.call('PATCH', `/api/conversations/${a}/assign`, { body: { agent_id: x.userId } })).body.assignee_id).to.equal(x.userId);
      const b = (await startConversation(t, twa)).conversationId;
      // Handed back unassigned while the only online agent is full: B waits.
      await t.call('PATCH', `/api/conversations/${b}/assign`, { body: { agent_id: t.userId } });
      expect((await t.call('PATCH', `/api/conversations/${b}/assign`, { body: { agent_id: null } })).body.assignee_id).to.equal(null);
      expect((await t.call('GET', `/api/conversations/${b}`)).body.assignee_id).to.equal(null);

      expect((await x.call('PATCH', `/api/conversations/${a}/status`, { body: { status: 'closed' } })).status).to.equal(200);
      const served = await until(async () => {
        const res = await t.call('GET', `/api/conversations/${b}`);
        return res.body.assignee_id === x.userId ? res.body : null;
      }, 'B assigned to the agent whose conversation closed');
      expect(served.status).to.equal('open');
    });
  });

  describe('Conversation changes across two server processes', () => {
    it('never loses a concurrent update, whichever process takes the request', async function () {
      this.timeout(60000);
      const second = await startServerProcess(testServerEnv());
      try {
        const id = await fresh();
        const readers = await Promise.all(Array.from({ length: 4 }, () => userWithPermissions(s, AGENT)));
        const at = async (i: number, token: string, method: string, path: string, body?: unknown) => {
          const res = await fetch(`${i % 2 ? second.url : baseUrl()}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body ?? {}),
          });
          return res.status;
        };
        const statuses = await Promise.all([
          ...Array.from({ length: 20 }, (_, i) => at(i, s.token, 'PATCH', `/api/conversations/${id}/tags`, { add: [`tag-${i}`] })),
          ...readers.map((r, i) => at(i, r.token, 'POST', `/api/conversations/${id}/read`)),
          ...Array.from({ length: 6 }, (_, i) => at(i, s.token, 'PATCH', `/api/conversations/${id}/status`, { status: i % 2 ? 'pending' : 'open' })),
          at(1, s.token, 'PATCH', `/api/conversations/${id}/assign`, { agent_id: agent.userId }),
        ]);
        expect(statuses.every((st) => st === 200), JSON.stringify(statuses)).to.equal(true);
        const after = (await s.call('GET', `/api/conversations/${id}`)).body;
        expect(after.tags).to.have.members(Array.from({ length: 20 }, (_, i) => `tag-${i}`));
        expect(after.read_markers).to.have.keys(readers.map((r) => r.userId));
        expect(after.assignee_id).to.equal(agent.userId);
        expect(after.status).to.be.oneOf(['open', 'pending']);
      } finally {
        second.kill();
      }
    });
  });
});
