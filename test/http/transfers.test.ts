import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { askConversation } from '../../actors/conversation/index.js';
import { conversations } from '../../src/models/conversation.js';
import { transfers } from '../../src/models/transfer.js';
import { baseUrl } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

/** A socket that records every conversation.transferred it receives. */
interface Listener {
  transfers: any[];
  close(): void;
}

async function listen(token: string): Promise<Listener> {
  const socket: Socket = connect(baseUrl(), { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
  const transfers: any[] = [];
  socket.on('conversation.transferred', (payload: { data: unknown }) => transfers.push(payload.data));
  await new Promise<void>((resolve, reject) => {
    socket.once('sync.done', () => resolve());
    socket.once('connect_error', reject);
  });
  return { transfers, close: () => socket.close() };
}

const conversation = (tenantId: string, id: string) => conversations.findOwned(tenantId, id);
const historyOf = (tenantId: string, id: string) => transfers.find({ tenant_id: tenantId, conversation_id: id });
const transferPath = (id: string) => `/api/conversations/${id}/transfer`;
const historyPath = (id: string) => `/api/conversations/${id}/transfers`;

/** True when the caller may see the conversation: GET /api/conversations/{id} and its history agree. */
async function sees(who: TestSession, id: string): Promise<boolean> {
  const single = await who.call('GET', `/api/conversations/${id}`);
  expect(single.status).to.be.oneOf([200, 404]);
  expect((await who.call('GET', historyPath(id))).status).to.equal(single.status);
  return single.status === 200;
}

describe('Transfers', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let sales: string;
  let support: string;
  /** Members (conversations.view only) of each division. */
  let salesAgent: TestSession;
  let supportAgent: TestSession;
  /** Sees conversations, in no division. */
  let loneAgent: TestSession;
  /** May transfer, sees conversations, in no division. */
  let transferrer: TestSession;
  let other: TestSession;
  let otherConversation: string;

  const division = async (name: string, members: TestSession[]) => {
    const res = await s.call('POST', '/api/divisions', { body: { name } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    if (members.length) {
      const added = await s.call('POST', `/api/divisions/${res.body.id}/agents`, { body: { agent_ids: members.map((m) => m.userId) } });
      expect(added.status, JSON.stringify(added.body)).to.equal(200);
    }
    return res.body.id as string;
  };
  const newConversation = async () => (await startConversation(s, wa)).conversationId;

  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
    salesAgent = await userWithPermissions(s, ['conversations.view']);
    supportAgent = await userWithPermissions(s, ['conversations.view']);
    loneAgent = await userWithPermissions(s, ['conversations.view']);
    transferrer = await userWithPermissions(s, ['conversations.view', 'conversations.transfer']);
    sales = await division('Sales', [salesAgent]);
    support = await division('Support', [supportAgent]);
    other = await createSession();
    otherConversation = (await startConversation(other, await connectWhatsapp(other))).conversationId;
  });

  describe('POST /api/conversations/{id}/transfer', () => {
    itChecksAccess('POST', () => transferPath(otherConversation), 'conversations.transfer', () => s, { body: { to_division_id: randomUUID(), reason: 'x' } });

    it('moves a conversation from division to division: unassigned, visible to the new division only, announced to both', async () => {
      const id = await newConversation();
      const toSales = await transferrer.call('POST', transferPath(id), { body: { to_division_id: sales, reason: 'Wants a quote' } });
      expect(toSales.status, JSON.stringify(toSales.body)).to.equal(200);
      expect(await sees(salesAgent, id)).to.equal(true);
      expect(await sees(supportAgent, id)).to.equal(false);

      const [salesSocket, supportSocket, loneSocket] = await Promise.all([listen(salesAgent.token), listen(supportAgent.token), listen(loneAgent.token)]);
      try {
        const res = await s.call('POST', transferPath(id), { body: { to_division_id: support, reason: '  Actually a delivery problem ' } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ id, division_id: support, assignee_id: null });
        expect(res.body.contact).to.include({ channel: 'whatsapp' });
        expect(res.body.transfer).to.include({
          conversation_id: id,
          from_agent_id: null,
          from_division_id: sales,
          to_agent_id: null,
          to_division_id: support,
          reason: 'Actually a delivery problem',
          transferred_by: s.userId,
        });
        expect(toSales.body.transfer).to.include({ from_division_id: null, to_division_id: sales, transferred_by: transferrer.userId });
        expect(await conversation(s.tenantId, id)).to.include({ division_id: support, assignee_id: null });

        expect(await sees(supportAgent, id)).to.equal(true);
        expect(await sees(salesAgent, id)).to.equal(false);
        expect(await sees(loneAgent, id)).to.equal(false);

        // The new division's agents and the old division's both hear about it; outsiders do not.
        const received = await until(async () => supportSocket.transfers.find((d) => d.id === id), 'conversation.transferred in the new division');
        expect(received.transfer).to.include({ id: res.body.transfer.id, to_division_id: support });
        await until(async () => salesSocket.transfers.find((d) => d.id === id), 'conversation.transferred in the old division');
        expect(loneSocket.transfers).to.have.length(0);
      } finally {
        salesSocket.close();
        supportSocket.close();
        loneSocket.close();
      }
    });

    it('hands a conversation to an agent, keeping its division; the agent sees it and gets the event live', async () => {
      const id = await newConversation();
      expect((await s.call('POST', transferPath(id), { body: { to_division_id: support, reason: 'triage' } })).status).to.equal(200);
      const loneSocket = await listen(loneAgent.token);
      try {
        const res = await s.call('POST', transferPath(id), { body: { to_agent_id: loneAgent.userId, reason: 'Speaks Javanese' } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ division_id: support, assignee_id: loneAgent.userId });
        expect(res.body.transfer).to.include({ from_division_id: support, to_division_id: null, to_agent_id: loneAgent.userId, transferred_by: s.userId });
        const event = await until(async () => loneSocket.transfers.find((d) => d.id === id), 'conversation.transferred for the new assignee');
        expect(event).to.include({ assignee_id: loneAgent.userId });
        expect(await sees(loneAgent, id)).to.equal(true);
      } finally {
        loneSocket.close();
      }
    });

    it('hands a conversation to an agent of a division; the previous assignee hears it and loses sight of it', async () => {
      const id = await newConversation();
      expect((await s.call('POST', transferPath(id), { body: { to_agent_id: loneAgent.userId, to_division_id: support, reason: 'first' } })).status).to.equal(400);
      expect((await s.call('POST', transferPath(id), { body: { to_agent_id: supportAgent.userId, to_division_id: support, reason: 'first' } })).status).to.equal(200);
      const supportSocket = await listen(supportAgent.token);
      const salesSocket = await listen(salesAgent.token);
      try {
        const res = await s.call('POST', transferPath(id), { body: { to_agent_id: salesAgent.userId, to_division_id: sales, reason: 'Upsell opportunity' } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ division_id: sales, assignee_id: salesAgent.userId });
        expect(res.body.transfer).to.include({ from_agent_id: supportAgent.userId, from_division_id: support, to_agent_id: salesAgent.userId, to_division_id: sales });
        await until(async () => supportSocket.transfers.find((d) => d.id === id), 'conversation.transferred for the previous assignee');
        await until(async () => salesSocket.transfers.find((d) => d.id === id), 'conversation.transferred for the new assignee');
        expect(await sees(supportAgent, id)).to.equal(false);
        expect(await sees(salesAgent, id)).to.equal(true);
      } finally {
        supportSocket.close();
        salesSocket.close();
      }
    });

    it('answers 422 for a transfer that changes nothing, and records nothing', async () => {
      const id = await newConversation();
      expect((await s.call('POST', transferPath(id), { body: { to_agent_id: loneAgent.userId, reason: 'yours' } })).status).to.equal(200);
      const again = await s.call('POST', transferPath(id), { body: { to_agent_id: loneAgent.userId, reason: 'yours again' } });
      expect(again.status).to.equal(422);
      expect(again.body.code).to.equal('state_not_allowed');
      expect((await s.call('POST', transferPath(id), { body: { to_division_id: sales, reason: 'to the pool' } })).status).to.equal(200);
      expect((await s.call('POST', transferPath(id), { body: { to_division_id: sales, reason: 'still the pool' } })).status).to.equal(422);
      expect(await historyOf(s.tenantId, id)).to.have.length(2);
    });

    it('answers 422 for a closed or expired conversation', async () => {
      for (const status of ['closed', 'expired'] as const) {
        const id = await newConversation();
        await askConversation(id, 'set_status', { status });
        const res = await s.call('POST', transferPath(id), { body: { to_agent_id: loneAgent.userId, reason: 'too late' } });
        expect(res.status, status).to.equal(422);
        expect(res.body.message).to.include(status);
        expect(await conversation(s.tenantId, id)).to.include({ assignee_id: null, status });
        expect(await historyOf(s.tenantId, id)).to.have.length(0);
      }
    });

    it('answers 400 for an agent who is deactivated, cannot see conversations, or is not in the division; and for an inactive division', async () => {
      const id = await newConversation();
      const inactive = await userWithPermissions(s, ['conversations.view']);
      expect((await s.call('PATCH', `/api/agents/${inactive.userId}`, { body: { is_active: false } })).status).to.equal(200);
      const blind = await userWithPermissions(s, ['notes.manage']);
      const closed = await division('Closed desk', []);
      expect((await s.call('PATCH', `/api/divisions/${closed}`, { body: { is_active: false } })).status).to.equal(200);
      const cases = [
        { to_agent_id: inactive.userId },
        { to_agent_id: blind.userId },
        { to_agent_id: salesAgent.userId, to_division_id: support },
        { to_division_id: closed },
      ];
      for (const target of cases) {
        const res = await s.call('POST', transferPath(id), { body: { ...target, reason: 'try' } });
        expect(res.status, JSON.stringify(target)).to.equal(400);
        expect(res.body.details[0].field).to.equal(Object.keys(target)[0]);
      }
      expect(await historyOf(s.tenantId, id)).to.have.length(0);
    });

    it('answers 400 for a bad body, an unknown or deleted agent, or an unknown division', async () => {
      const id = await newConversation();
      const gone = await userWithPermissions(s, ['conversations.view']);
      expect((await s.call('DELETE', `/api/agents/${gone.userId}`)).status).to.equal(200);
      const bad = [
        {},
        { reason: 'no target' },
        { to_agent_id: loneAgent.userId },
        { to_agent_id: loneAgent.userId, reason: '' },
        { to_agent_id: loneAgent.userId, reason: '   ' },
        { to_agent_id: loneAgent.userId, reason: 'x'.repeat(501) },
        { to_agent_id: loneAgent.userId, reason: 7 },
        { to_agent_id: 'lone', reason: 'r' },
        { to_division_id: 12, reason: 'r' },
        { to_agent_id: loneAgent.userId, reason: 'r', priority: 'high' },
        { to_agent_id: randomUUID(), reason: 'r' },
        { to_agent_id: gone.userId, reason: 'r' },
        { to_agent_id: other.userId, reason: 'r' },
        { to_division_id: randomUUID(), reason: 'r' },
      ];
      for (const body of bad) {
        const res = await s.call('POST', transferPath(id), { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
      }
      expect((await s.call('POST', transferPath('nope'), { body: { to_agent_id: loneAgent.userId, reason: 'r' } })).status).to.equal(400);
      expect(await historyOf(s.tenantId, id)).to.have.length(0);
      expect((await s.call('POST', transferPath(id), { body: { to_agent_id: loneAgent.userId, reason: 'x'.repeat(500) } })).status).to.equal(200);
    });

    it('lets auto-assignment hand a division-only transfer to a free agent of that division', async () => {
      const own = await createSession();
      const ownWa = await connectWhatsapp(own);
      const agent = await userWithPermissions(own, ['conversations.view']);
      const desk = await own.call('POST', '/api/divisions', { body: { name: 'Desk' } });
      expect((await own.call('POST', `/api/divisions/${desk.body.id}/agents`, { body: { agent_ids: [agent.userId] } })).status).to.equal(200);
      const id = (await startConversation(own, ownWa)).conversationId;
      expect((await agent.call('PATCH', `/api/agents/${agent.userId}/status`, { body: { status: 'online' } })).status).to.equal(200);
      const res = await own.call('POST', transferPath(id), { body: { to_division_id: desk.body.id, reason: 'For the desk' } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.transfer).to.include({ to_division_id: desk.body.id, to_agent_id: null });
      expect(res.body).to.include({ division_id: desk.body.id, assignee_id: agent.userId });
      expect(await conversation(own.tenantId, id)).to.include({ division_id: desk.body.id, assignee_id: agent.userId });
    });

    it('answers 404 for another tenant’s conversation and leaves it where it was', async () => {
      const res = await s.call('POST', transferPath(otherConversation), { body: { to_agent_id: loneAgent.userId, reason: 'mine now' } });
      expect(res.status).to.equal(404);
      expect(res.body.code).to.equal('not_found');
      expect(await conversation(other.tenantId, otherConversation)).to.include({ assignee_id: null, division_id: null });
      expect((await s.call('POST', transferPath(randomUUID()), { body: { to_agent_id: loneAgent.userId, reason: 'r' } })).status).to.equal(404);
    });

    it('answers 404 for a conversation the caller may not see', async () => {
      const id = await newConversation();
      expect((await s.call('POST', transferPath(id), { body: { to_division_id: sales, reason: 'sales' } })).status).to.equal(200);
      const res = await transferrer.call('POST', transferPath(id), { body: { to_agent_id: transferrer.userId, reason: 'grab' } });
      expect(res.status).to.equal(404);
      expect(await conversation(s.tenantId, id)).to.include({ division_id: sales, assignee_id: null });
    });
  });

  describe('GET /api/conversations/{id}/transfers', () => {
    let id: string;
    before(async () => {
      id = await newConversation();
      for (const body of [
        { to_division_id: sales, reason: 'one' },
        { to_agent_id: salesAgent.userId, reason: 'two' },
        { to_agent_id: supportAgent.userId, to_division_id: support, reason: 'three' },
      ]) {
        const res = await s.call('POST', transferPath(id), { body });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
      }
    });

    itChecksAccess('GET', () => historyPath(id), 'conversations.view', () => s);

    it('lists the history oldest first, page by page', async () => {
      const res = await s.call('GET', historyPath(id));
      expect(res.status).to.equal(200);
      expect(res.body.data.map((t: any) => t.reason)).to.deep.equal(['one', 'two', 'three']);
      expect(res.body.data[1]).to.include({ from_agent_id: null, from_division_id: sales, to_agent_id: salesAgent.userId, to_division_id: null, transferred_by: s.userId });
      expect(res.body.data[2]).to.include({ from_agent_id: salesAgent.userId, from_division_id: sales, to_agent_id: supportAgent.userId, to_division_id: support });
      expect(res.body.data[0].created_at).to.match(/Z$/);
      expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 3, total_pages: 1 });
      const page2 = await supportAgent.call('GET', `${historyPath(id)}?limit=2&page=2`);
      expect(page2.status).to.equal(200);
      expect(page2.body.data.map((t: any) => t.reason)).to.deep.equal(['three']);
    });

    it('answers 400 for bad paging, unknown parameters or a malformed id', async () => {
      for (const q of ['limit=0', 'limit=101', 'page=-1', 'order=desc']) {
        expect((await s.call('GET', `${historyPath(id)}?${q}`)).status, q).to.equal(400);
      }
      expect((await s.call('GET', historyPath('x1'))).status).to.equal(400);
    });

    it('answers 404 for another tenant’s conversation', async () => {
      const theirs = await other.call('POST', '/api/divisions', { body: { name: 'Theirs' } });
      expect((await other.call('POST', transferPath(otherConversation), { body: { to_division_id: theirs.body.id, reason: 'internal' } })).status).to.equal(200);
      const res = await s.call('GET', historyPath(otherConversation));
      expect(res.status).to.equal(404);
      expect(JSON.stringify(res.body)).to.not.include('internal');
    });

    it('answers 404 for a conversation the caller may not see', async () => {
      expect((await salesAgent.call('GET', historyPath(id))).status).to.equal(404);
      expect((await loneAgent.call('GET', historyPath(id))).status).to.equal(404);
    });
  });
});
