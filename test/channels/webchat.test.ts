/**
 * The website chat widget channel over real HTTP and real Socket.IO clients: a visitor socket
 * on `/webchat` (with the Origin header a browser sends) and an agent socket on the gateway.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { messages } from '../../src/models/message.js';
import { baseUrl } from '../setup.js';
import { api } from '../support/http.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { openSocket, waitFor, type TestSocket } from '../support/sockets.js';
import { until } from '../support/whatsapp.js';

const SITE = 'https://shop.example';

interface Visitor {
  token: string;
  visitorId: string;
  socket: Socket;
  history: { id: string; from: string; text: string }[];
  received: { id: string; from: string; text: string }[];
}

const enable = (s: TestSession, body: Record<string, unknown> = {}) =>
  s.call('PUT', '/api/webchat/settings', { body: { enabled: true, allowed_origins: [SITE], welcome_text: 'Halo!', brand_color: '#aa3300', ...body } });

const startSession = (tenant: string, origin: string | null, visitorToken?: string) =>
  api('POST', '/api/webchat/sessions', { body: { tenant, ...(visitorToken ? { visitor_token: visitorToken } : {}) }, headers: origin ? { origin } : {} });

/** Connects a visitor socket; resolves once its history arrived, rejects with the connect_error. */
async function connectVisitor(token: string, origin = SITE): Promise<Visitor> {
  const socket = connect(`${baseUrl()}/webchat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { origin } });
  const visitor: Visitor = { token, visitorId: '', socket, history: [], received: [] };
  socket.on('message', (m: Visitor['received'][number], ack?: (r: unknown) => void) => {
    visitor.received.push(m);
    ack?.({ ok: true });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('history', (h: { messages: Visitor['history'] }) => {
      visitor.history = h.messages;
      resolve();
    });
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.close();
      reject(err);
    });
  });
  return visitor;
}

async function newVisitor(s: TestSession, token?: string): Promise<Visitor> {
  const res = await startSession(s.tenantSlug, SITE, token);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  const visitor = await connectVisitor(res.body.visitor_token);
  visitor.visitorId = res.body.visitor_id;
  return visitor;
}

const write = (v: Visitor, text: string, clientMessageId: string = randomUUID()): Promise<any> =>
  v.socket.timeout(10_000).emitWithAck('message', { client_message_id: clientMessageId, text });

/** The conversation the visitor's message with this client id landed in. */
async function storedMessage(s: TestSession, v: Visitor, clientMessageId: string) {
  return until(async () => (await messages.find({ tenant_id: s.tenantId, external_id: `${v.visitorId}:${clientMessageId}` }))[0], `message ${clientMessageId}`);
}

describe('webchat settings (GET/PUT /api/webchat/settings)', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });

  it('answers off by default with the snippet for the tenant', async () => {
    const res = await s.call('GET', '/api/webchat/settings');
    expect(res.status).to.equal(200);
    expect(res.body.enabled).to.equal(false);
    expect(res.body.updated_at).to.equal(null);
    expect(res.body.snippet).to.equal(`<script src="${baseUrl()}/widget.js" data-tenant="${s.tenantSlug}" async></script>`);
  });

  it('enables the widget and sets up the webchat integration', async () => {
    const res = await enable(s, { allowed_origins: ['HTTPS://Shop.Example', 'http://localhost:3000'] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ enabled: true, welcome_text: 'Halo!', brand_color: '#aa3300' });
    expect(res.body.allowed_origins).to.deep.equal([SITE, 'http://localhost:3000']);
    const again = await s.call('GET', '/api/webchat/settings');
    expect(again.body.allowed_origins).to.deep.equal([SITE, 'http://localhost:3000']);
    const integration = await s.call('GET', '/api/integrations/webchat');
    expect(integration.status).to.equal(200);
    expect(integration.body.is_enabled).to.equal(true);
  });

  it('answers 400 for a bad origin, colour, or enabling without origins', async () => {
    for (const body of [
      { enabled: true, allowed_origins: ['https://shop.example/path'] },
      { enabled: true, allowed_origins: [SITE], brand_color: 'red' },
      { enabled: true, allowed_origins: [] },
      { enabled: 'yes', allowed_origins: [SITE] },
    ]) {
      const res = await s.call('PUT', '/api/webchat/settings', { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
  });

  it('answers 401 without credentials and 403 without settings.manage', async () => {
    expect((await api('GET', '/api/webchat/settings')).status).to.equal(401);
    expect((await api('PUT', '/api/webchat/settings', { body: { enabled: false } })).status).to.equal(401);
    const agent = await userWithPermissions(s, ['conversations.view']);
    expect((await agent.call('GET', '/api/webchat/settings')).status).to.equal(403);
    expect((await agent.call('PUT', '/api/webchat/settings', { body: { enabled: false } })).status).to.equal(403);
  });

  it('keeps each organization to its own settings', async () => {
    const other = await createSession();
    const res = await other.call('GET', '/api/webchat/settings');
    expect(res.body.enabled).to.equal(false);
    expect(res.body.snippet).to.contain(`data-tenant="${other.tenantSlug}"`);
    // A session for an unknown organization is a 404.
    expect((await startSession(`no-such-${randomUUID().slice(0, 8)}`, SITE)).status).to.equal(404);
  });
});

describe('webchat visitors (POST /api/webchat/sessions and the /webchat namespace)', function () {
  this.timeout(30_000);
  let s: TestSession;
  let agent: TestSocket;
  const open: Visitor[] = [];
  const track = (v: Visitor) => {
    open.push(v);
    return v;
  };

  before(async () => {
    s = await createSession();
    expect((await enable(s)).status).to.equal(200);
    agent = await openSocket(baseUrl(), { token: s.token });
  });
  after(() => {
    agent?.close();
    for (const v of open) v.socket.close();
  });

  it('answers the widget CORS preflight and the session with the greeting and working hours', async () => {
    const res = await startSession(s.tenantSlug, SITE);
    expect(res.status).to.equal(200);
    expect(res.headers.get('access-control-allow-origin')).to.equal(SITE);
    expect(res.body).to.include({ welcome_text: 'Halo!', brand_color: '#aa3300' });
    expect(res.body.working_hours.is_working_hours).to.be.a('boolean');
    const preflight = await fetch(`${baseUrl()}/api/webchat/sessions`, { method: 'OPTIONS', headers: { origin: SITE, 'access-control-request-method': 'POST' } });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers.get('access-control-allow-origin')).to.equal(SITE);
  });

  it('stores a visitor message through the pipeline and shows it to agents as message.created', async () => {
    const v = track(await newVisitor(s));
    const id = randomUUID();
    const ack = await write(v, 'Halo, apakah ada stok?', id);
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    expect(ack.message).to.include({ id, from: 'visitor', text: 'Halo, apakah ada stok?' });
    const stored = await storedMessage(s, v, id);
    expect(stored).to.include({ channel: 'webchat', direction: 'inbound', sender_type: 'contact' });
    await waitFor(() => agent.named('message.created').some((e) => e.data.id === stored._id), 'message.created on the agent socket', 10_000);
    const conversation = await s.call('GET', `/api/conversations/${stored.conversation_id}`);
    expect(conversation.status).to.equal(200);
    expect(conversation.body.channel).to.equal('webchat');
  });

  it('delivers an agent reply sent over REST live to the visitor socket and marks it delivered', async () => {
    const v = track(await newVisitor(s));
    const id = randomUUID();
    await write(v, 'Ada ukuran M?', id);
    const stored = await storedMessage(s, v, id);
    const reply = await s.call('POST', `/api/conversations/${stored.conversation_id}/messages`, { body: { type: 'text', text: 'Ada, kak!', idempotency_key: randomUUID() } });
    expect(reply.status, JSON.stringify(reply.body)).to.be.oneOf([200, 201]);
    await waitFor(() => v.received.some((m) => m.from === 'agent' && m.text === 'Ada, kak!'), 'the reply on the visitor socket', 10_000);
    await until(async () => (await messages.findOwned(s.tenantId, reply.body.id)).status === 'delivered', 'the reply marked delivered');
  });

  it('resumes the same conversation when the visitor comes back with the token', async () => {
    const first = track(await newVisitor(s));
    const id = randomUUID();
    await write(first, 'Pesanan saya belum sampai', id);
    const stored = await storedMessage(s, first, id);
    first.socket.close();
    const renewed = await startSession(s.tenantSlug, SITE, first.token);
    expect(renewed.body.visitor_id).to.equal(first.visitorId);
    const back = track(await connectVisitor(renewed.body.visitor_token));
    back.visitorId = renewed.body.visitor_id;
    expect(back.history.map((m) => m.id)).to.include(id);
    const later = randomUUID();
    await write(back, 'Halo lagi', later);
    expect((await storedMessage(s, back, later)).conversation_id).to.equal(stored.conversation_id);
  });

  it('keeps a second visitor out of the first one’s conversation', async () => {
    const first = track(await newVisitor(s));
    const id = randomUUID();
    await write(first, 'Rahasia saya', id);
    const stored = await storedMessage(s, first, id);
    const second = track(await newVisitor(s));
    expect(second.visitorId).to.not.equal(first.visitorId);
    expect(second.history).to.deep.equal([]);
    // The same client id from the second visitor is the second visitor's own message, elsewhere.
    await write(second, 'Pesan saya', id);
    const theirs = await storedMessage(s, second, id);
    expect(theirs.conversation_id).to.not.equal(stored.conversation_id);
    const reply = await s.call('POST', `/api/conversations/${stored.conversation_id}/messages`, { body: { type: 'text', text: 'Untuk pengunjung pertama', idempotency_key: randomUUID() } });
    expect(reply.status).to.be.oneOf([200, 201]);
    await waitFor(() => first.received.some((m) => m.text === 'Untuk pengunjung pertama'), 'the reply on the first visitor', 10_000);
    expect(second.received.some((m) => m.text === 'Untuk pengunjung pertama')).to.equal(false);
    // A forged token is refused.
    const forged = await connectVisitor(`${first.token.slice(0, -4)}AAAA`).catch((err: Error & { data?: { code: string } }) => err);
    expect((forged as Error & { data?: { code: string } }).data?.code).to.equal('invalid_visitor_token');
  });

  it('refuses a foreign origin and a disabled widget with clear errors', async () => {
    const foreign = await startSession(s.tenantSlug, 'https://evil.example');
    expect(foreign.status).to.equal(403);
    expect(foreign.body.code).to.equal('origin_not_allowed');
    expect((await startSession(s.tenantSlug, null)).body.code).to.equal('origin_not_allowed');
    const ok = await startSession(s.tenantSlug, SITE);
    const refused = await connectVisitor(ok.body.visitor_token, 'https://evil.example').catch((err: Error & { data?: { code: string } }) => err);
    expect((refused as Error & { data?: { code: string } }).data?.code).to.equal('origin_not_allowed');

    const off = await createSession();
    expect((await enable(off)).status).to.equal(200);
    const before = await startSession(off.tenantSlug, SITE);
    expect(before.status).to.equal(200);
    expect((await off.call('PUT', '/api/webchat/settings', { body: { enabled: false, allowed_origins: [SITE] } })).status).to.equal(200);
    const disabled = await startSession(off.tenantSlug, SITE);
    expect(disabled.status).to.equal(403);
    expect(disabled.body.code).to.equal('webchat_disabled');
    const socketRefused = await connectVisitor(before.body.visitor_token).catch((err: Error & { data?: { code: string } }) => err);
    expect((socketRefused as Error & { data?: { code: string } }).data?.code).to.equal('webchat_disabled');
  });

  it('answers too_large for a long message and rate_limited past the visitor limit', async () => {
    const v = track(await newVisitor(s));
    const big = await write(v, 'x'.repeat(2001));
    expect(big.ok).to.equal(false);
    expect(big.error.code).to.equal('too_large');
    const answers = [];
    for (let i = 0; i < 21; i++) answers.push(await write(v, `pesan ${i}`));
    expect(answers.slice(0, 20).every((a) => a.ok)).to.equal(true);
    expect(answers[20].ok).to.equal(false);
    expect(answers[20].error.code).to.equal('rate_limited');
    expect(answers[20].error.retry_after).to.be.within(1, 60);
  });

  it('stores one message for a resend with the same client message id', async () => {
    const v = track(await newVisitor(s));
    const id = randomUUID();
    const [a, b] = await Promise.all([write(v, 'Sekali saja', id), write(v, 'Sekali saja', id)]);
    expect(a.ok && b.ok).to.equal(true);
    v.socket.close();
    const again = track(await connectVisitor(v.token));
    again.visitorId = v.visitorId;
    expect((await write(again, 'Sekali saja', id)).ok).to.equal(true);
    const stored = await storedMessage(s, v, id);
    expect(await messages.count({ tenant_id: s.tenantId, conversation_id: stored.conversation_id })).to.equal(1);
  });

  it('serves widget.js and the demo page', async () => {
    const js = await fetch(`${baseUrl()}/widget.js`);
    expect(js.status).to.equal(200);
    expect(js.headers.get('content-type')).to.contain('javascript');
    expect(await js.text()).to.contain('/api/webchat/sessions');
    const cached = await fetch(`${baseUrl()}/widget.js`, { headers: { 'if-none-match': js.headers.get('etag') ?? '' } });
    expect(cached.status).to.equal(304);
    const demo = await fetch(`${baseUrl()}/demo`);
    expect(demo.status).to.equal(200);
    expect(await demo.text()).to.contain('<script src="/widget.js" data-tenant="demo"');
  });
});
