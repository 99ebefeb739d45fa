/**
 * Sockets follow the session: every way a credential stops working, or stops seeing something,
 * reaches the sockets opened with it, on every process, within a second. Most sockets here are
 * on a second server process while the change is made through the first.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { authSessions } from '../../src/models/auth-session.js';
import { setTenantStatus } from '../../src/services/tenants.js';
import { baseUrl, testServerEnv } from '../setup.js';
import { api } from '../support/http.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { openSocket, waitFor, type TestSocket } from '../support/sockets.js';
import { connectWhatsapp, startConversation, type WhatsappAccount } from '../support/whatsapp.js';

/** Waits until the server has closed the socket, at most `ms` from now; answers the reason it gave. */
async function endedWithin(c: TestSocket, ms: number): Promise<string | null> {
  await waitFor(() => c.closedAt !== null, 'the server to close the socket', ms);
  return c.endedReason;
}

/** A second session token of the user, from a fresh login. */
async function signIn(s: TestSession): Promise<string> {
  const res = await api('POST', '/api/auth/login', { body: { email: s.email, password: s.password } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body.token as string;
}

async function expectStatus(res: Promise<{ status: number; body: unknown }>, status: number) {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).to.equal(status);
}

describe('realtime: sockets follow the session', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let second: ServerProcess;
  let presence = 0;

  before(async function () {
    this.timeout(30000);
    s = await createSession();
    wa = await connectWhatsapp(s);
    second = await startServerProcess(testServerEnv());
  });
  after(() => second?.kill());

  /** A tenant-wide event every member receives, to know that everything before it has arrived. */
  async function marker(...sockets: TestSocket[]) {
    const before = sockets.map((c) => c.named('agent.status_changed').length);
    await expectStatus(s.call('PATCH', `/api/agents/${s.userId}/status`, { body: { status: presence++ % 2 === 0 ? 'online' : 'offline' } }), 200);
    await waitFor(() => sockets.every((c, i) => c.named('agent.status_changed').length > (before[i] ?? 0)), 'the marker event');
  }

  const tag = (conversationId: string) => expectStatus(s.call('PATCH', `/api/conversations/${conversationId}/tags`, { body: { add: [`t${randomBytes(3).toString('hex')}`] } }), 200);

  describe('ends a socket within a second, on another process,', () => {
    it('after logout', async () => {
      const token = await signIn(s);
      const c = await openSocket(second.url, { token });
      await expectStatus(api('POST', '/api/auth/logout', { token }), 200);
      expect(await endedWithin(c, 1000)).to.match(/revoked/);
    });

    it('after its token is rotated with GET /api/auth/token', async () => {
      const token = await signIn(s);
      const c = await openSocket(second.url, { token });
      await expectStatus(api('GET', '/api/auth/token', { token }), 200);
      expect(await endedWithin(c, 1000)).to.match(/revoked/);
    });

    it('when its token expires', async () => {
      // A token of the test server's own secret that expires in about two seconds (tokens the
      // API issues live at least a minute), with its session as login would store it.
      const exp = Math.floor(Date.now() / 1000) + 2;
      const jti = randomUUID();
      await authSessions.insert({ _id: jti, tenant_id: s.tenantId, user_id: s.userId, expires_at: new Date(exp * 1000), revoked_at: null });
      const token = jwt.sign({ tid: s.tenantId, exp }, testServerEnv().JWT_SECRET as string, { algorithm: 'HS256', subject: s.userId, jwtid: jti });
      const c = await openSocket(second.url, { token });
      await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now())));
      expect(await endedWithin(c, 1000)).to.match(/expired/);
    });

    it('after its API key is revoked', async () => {
      const key = await s.call('POST', '/api/api-keys', { body: { name: `socket ${randomBytes(3).toString('hex')}` } });
      expect(key.status).to.equal(201);
      const c = await openSocket(second.url, { token: key.body.key });
      await expectStatus(s.call('DELETE', `/api/api-keys/${key.body.id}`), 200);
      expect(await endedWithin(c, 1000)).to.match(/revoked/);
    });

    it('after its agent is deactivated, for its JWT and API-key sockets alike', async () => {
      const agent = await userWithPermissions(s, ['conversations.view', 'api_keys.manage']);
      const key = await agent.call('POST', '/api/api-keys', { body: { name: 'agent socket' } });
      expect(key.status).to.equal(201);
      const viaToken = await openSocket(second.url, { token: agent.token });
      const viaKey = await openSocket(baseUrl(), { token: key.body.key });
      await expectStatus(s.call('PATCH', `/api/agents/${agent.userId}`, { body: { is_active: false } }), 200);
      expect(await endedWithin(viaToken, 1000)).to.match(/no longer active/);
      expect(await endedWithin(viaKey, 1000)).to.match(/no longer active/);
      // Reactivated, the agent signs in again; the old token stays dead.
      await expectStatus(s.call('PATCH', `/api/agents/${agent.userId}`, { body: { is_active: true } }), 200);
      expect((await api('GET', '/api/auth/me', { token: agent.token })).status).to.equal(401);
    });

    it('after its agent is deleted', async () => {
      const agent = await userWithPermissions(s, ['conversations.view']);
      const c = await openSocket(second.url, { token: agent.token });
      await expectStatus(s.call('DELETE', `/api/agents/${agent.userId}`), 200);
      expect(await endedWithin(c, 1000)).to.match(/no longer active/);
    });

    it('after its organization is suspended', async () => {
      // No route suspends an organization yet (the super-admin API will); the service is the one path.
      const org = await createSession();
      const c = await openSocket(second.url, { token: org.token });
      await setTenantStatus({ tenantId: org.tenantId, status: 'suspended' });
      expect(await endedWithin(c, 1000)).to.match(/suspended/);
      expect((await org.call('GET', '/api/auth/me')).status).to.equal(401);
    });

    it('after a password change on another session, keeping the changer’s own', async () => {
      const other = await signIn(s);
      const theirs = await openSocket(second.url, { token: other });
      const mine = await openSocket(second.url, { token: s.token });
      try {
        await expectStatus(s.call('PATCH', `/api/agents/${s.userId}`, { body: { password: s.password } }), 200);
        expect(await endedWithin(theirs, 1000)).to.match(/revoked/);
        await marker(mine);
        expect(mine.closedAt).to.equal(null);
      } finally {
        mine.close();
      }
    });
  });

  describe('re-scopes a socket within a second', () => {
    /** Opens `agent`'s socket on the second process; checks that it sees the conversation's changes until `change`, and not after. */
    async function expectLosesSight(agent: TestSession, conversationId: string, change: () => Promise<void>) {
      const c = await openSocket(second.url, { token: agent.token });
      try {
        await tag(conversationId);
        await waitFor(() => c.named('conversation.updated').length === 1, 'the conversation’s change before');
        await change();
        await new Promise((r) => setTimeout(r, 1000));
        await tag(conversationId);
        await marker(c);
        expect(c.named('conversation.updated')).to.have.length(1);
        expect(c.closedAt, 'still connected').to.equal(null);
      } finally {
        c.close();
      }
    }

    it('when its agent leaves the conversation’s division', async () => {
      const agent = await userWithPermissions(s, ['conversations.view']);
      const division = await s.call('POST', '/api/divisions', { body: { name: `Sales ${randomBytes(3).toString('hex')}` } });
      expect(division.status).to.equal(201);
      await expectStatus(s.call('POST', `/api/divisions/${division.body.id}/agents`, { body: { agent_ids: [agent.userId] } }), 200);
      const { conversationId } = await startConversation(s, wa);
      await expectStatus(s.call('POST', `/api/conversations/${conversationId}/transfer`, { body: { to_division_id: division.body.id, reason: 'sales' } }), 200);
      await expectLosesSight(agent, conversationId, () =>
        expectStatus(s.call('DELETE', `/api/divisions/${division.body.id}/agents`, { body: { agent_ids: [agent.userId] } }), 200),
      );
    });

    it('when its role loses conversations.view', async () => {
      const agent = await userWithPermissions(s, ['conversations.view']);
      const { conversationId } = await startConversation(s, wa);
      const roleId = (await s.call('GET', `/api/agents/${agent.userId}`)).body.role_id as string;
      await expectLosesSight(agent, conversationId, () => expectStatus(s.call('PATCH', `/api/roles/${roleId}`, { body: { permissions: ['agents.view'] } }), 200));
    });

    it('when its agent is given a role without conversations.view', async () => {
      const agent = await userWithPermissions(s, ['conversations.view']);
      const narrow = await s.call('POST', '/api/roles', { body: { name: `narrow ${randomBytes(3).toString('hex')}`, permissions: ['agents.view'] } });
      expect(narrow.status).to.equal(201);
      const { conversationId } = await startConversation(s, wa);
      await expectLosesSight(agent, conversationId, () => expectStatus(s.call('PATCH', `/api/agents/${agent.userId}`, { body: { role_id: narrow.body.id } }), 200));
    });
  });
});
