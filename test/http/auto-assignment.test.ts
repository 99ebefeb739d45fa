import { expect } from 'chai';
import { conversations } from '../../src/models/conversation.js';
import { api } from '../support/http.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

/** An agent with the built-in agent role and a limit of one conversation, signed in and online. */
async function onlineAgent(s: TestSession, name: string): Promise<{ id: string; token: string }> {
  const roles = await s.call('GET', '/api/roles');
  const agentRole = (roles.body as { id: string; name: string }[]).find((r) => r.name === 'agent');
  const email = `${name.toLowerCase()}-${Date.now()}@example.test`;
  const created = await s.call('POST', '/api/agents', { body: { name, email, password: 'agent-password', role_id: agentRole?.id, max_concurrent_conversations: 1 } });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const login = await api('POST', '/api/auth/login', { body: { email, password: 'agent-password' } });
  const online = await api('PATCH', `/api/agents/${created.body.id}/status`, { token: login.body.token, body: { status: 'online' } });
  expect(online.status).to.equal(200);
  return { id: created.body.id, token: login.body.token };
}

const assigneeOf = async (tenantId: string, id: string) => (await conversations.findOwned(tenantId, id)).assignee_id;

describe('auto-assignment', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
  });

  it('assigns round-robin under each agent’s limit, queues the rest first in first out, and serves the queue when capacity frees', async function () {
    this.timeout(30000);
    const ani = await onlineAgent(s, 'Ani');
    const budi = await onlineAgent(s, 'Budi');
    const first = await startConversation(s, wa);
    const a1 = await until(() => assigneeOf(s.tenantId, first.conversationId), 'first assignment');
    const second = await startConversation(s, wa);
    const a2 = await until(() => assigneeOf(s.tenantId, second.conversationId), 'second assignment');
    expect([a1, a2].sort()).to.deep.equal([ani.id, budi.id].sort());

    // Both are at their limit of one: the next two wait, in order.
    const third = await startConversation(s, wa);
    const fourth = await startConversation(s, wa);
    await new Promise((r) => setTimeout(r, 300));
    expect(await assigneeOf(s.tenantId, third.conversationId)).to.equal(null);
    expect(await assigneeOf(s.tenantId, fourth.conversationId)).to.equal(null);
    expect((await s.call('GET', '/api/settings/auto-assignment')).body).to.deep.equal({ enabled: true, queued: 2 });

    // Resolving the first frees its agent, who gets the oldest waiting conversation.
    const resolved = await s.call('PATCH', `/api/conversations/${first.conversationId}/status`, { body: { status: 'resolved' } });
    expect(resolved.status, JSON.stringify(resolved.body)).to.equal(200);
    expect(await until(() => assigneeOf(s.tenantId, third.conversationId), 'the oldest waiting conversation')).to.equal(a1);
    expect(await assigneeOf(s.tenantId, fourth.conversationId)).to.equal(null);
  });

  it('leaves new conversations unassigned when switched off', async () => {
    const off = await s.call('PUT', '/api/settings/auto-assignment', { body: { enabled: false } });
    expect(off.status).to.equal(200);
    expect(off.body).to.deep.equal({ enabled: false, queued: 0 });
    await onlineAgent(s, 'Citra');
    const c = await startConversation(s, wa);
    await new Promise((r) => setTimeout(r, 300));
    expect(await assigneeOf(s.tenantId, c.conversationId)).to.equal(null);
  });

  describe('GET/PUT /api/settings/auto-assignment', () => {
    itChecksAccess('GET', () => '/api/settings/auto-assignment', 'settings.manage', () => s);
    itChecksAccess('PUT', () => '/api/settings/auto-assignment', 'settings.manage', () => s, { body: { enabled: true } });
    it('answers 400 for a body that is not a boolean switch', async () => {
      expect((await s.call('PUT', '/api/settings/auto-assignment', { body: { enabled: 'yes' } })).status).to.equal(400);
      expect((await s.call('PUT', '/api/settings/auto-assignment', { body: { enabled: true, extra: 1 } })).status).to.equal(400);
    });
  });
});
