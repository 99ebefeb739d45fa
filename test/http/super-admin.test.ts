/**
 * The Super Admin group: the platform operator's own realm (accounts, tokens with their own
 * audience), tenants, their usage and users, impersonation and system health. Realm separation
 * is checked both ways: no tenant credential reaches these routes, no super-admin token reaches
 * a tenant's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import type { Principal } from '../../src/auth/principal.js';
import { messages } from '../../src/models/message.js';
import { OutgoingWebhookDeliveryModel } from '../../src/models/outgoing-webhook-delivery.js';
import { findWebhookEvent } from '../../src/models/webhook-event.js';
import { setAgentStatus } from '../../src/services/agents.js';
import { deleteSuperAdmin, listSuperAdmins } from '../../src/models/super-admin.js';
import { createSuperAdminAccount } from '../../src/services/super-admins.js';
import { baseUrl, testServerEnv, throwawayMongoUri } from '../setup.js';
import { api, type ApiOptions } from '../support/http.js';
import { freePort, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { openSocket, waitFor } from '../support/sockets.js';
import { connectWhatsapp, digits, postSigned, textWebhook, until } from '../support/whatsapp.js';

const unique = () => randomBytes(4).toString('hex');

/** A signed-in super admin. */
interface Operator {
  id: string;
  email: string;
  password: string;
  token: string;
  call<T = any>(method: string, path: string, opts?: ApiOptions): ReturnType<typeof api<T>>;
}

/** Creates a super-admin account (as the command line does) and signs it in over HTTP. */
async function createOperator(): Promise<Operator> {
  const email = `ops-${unique()}@platform.test`;
  const password = 'operator-pass-1';
  const admin = await createSuperAdminAccount({ actor: null, name: `Ops ${unique()}`, email, password });
  const res = await api('POST', '/api/super-admin/login', { body: { email, password } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  const token = res.body.token as string;
  return { id: admin._id, email, password, token, call: (method, path, opts = {}) => api(method, path, { token, ...opts }) };
}

/** A tenant API key of the session's admin. */
async function apiKeyOf(s: TestSession): Promise<string> {
  const res = await s.call('POST', '/api/api-keys', { body: { name: `key ${unique()}` } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.key as string;
}

describe('Super Admin', () => {
  let ops: Operator;
  let org: TestSession;
  let orgKey: string;
  let impersonation: string;

  before(async () => {
    ops = await createOperator();
    org = await createSession();
    orgKey = await apiKeyOf(org);
    const res = await ops.call('POST', `/api/super-admin/tenants/${org.tenantId}/impersonate`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    impersonation = res.body.token;
  });

  /** 401 without or with a bad credential; 403 for every tenant credential, an impersonation's included. */
  function itGuardsTheRealm(method: string, path: () => string, body?: () => unknown) {
    const opts = () => (body ? { body: body() } : {});
    it('answers 401 without credentials and with a forged token', async () => {
      const none = await api(method, path(), opts());
      expect(none.status).to.equal(401);
      expect(none.body.code).to.equal('unauthorized');
      const forged = await api(method, path(), { ...opts(), token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad' });
      expect(forged.status).to.equal(401);
    });
    it('answers 403 to a tenant admin’s token, API key and an impersonation token', async () => {
      for (const token of [org.token, orgKey, impersonation]) {
        const res = await api(method, path(), { ...opts(), token });
        expect(res.status, JSON.stringify(res.body)).to.equal(403);
        expect(res.body.code).to.equal('forbidden');
      }
    });
  }

  describe('POST /api/super-admin/login', () => {
    it('signs a super admin in with a token of the super-admin audience', async () => {
      const res = await api('POST', '/api/super-admin/login', { body: { email: ops.email.toUpperCase(), password: ops.password } });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ token_type: 'Bearer' });
      expect(res.body.admin).to.include({ id: ops.id, email: ops.email });
      expect(res.body.admin).to.not.have.property('password_hash');
      const [, payload] = (res.body.token as string).split('.');
      const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
      expect(claims.aud).to.equal('omnistream:super-admin');
      expect(claims).to.not.have.property('tid');
      expect(new Date(res.body.expires_at).getTime() - Date.now()).to.be.at.most(2 * 3600 * 1000 + 5000);
    });

    it('answers the same 401 for a wrong password and an unknown e-mail', async () => {
      const wrong = await api('POST', '/api/super-admin/login', { body: { email: ops.email, password: 'not-the-password' } });
      const unknown = await api('POST', '/api/super-admin/login', { body: { email: `nobody-${unique()}@platform.test`, password: 'whatever-1' } });
      expect(wrong.status).to.equal(401);
      expect(unknown.status).to.equal(401);
      expect(wrong.body.message).to.equal(unknown.body.message);
    });

    it('answers 401 to a tenant admin’s e-mail and password (tenant accounts are not super admins)', async () => {
      const res = await api('POST', '/api/super-admin/login', { body: { email: org.email, password: org.password } });
      expect(res.status).to.equal(401);
    });

    it('answers 400 for a malformed body', async () => {
      expect((await api('POST', '/api/super-admin/login', { body: { email: 'not-an-email', password: 'x' } })).status).to.equal(400);
      expect((await api('POST', '/api/super-admin/login', { body: { email: ops.email, password: ops.password, tenant: 'x' } })).status).to.equal(400);
    });
  });

  describe('realm separation', () => {
    it('a super-admin token gets 401 on tenant routes, over HTTP and Socket.IO', async () => {
      for (const path of ['/api/auth/me', '/api/agents', '/api/conversations']) {
        const res = await ops.call('GET', path);
        expect(res.status, path).to.equal(401);
      }
      let refused: unknown = null;
      await openSocket(baseUrl(), { token: ops.token }).then((c) => c.close(), (err: unknown) => (refused = err));
      expect(refused, 'the handshake is refused').to.not.equal(null);
    });

    it('a tenant token signed with the super-admin audience (or a super-admin token given a tid) reaches neither realm', async () => {
      const [header, payload, signature] = ops.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, tid: org.tenantId })).toString('base64url')}.${signature}`;
      expect((await api('GET', '/api/auth/me', { token: tampered })).status).to.equal(401);
      expect((await api('GET', '/api/super-admin/tenants', { token: tampered })).status).to.equal(401);
    });
  });

  describe('GET /api/super-admin/tenants', () => {
    it('lists tenants newest first, with search and status filters', async () => {
      const name = `Kopi ${unique()}`;
      const mine = await createSession({ organization_name: name });
      const all = await ops.call('GET', '/api/super-admin/tenants?limit=100');
      expect(all.status).to.equal(200);
      expect(all.body.data[0].id).to.equal(mine.tenantId);
      expect(all.body.data[0].limits).to.deep.equal({ agents: null, channel_accounts: null, monthly_messages: null, monthly_conversations: null, monthly_ai_replies: null, storage_bytes: null });
      const found = await ops.call('GET', `/api/super-admin/tenants?q=${encodeURIComponent(name.slice(5).toUpperCase())}`);
      expect(found.body.data.map((t: { id: string }) => t.id)).to.deep.equal([mine.tenantId]);
      expect(found.body.pagination).to.include({ total: 1, page: 1 });
      const suspended = await ops.call('GET', `/api/super-admin/tenants?status=suspended&q=${encodeURIComponent(name)}`);
      expect(suspended.body.data).to.have.length(0);
    });

    it('answers 400 for an unknown status or page size', async () => {
      expect((await ops.call('GET', '/api/super-admin/tenants?status=gone')).status).to.equal(400);
      expect((await ops.call('GET', '/api/super-admin/tenants?limit=1000')).status).to.equal(400);
    });

    itGuardsTheRealm('GET', () => '/api/super-admin/tenants');
  });

  describe('POST /api/super-admin/tenants', () => {
    const body = () => ({
      organization_name: `Provisioned ${unique()}`,
      timezone: 'Asia/Makassar',
      admin: { name: 'First Admin', email: `first-${unique()}@example.test`, password: 'rahasia-789' },
      limits: { agents: 5 },
    });

    it('creates the tenant as registration does: roles, admin who can sign in, working hours, limits', async () => {
      const b = body();
      const res = await ops.call('POST', '/api/super-admin/tenants', { body: b });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ name: b.organization_name, timezone: 'Asia/Makassar', status: 'active' });
      expect(res.body.limits).to.deep.equal({ agents: 5, channel_accounts: null, monthly_messages: null, monthly_conversations: null, monthly_ai_replies: null, storage_bytes: null });
      const login = await api('POST', '/api/auth/login', { body: { email: b.admin.email, password: b.admin.password } });
      expect(login.status).to.equal(200);
      expect(login.body.agent.id).to.equal(res.body.admin_id);
      expect(login.body.agent.role.name).to.equal('admin');
      const token = login.body.token as string;
      const roles = await api('GET', '/api/roles', { token });
      expect(roles.body.map((r: { name: string }) => r.name)).to.include.members(['admin', 'supervisor', 'agent']);
      const hours = await api('GET', '/api/working-hours', { token });
      expect(hours.status).to.equal(200);
      const log = await api('GET', '/api/activity-logs?action=tenant.provisioned', { token });
      expect(log.body.data[0].actor).to.deep.equal({ type: 'super_admin', id: ops.id, name: log.body.data[0].actor.name });
    });

    it('answers 409 for a taken slug and 400 for a bad body', async () => {
      const first = await ops.call('POST', '/api/super-admin/tenants', { body: { ...body(), slug: `toko-${unique()}` } });
      expect(first.status).to.equal(201);
      const again = await ops.call('POST', '/api/super-admin/tenants', { body: { ...body(), slug: first.body.slug } });
      expect(again.status).to.equal(409);
      expect((await ops.call('POST', '/api/super-admin/tenants', { body: { ...body(), admin: { name: 'x', email: 'bad', password: 'short' } } })).status).to.equal(400);
      expect((await ops.call('POST', '/api/super-admin/tenants', { body: { ...body(), limits: { agents: -1 } } })).status).to.equal(400);
    });

    itGuardsTheRealm('POST', () => '/api/super-admin/tenants', body);
  });

  describe('GET /api/super-admin/tenants/{id}', () => {
    it('answers the tenant', async () => {
      const res = await ops.call('GET', `/api/super-admin/tenants/${org.tenantId}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: org.tenantId, slug: org.tenantSlug, status: 'active' });
    });
    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      expect((await ops.call('GET', `/api/super-admin/tenants/${randomUUID()}`)).status).to.equal(404);
      expect((await ops.call('GET', '/api/super-admin/tenants/nope')).status).to.equal(400);
    });
    itGuardsTheRealm('GET', () => `/api/super-admin/tenants/${org.tenantId}`);
  });

  describe('PATCH /api/super-admin/tenants/{id}', () => {
    it('changes the name and plan limits, null lifting one', async () => {
      const s = await createSession();
      const res = await ops.call('PATCH', `/api/super-admin/tenants/${s.tenantId}`, { body: { name: 'Renamed Org', limits: { agents: 3, monthly_messages: 1000 } } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ name: 'Renamed Org' });
      expect(res.body.limits).to.deep.equal({ agents: 3, channel_accounts: null, monthly_messages: 1000, monthly_conversations: null, monthly_ai_replies: null, storage_bytes: null });
      const lifted = await ops.call('PATCH', `/api/super-admin/tenants/${s.tenantId}`, { body: { limits: { agents: null } } });
      expect(lifted.body.limits).to.deep.equal({ agents: null, channel_accounts: null, monthly_messages: 1000, monthly_conversations: null, monthly_ai_replies: null, storage_bytes: null });
      const log = await s.call('GET', '/api/activity-logs?action=tenant.updated');
      expect(log.body.data[0]).to.deep.include({ resource_id: s.tenantId });
      expect(log.body.data[0].actor.type).to.equal('super_admin');
    });
    it('holds the tenant to its plan’s agent limit, even for creations at the same moment', async () => {
      const s = await createSession();
      await ops.call('PATCH', `/api/super-admin/tenants/${s.tenantId}`, { body: { limits: { agents: 3 } } });
      const roleId = (await s.call('GET', '/api/roles')).body.find((r: { name: string }) => r.name === 'agent').id as string;
      const create = () => s.call('POST', '/api/agents', { body: { name: 'Agent', email: `agent-${unique()}@example.test`, password: 'rahasia-123', role_id: roleId } });
      const answers = await Promise.all([create(), create(), create()]);
      expect(answers.map((r) => r.status).sort()).to.deep.equal([201, 201, 422]);
      expect(answers.find((r) => r.status === 422)?.body.message).to.match(/plan allows 3 agents/);
      await ops.call('PATCH', `/api/super-admin/tenants/${s.tenantId}`, { body: { limits: { agents: null } } });
      expect((await create()).status).to.equal(201);
    });
    it('answers 400 for an empty or unknown change, 404 for an unknown tenant', async () => {
      expect((await ops.call('PATCH', `/api/super-admin/tenants/${org.tenantId}`, { body: {} })).status).to.equal(400);
      expect((await ops.call('PATCH', `/api/super-admin/tenants/${org.tenantId}`, { body: { slug: 'x' } })).status).to.equal(400);
      expect((await ops.call('PATCH', `/api/super-admin/tenants/${randomUUID()}`, { body: { name: 'Nobody' } })).status).to.equal(404);
    });
    itGuardsTheRealm('PATCH', () => `/api/super-admin/tenants/${org.tenantId}`, () => ({ name: 'Hijacked' }));
  });

  describe('DELETE /api/super-admin/tenants/{id} (suspend) and PATCH status (resume)', () => {
    it('within a second ends the tenant’s sockets, and its tokens and API keys answer 401; data kept; PATCH resumes', async () => {
      const s = await createSession();
      const member = await userWithPermissions(s, ['conversations.view']);
      const key = await apiKeyOf(s);
      const sockets = await Promise.all([openSocket(baseUrl(), { token: s.token }), openSocket(baseUrl(), { token: member.token }), openSocket(baseUrl(), { token: key })]);
      const suspendedAt = Date.now();
      const res = await ops.call('DELETE', `/api/super-admin/tenants/${s.tenantId}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.status).to.equal('suspended');
      for (const c of sockets) {
        await waitFor(() => c.closedAt !== null, 'the suspended tenant’s socket to close', 1000);
        expect(c.endedReason).to.match(/suspended/);
        expect((c.closedAt as number) - suspendedAt).to.be.below(1000);
      }
      for (const token of [s.token, member.token, key]) expect((await api('GET', '/api/auth/me', { token })).status).to.equal(401);
      expect((await api('POST', '/api/auth/login', { body: { email: s.email, password: s.password } })).status).to.equal(401);
      // Suspending again changes nothing.
      expect((await ops.call('DELETE', `/api/super-admin/tenants/${s.tenantId}`)).body.status).to.equal('suspended');
      const listed = await ops.call('GET', `/api/super-admin/tenants?status=suspended&q=${encodeURIComponent(s.tenantSlug)}`);
      expect(listed.body.data.map((t: { id: string }) => t.id)).to.deep.equal([s.tenantId]);

      const resumed = await ops.call('PATCH', `/api/super-admin/tenants/${s.tenantId}`, { body: { status: 'active' } });
      expect(resumed.body.status).to.equal('active');
      const me = await api('GET', '/api/auth/me', { token: s.token });
      expect(me.status).to.equal(200);
      expect((await api('GET', '/api/auth/me', { token: key })).status).to.equal(200);
      const log = await s.call('GET', '/api/activity-logs?action=tenant.suspended');
      expect(log.body.data[0]).to.deep.include({ resource_id: s.tenantId });
      expect(log.body.data[0].actor).to.include({ type: 'super_admin', id: ops.id });
    });
    it('skips its channel webhooks while suspended and takes new ones once resumed', async () => {
      const s = await createSession();
      const wa = await connectWhatsapp(s);
      const platformSecret = testServerEnv().META_APP_SECRET ?? '';
      const deliver = async (text: string) => {
        const res = await postSigned(textWebhook(wa.phoneNumberId, `628${digits(10)}`, `wamid.${unique()}`, text), platformSecret);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        return until(async () => {
          const e = await findWebhookEvent(res.body.id);
          return e && e.status !== 'pending' ? e : null;
        }, 'the delivery processed');
      };
      await ops.call('DELETE', `/api/super-admin/tenants/${s.tenantId}`);
      const skipped = await deliver('Halo, ada orang?');
      expect(skipped.status).to.equal('ignored');
      expect(skipped.note).to.match(/disabled/);
      expect(await messages.count({ tenant_id: s.tenantId })).to.equal(0);
      await ops.call('PATCH', `/api/super-admin/tenants/${s.tenantId}`, { body: { status: 'active' } });
      expect((await deliver('Halo lagi')).status).to.equal('processed');
      expect(await messages.count({ tenant_id: s.tenantId })).to.equal(1);
    });

    it('holds its outgoing webhook deliveries while suspended and sends them once resumed', async function () {
      this.timeout(20000);
      const received: { path: string; event: string }[] = [];
      const receiver = http.createServer((req, res) => {
        let raw = '';
        req.on('data', (d: Buffer) => (raw += d.toString()));
        req.on('end', () => {
          received.push({ path: req.url ?? '/', event: (JSON.parse(raw) as { event: string }).event });
          res.end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const url = (path: string) => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}${path}`;
      try {
        const held = await createSession();
        const active = await createSession();
        for (const [t, path] of [[held, '/held'], [active, '/active']] as const) {
          const hook = await t.call('POST', '/api/outgoing-webhooks', { body: { name: 'Hook', url: url(path), events: ['agent.status_changed'] } });
          expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
        }
        await ops.call('DELETE', `/api/super-admin/tenants/${held.tenantId}`);
        // An event of the suspended tenant (a job or a change in flight can still make one), then one of an active tenant.
        const principalOf = (t: TestSession): Principal => ({ tenantId: t.tenantId, userId: t.userId, userName: 'Admin', roleId: '', permissions: new Set(['agents.manage']), via: 'jwt' });
        await setAgentStatus({ tenantId: held.tenantId, principal: principalOf(held), id: held.userId, status: 'online' });
        await setAgentStatus({ tenantId: active.tenantId, principal: principalOf(active), id: active.userId, status: 'online' });
        // The active tenant's delivery arriving is the sign the sender has run; the suspended one's has not gone.
        await waitFor(() => received.some((r) => r.path === '/active'), 'the active tenant’s delivery', 10000);
        await until(async () => (await OutgoingWebhookDeliveryModel.countDocuments({ tenant_id: held.tenantId, status: 'pending' })) === 1, 'the held delivery queued');
        expect(received.filter((r) => r.path === '/held')).to.have.length(0);
        await ops.call('PATCH', `/api/super-admin/tenants/${held.tenantId}`, { body: { status: 'active' } });
        await waitFor(() => received.some((r) => r.path === '/held'), 'the resumed tenant’s delivery', 10000);
        expect(received.filter((r) => r.path === '/held').map((r) => r.event)).to.deep.equal(['agent.status_changed']);
      } finally {
        receiver.close();
      }
    });

    it('answers 404 for an unknown tenant', async () => {
      expect((await ops.call('DELETE', `/api/super-admin/tenants/${randomUUID()}`)).status).to.equal(404);
      expect((await ops.call('DELETE', '/api/super-admin/tenants/1')).status).to.equal(400);
    });
    itGuardsTheRealm('DELETE', () => `/api/super-admin/tenants/${org.tenantId}`);
  });

  describe('GET /api/super-admin/tenants/usage', () => {
    it('counts agents, channel accounts, this month’s conversations and messages (in the tenant’s zone, not UTC) and media bytes', async () => {
      const s = await createSession({ timezone: 'Pacific/Kiritimati' });
      await userWithPermissions(s, []);
      const upload = await fetch(`${baseUrl()}/api/media/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}` },
        body: (() => {
          const form = new FormData();
          form.append('file', new Blob([Buffer.from('Nomor pesanan: 123\n'.repeat(65).slice(0, 1234))], { type: 'text/plain' }), 'catatan.txt');
          return form;
        })(),
      });
      expect(upload.status).to.be.oneOf([200, 201]);
      // Two customers write: one an hour after this month began in Kiritimati (UTC+14: still last
      // month in UTC), one an hour before it began; only the first is this month's.
      const monthStart = DateTime.now().setZone('Pacific/Kiritimati').startOf('month').toSeconds();
      const wa = await connectWhatsapp(s);
      const platformSecret = testServerEnv().META_APP_SECRET ?? '';
      for (const at of [monthStart + 3600, monthStart - 3600]) {
        const raw = textWebhook(wa.phoneNumberId, `628${digits(10)}`, `wamid.${unique()}`, 'Halo', at);
        expect((await postSigned(raw, platformSecret)).status).to.equal(200);
      }
      await until(async () => (await messages.count({ tenant_id: s.tenantId })) === 2, 'both messages stored');
      const res = await ops.call('GET', `/api/super-admin/tenants/usage?q=${encodeURIComponent(s.tenantSlug)}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const [row] = res.body.data;
      expect(row.tenant.id).to.equal(s.tenantId);
      expect(row.usage).to.deep.include({ agents: 2, channel_accounts: 1, conversations_this_month: 2, messages_this_month: 1, ai_replies_this_month: 0, storage_bytes: 1234 });
      // The month starts at midnight of the first in Kiritimati (UTC+14), not in UTC.
      expect(row.usage.month.timezone).to.equal('Pacific/Kiritimati');
      expect(row.usage.month.from).to.match(/-01T00:00:00\.000\+14:00$/);
    });
    it('answers 400 for a bad filter', async () => {
      expect((await ops.call('GET', '/api/super-admin/tenants/usage?page=0')).status).to.equal(400);
    });
    itGuardsTheRealm('GET', () => '/api/super-admin/tenants/usage');
  });

  describe('tenant users', () => {
    let s: TestSession;
    let agent: TestSession;
    before(async () => {
      s = await createSession();
      agent = await userWithPermissions(s, ['conversations.view']);
    });

    describe('GET /api/super-admin/tenants/{id}/users', () => {
      it('lists the tenant’s users by name, with search', async () => {
        const res = await ops.call('GET', `/api/super-admin/tenants/${s.tenantId}/users`);
        expect(res.status).to.equal(200);
        expect(res.body.data.map((u: { id: string }) => u.id)).to.have.members([s.userId, agent.userId]);
        const found = await ops.call('GET', `/api/super-admin/tenants/${s.tenantId}/users?q=${encodeURIComponent(agent.email.slice(0, 12))}`);
        expect(found.body.data.map((u: { id: string }) => u.id)).to.deep.equal([agent.userId]);
      });
      it('answers 404 for an unknown tenant, 400 for a bad query', async () => {
        expect((await ops.call('GET', `/api/super-admin/tenants/${randomUUID()}/users`)).status).to.equal(404);
        expect((await ops.call('GET', `/api/super-admin/tenants/${s.tenantId}/users?role=x`)).status).to.equal(400);
      });
      itGuardsTheRealm('GET', () => `/api/super-admin/tenants/${s.tenantId}/users`);
    });

    describe('POST /api/super-admin/tenants/{id}/users/{userId}/reset-password', () => {
      it('sets the password and ends every session of the user, sockets included', async () => {
        const u = await userWithPermissions(s, ['conversations.view']);
        const c = await openSocket(baseUrl(), { token: u.token });
        const res = await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${u.userId}/reset-password`, { body: { password: 'brand-new-pass' } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        await waitFor(() => c.closedAt !== null, 'the user’s socket to close', 1000);
        expect((await api('GET', '/api/auth/me', { token: u.token })).status).to.equal(401);
        expect((await api('POST', '/api/auth/login', { body: { email: u.email, password: u.password } })).status).to.equal(401);
        expect((await api('POST', '/api/auth/login', { body: { email: u.email, password: 'brand-new-pass' } })).status).to.equal(200);
        const log = await s.call('GET', '/api/activity-logs?action=agent.password_reset');
        expect(log.body.data[0]).to.deep.include({ resource_id: u.userId });
        expect(JSON.stringify(log.body.data[0].details)).to.not.include('brand-new-pass');
      });
      it('answers 400 for a short password, 404 for another tenant’s user', async () => {
        expect((await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${agent.userId}/reset-password`, { body: { password: 'short' } })).status).to.equal(400);
        const res = await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${org.userId}/reset-password`, { body: { password: 'brand-new-pass' } });
        expect(res.status).to.equal(404);
      });
      itGuardsTheRealm('POST', () => `/api/super-admin/tenants/${s.tenantId}/users/${agent.userId}/reset-password`, () => ({ password: 'hijacked-pass' }));
    });

    describe('POST /api/super-admin/tenants/{id}/users/{userId}/suspend and /activate', () => {
      it('suspends (sessions end, key refused, login refused) and activates (login works again)', async () => {
        const u = await userWithPermissions(s, ['conversations.view', 'api_keys.manage']);
        const key = await apiKeyOf(u);
        const c = await openSocket(baseUrl(), { token: u.token });
        const res = await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${u.userId}/suspend`);
        expect(res.status).to.equal(200);
        expect(res.body.is_active).to.equal(false);
        await waitFor(() => c.closedAt !== null, 'the suspended user’s socket to close', 1000);
        expect((await api('GET', '/api/auth/me', { token: u.token })).status).to.equal(401);
        expect((await api('GET', '/api/auth/me', { token: key })).status).to.equal(401);
        expect((await api('POST', '/api/auth/login', { body: { email: u.email, password: u.password } })).status).to.equal(401);
        expect((await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${u.userId}/suspend`)).body.is_active).to.equal(false);
        const back = await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${u.userId}/activate`);
        expect(back.status).to.equal(200);
        expect(back.body.is_active).to.equal(true);
        expect((await api('POST', '/api/auth/login', { body: { email: u.email, password: u.password } })).status).to.equal(200);
        // Old sessions stay ended.
        expect((await api('GET', '/api/auth/me', { token: u.token })).status).to.equal(401);
      });
      it('answers 422 for a deleted user, 404 for an unknown one, 400 for a malformed id', async () => {
        const u = await userWithPermissions(s, []);
        expect((await s.call('DELETE', `/api/agents/${u.userId}`)).status).to.equal(200);
        expect((await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${u.userId}/suspend`)).status).to.equal(422);
        expect((await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${u.userId}/activate`)).status).to.equal(422);
        expect((await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${randomUUID()}/suspend`)).status).to.equal(404);
        expect((await ops.call('POST', `/api/super-admin/tenants/${randomUUID()}/users/${u.userId}/activate`)).status).to.equal(404);
        expect((await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/me/activate`)).status).to.equal(400);
      });
      itGuardsTheRealm('POST', () => `/api/super-admin/tenants/${s.tenantId}/users/${agent.userId}/suspend`);
      itGuardsTheRealm('POST', () => `/api/super-admin/tenants/${s.tenantId}/users/${agent.userId}/activate`);
    });
  });

  describe('impersonation', () => {
    let s: TestSession;
    let agent: TestSession;
    before(async () => {
      s = await createSession();
      agent = await userWithPermissions(s, ['conversations.view', 'agents.view']);
    });

    describe('POST /api/super-admin/tenants/{id}/impersonate', () => {
      it('answers a short-lived token of the tenant’s admin, marked with the super admin', async () => {
        const res = await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/impersonate`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ impersonated: true, impersonator_id: ops.id });
        expect(res.body.agent).to.include({ id: s.userId });
        expect(new Date(res.body.expires_at).getTime() - Date.now()).to.be.within(14 * 60_000, 15 * 60_000 + 5000);
        const me = await api('GET', '/api/auth/me', { token: res.body.token });
        expect(me.status).to.equal(200);
        expect(me.body).to.include({ impersonator_id: ops.id });
        expect(me.body.agent.id).to.equal(s.userId);
        // Refreshing does not extend it.
        const refreshed = await api('GET', '/api/auth/token', { token: res.body.token });
        expect(refreshed.status).to.equal(200);
        expect(new Date(refreshed.body.expires_at).getTime()).to.be.at.most(new Date(res.body.expires_at).getTime());
      });
      it('records every call made with it, reads too, in the tenant’s log with the super admin’s id', async () => {
        const { body } = await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/impersonate`);
        const token = body.token as string;
        expect((await api('GET', '/api/agents', { token })).status).to.equal(200);
        const role = await api('POST', '/api/roles', { token, body: { name: `imp-${unique()}`, permissions: ['agents.view'] } });
        expect(role.status).to.equal(201);
        const log = await s.call('GET', `/api/activity-logs?limit=100`);
        const mine = log.body.data.filter((e: { impersonator_id: string | null }) => e.impersonator_id === ops.id);
        expect(mine.map((e: { action: string; resource_id: string }) => [e.action, e.resource_id])).to.deep.include.members([
          ['impersonation.request', 'GET /api/agents'],
          ['role.created', role.body.id],
        ]);
        const started = log.body.data.find((e: { action: string }) => e.action === 'impersonation.started');
        expect(started.actor).to.include({ type: 'super_admin', id: ops.id });
      });
      it('cannot create super admins, API keys, or reveal webhook secrets', async () => {
        const { body } = await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/impersonate`);
        const token = body.token as string;
        const admin = await api('POST', '/api/super-admin/admins', { token, body: { name: 'Mole', email: `mole-${unique()}@platform.test`, password: 'mole-password' } });
        expect(admin.status).to.equal(403);
        expect((await api('POST', '/api/api-keys', { token, body: { name: 'backdoor' } })).status).to.equal(403);
        const hook = await api('POST', '/api/outgoing-webhooks', { token, body: { name: 'Mole hook', url: 'https://hooks.example.test/in', events: ['message.created'] } });
        expect(hook.status, JSON.stringify(hook.body)).to.equal(403);
        expect(JSON.stringify(hook.body)).to.not.include('whsec_');
      });
      it('answers 422 for a suspended tenant, 404 for an unknown one', async () => {
        const t = await createSession();
        await ops.call('DELETE', `/api/super-admin/tenants/${t.tenantId}`);
        expect((await ops.call('POST', `/api/super-admin/tenants/${t.tenantId}/impersonate`)).status).to.equal(422);
        expect((await ops.call('POST', `/api/super-admin/tenants/${randomUUID()}/impersonate`)).status).to.equal(404);
        expect((await ops.call('POST', '/api/super-admin/tenants/x/impersonate')).status).to.equal(400);
      });
      itGuardsTheRealm('POST', () => `/api/super-admin/tenants/${s.tenantId}/impersonate`);
    });

    describe('POST /api/super-admin/tenants/{id}/users/{userId}/impersonate', () => {
      it('answers a token acting as that user, with their permissions only', async () => {
        const res = await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${agent.userId}/impersonate`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body.agent.id).to.equal(agent.userId);
        const me = await api('GET', '/api/auth/me', { token: res.body.token });
        expect(me.body.permissions).to.have.members(['conversations.view', 'agents.view']);
        expect((await api('POST', '/api/roles', { token: res.body.token, body: { name: 'nope', permissions: [] } })).status).to.equal(403);
      });
      it('answers 422 for a suspended user, 404 for another tenant’s user', async () => {
        const u = await userWithPermissions(s, []);
        await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${u.userId}/suspend`);
        expect((await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${u.userId}/impersonate`)).status).to.equal(422);
        expect((await ops.call('POST', `/api/super-admin/tenants/${s.tenantId}/users/${org.userId}/impersonate`)).status).to.equal(404);
      });
      itGuardsTheRealm('POST', () => `/api/super-admin/tenants/${s.tenantId}/users/${agent.userId}/impersonate`);
    });
  });

  describe('GET /api/super-admin/health', () => {
    it('reports dependencies, job queue lag, listener lag, processes and their sockets', async () => {
      const c = await openSocket(baseUrl(), { token: org.token });
      try {
        // The heartbeat carries the socket count at its next beat; wait on it rather than a fixed sleep.
        let res = await ops.call('GET', '/api/super-admin/health');
        const deadline = Date.now() + 8000;
        while (res.body.sockets_total < 1 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          res = await ops.call('GET', '/api/super-admin/health');
        }
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body.status).to.equal('ok');
        expect(res.body.checks.db.status).to.equal('up');
        expect(res.body.checks.redis.status).to.equal('up');
        expect(res.body.checks.storage.status).to.equal('up');
        expect(res.body.job_queue.waiting).to.be.a('number');
        expect(res.body.job_queue.lag_seconds).to.be.at.least(0);
        expect(res.body.event_listeners.map((l: { listener: string }) => l.listener)).to.include('outgoing-webhooks');
        expect(res.body.process_count).to.be.at.least(1);
        expect(res.body.sockets_total).to.be.at.least(1);
        expect(res.body.processes[0]).to.include.keys('id', 'hostname', 'pid', 'sockets', 'last_seen_at');
      } finally {
        c.close();
      }
    });
    itGuardsTheRealm('GET', () => '/api/super-admin/health');
  });

  describe('super-admin accounts', () => {
    describe('GET /api/super-admin/admins', () => {
      it('lists accounts oldest first, without password hashes', async () => {
        const res = await ops.call('GET', '/api/super-admin/admins');
        expect(res.status).to.equal(200);
        expect(res.body.data.map((a: { id: string }) => a.id)).to.include(ops.id);
        expect(JSON.stringify(res.body)).to.not.include('password');
      });
      itGuardsTheRealm('GET', () => '/api/super-admin/admins');
    });

    describe('POST /api/super-admin/admins', () => {
      const body = () => ({ name: 'Second Ops', email: `ops2-${unique()}@platform.test`, password: 'second-pass-1' });
      it('creates an account that can sign in', async () => {
        const b = body();
        const res = await ops.call('POST', '/api/super-admin/admins', { body: b });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        expect(res.body).to.include({ email: b.email, created_by: ops.id });
        expect((await api('POST', '/api/super-admin/login', { body: { email: b.email, password: b.password } })).status).to.equal(200);
      });
      it('answers 409 for a taken e-mail (any case) and 400 for a bad body', async () => {
        const res = await ops.call('POST', '/api/super-admin/admins', { body: { ...body(), email: ops.email.toUpperCase() } });
        expect(res.status).to.equal(409);
        expect((await ops.call('POST', '/api/super-admin/admins', { body: { ...body(), password: 'short' } })).status).to.equal(400);
      });
      itGuardsTheRealm('POST', () => '/api/super-admin/admins', body);
    });

    describe('POST /api/super-admin/admins/{id}/reset-password', () => {
      it('sets the password and ends the account’s tokens', async () => {
        const other = await createOperator();
        const res = await ops.call('POST', `/api/super-admin/admins/${other.id}/reset-password`, { body: { password: 'reset-pass-22' } });
        expect(res.status).to.equal(200);
        expect((await other.call('GET', '/api/super-admin/admins')).status).to.equal(401);
        expect((await api('POST', '/api/super-admin/login', { body: { email: other.email, password: other.password } })).status).to.equal(401);
        expect((await api('POST', '/api/super-admin/login', { body: { email: other.email, password: 'reset-pass-22' } })).status).to.equal(200);
      });
      it('answers 404 for an unknown account, 400 for a short password', async () => {
        expect((await ops.call('POST', `/api/super-admin/admins/${randomUUID()}/reset-password`, { body: { password: 'reset-pass-22' } })).status).to.equal(404);
        expect((await ops.call('POST', `/api/super-admin/admins/${ops.id}/reset-password`, { body: { password: 'x' } })).status).to.equal(400);
      });
      itGuardsTheRealm('POST', () => `/api/super-admin/admins/${ops.id}/reset-password`, () => ({ password: 'hijacked-pass' }));
    });

    describe('DELETE /api/super-admin/admins/{id}', () => {
      it('deletes an account, whose token stops at once', async () => {
        const other = await createOperator();
        const res = await ops.call('DELETE', `/api/super-admin/admins/${other.id}`);
        expect(res.status).to.equal(200);
        expect((await other.call('GET', '/api/super-admin/admins')).status).to.equal(401);
        expect((await ops.call('DELETE', `/api/super-admin/admins/${other.id}`)).status).to.equal(404);
        expect((await ops.call('DELETE', '/api/super-admin/admins/x')).status).to.equal(400);
      });
      itGuardsTheRealm('DELETE', () => `/api/super-admin/admins/${ops.id}`);

      it('never deletes the last account, even when the last two are deleted at the same moment', async function () {
        this.timeout(30000);
        // Down to this test's own two accounts (earlier tests' are done with).
        const a = await createOperator();
        const b = await createOperator();
        for (const other of await listSuperAdmins()) if (other._id !== a.id && other._id !== b.id) expect(await deleteSuperAdmin(other._id)).to.equal('deleted');
        // Each deletes the other at once: one wins, the other is refused (422, or 401 once its own account is gone).
        const answers = await Promise.all([a.call('DELETE', `/api/super-admin/admins/${b.id}`), b.call('DELETE', `/api/super-admin/admins/${a.id}`)]);
        expect(answers.map((r) => r.status).filter((st) => st === 200)).to.have.length(1);
        expect(answers.map((r) => r.status).filter((st) => st !== 200)[0]).to.be.oneOf([401, 422]);
        const left = await listSuperAdmins();
        expect(left).to.have.length(1);
        const survivor = left[0]?._id === a.id ? a : b;
        const last = await survivor.call('DELETE', `/api/super-admin/admins/${survivor.id}`);
        expect(last.status).to.equal(422);
        // The same race many times at the storage level: never zero accounts.
        for (let round = 0; round < 10; round++) {
          const extra = await createSuperAdminAccount({ actor: null, name: 'Extra', email: `extra-${unique()}@platform.test`, password: 'extra-pass-1' });
          const [first, second] = await listSuperAdmins();
          const outcomes = await Promise.all([deleteSuperAdmin((first ?? extra)._id), deleteSuperAdmin((second ?? extra)._id)]);
          expect(outcomes.sort()).to.deep.equal(['deleted', 'last']);
          expect(await listSuperAdmins()).to.have.length(1);
        }
      });
    });
  });

  describe('npm run super-admin:create (the first super admin)', function () {
    this.timeout(60000);
    let redis: ChildProcess;
    let server: ServerProcess;
    const mongoUri = throwawayMongoUri('superadmin');

    /** Runs the command against this describe's database; answers its exit code and output. */
    function runCommand(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; out: string }> {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import=tsx', 'scripts/super-admin-create.ts', ...args], {
          env: { ...process.env, ...testServerEnv(), MONGODB_URI: mongoUri, LOG_LEVEL: 'silent', ...env },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.stdin.end(stdin);
        child.on('exit', (code) => resolve({ code, out }));
      });
    }

    before(async () => {
      const redisPort = await freePort();
      redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', ''], { stdio: 'ignore' });
      // Its own server with tenant login's limits, small: the super-admin login must meet the same ones.
      server = await startServerProcess({
        ...testServerEnv(),
        RATE_LIMIT_LOGIN_IP: '30/60',
        RATE_LIMIT_LOGIN_EMAIL: '3/60',
        LOG_LEVEL: 'silent',
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        MONGODB_URI: mongoUri,
      });
    });
    after(() => {
      server?.kill();
      redis?.kill('SIGKILL');
    });

    it('creates the account from --email and a password on stdin (none by default), which signs in under login’s rate limits', async () => {
      const email = `root-${unique()}@platform.test`;
      const made = await runCommand(['--email', email, '--name', 'Root'], {}, 'first-root-pass\n');
      expect(made.code, made.out).to.equal(0);
      expect(made.out).to.include(email);
      const again = await runCommand(['--email', email.toUpperCase()], { SUPER_ADMIN_PASSWORD: 'another-pass-1' });
      expect(again.code).to.equal(1);
      expect(again.out).to.match(/already exists/);
      const noPassword = await runCommand(['--email', `x-${unique()}@platform.test`], {}, '');
      expect(noPassword.code).to.equal(2);

      const login = (password: string) => api('POST', '/api/super-admin/login', { baseUrl: server.url, body: { email, password } });
      expect((await login('first-root-pass')).status).to.equal(200);
      expect((await login('wrong-guess-1')).status).to.equal(401);
      expect((await login('wrong-guess-2')).status).to.equal(401);
      const limited = await login('first-root-pass');
      expect(limited.status).to.equal(429);
      expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
    });
  });
});
