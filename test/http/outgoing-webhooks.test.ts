/**
 * Outgoing webhooks over real HTTP: CRUD and its 400/401/403/404/422 answers, the secret shown
 * once, and deliveries to a real local receiver (an http server in this process) of real events
 * (signed WhatsApp webhooks posted to the server): signatures, retries of the same delivery,
 * order per webhook with another webhook not held back, auto-disable and re-enable, the test
 * send, and targets the outbound guard refuses.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Model } from 'mongoose';
import { acquireLease } from '../../actors/lease.js';
import { outgoingWebhooksListener } from '../../src/events/listeners/outgoing-webhooks.js';
import { EVENTS } from '../../src/events/types.js';
import { findEventsByIds } from '../../src/models/event.js';
import { OutgoingWebhookDeliveryModel } from '../../src/models/outgoing-webhook-delivery.js';
import { OutgoingWebhookModel } from '../../src/models/outgoing-webhook.js';
import { appContext } from '../../src/context.js';
import { encryptSecret } from '../../src/crypto/secrets.js';
import { testServerEnv } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { indexesUsed } from '../support/query-plans.js';
import { api } from '../support/http.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, postSigned, startConversation, textWebhook, until, type WhatsappAccount } from '../support/whatsapp.js';

/** One request the receiver got. */
interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: { id: string; event: string; seq: number | null; tenant_id: string; created_at: string; data: any };
}

type Answer = { status: number; body?: string; headers?: Record<string, string> };

/** A local receiver: records every request per path and answers from the path's handler (200 by default). */
async function startReceiver() {
  const received: Received[] = [];
  const handlers = new Map<string, (r: Received, nth: number) => Answer | Promise<Answer>>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const r: Received = { path, headers: req.headers, raw, body: JSON.parse(raw) };
      received.push(r);
      const nth = received.filter((x) => x.path === path).length;
      void Promise.resolve((handlers.get(path) ?? ((): Answer => ({ status: 200, body: 'ok' })))(r, nth)).then((a) => {
        res.writeHead(a.status, a.headers ?? { 'content-type': 'text/plain' });
        res.end(a.body ?? '');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    on: (path: string, handler: (r: Received, nth: number) => Answer | Promise<Answer>) => handlers.set(path, handler),
    at: (path: string) => received.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Checks `x-omnistream-signature` the way a receiver should: HMAC over `<t>.<raw body>`, constant time, recent t. */
function verifySignature(r: Received, secret: string): boolean {
  const header = String(r.headers['x-omnistream-signature'] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${r.raw}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2] as string, 'hex'));
}

const suffix = () => randomUUID().slice(0, 8);

async function createWebhook(s: TestSession, body: Record<string, unknown>) {
  const res = await s.call('POST', '/api/outgoing-webhooks', { body: { name: `Hook ${suffix()}`, ...body } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { id: string; secret: string; secret_hint: string; [k: string]: unknown };
}

const getWebhook = async (s: TestSession, id: string) => {
  const res = await s.call('GET', '/api/outgoing-webhooks?limit=100');
  expect(res.status).to.equal(200);
  return (res.body.data as any[]).find((w) => w.id === id);
};

const deliveriesOf = async (s: TestSession, id: string, query = '') => {
  const res = await s.call('GET', `/api/outgoing-webhooks/${id}/deliveries?limit=100${query}`);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body.data as any[];
};

/** A customer writes one more message into an existing conversation (no wait). */
async function customerWrites(wa: WhatsappAccount, from: string, text: string) {
  const res = await postSigned(textWebhook(wa.phoneNumberId, from, `wamid.${suffix()}${suffix()}`, text), wa.appSecret);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
}

describe('Outgoing webhooks', function () {
  this.timeout(60000);
  let s: TestSession;
  let other: TestSession;
  let otherHook: string;
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver();
    s = await createSession();
    other = await createSession();
    otherHook = (await createWebhook(other, { url: receiver.url('/other'), events: ['*'], is_active: false })).id;
  });
  after(async () => receiver?.close());

  describe('POST /api/outgoing-webhooks', () => {
    it('creates a webhook and shows its secret in this answer only', async () => {
      const created = await createWebhook(s, { url: receiver.url('/created'), events: [EVENTS.messageCreated, EVENTS.messageCreated, EVENTS.conversationUpdated], description: 'CRM sync' });
      expect(created.secret).to.match(/^whsec_[A-Za-z0-9_-]{32}$/);
      expect(created).to.deep.include({
        events: [EVENTS.messageCreated, EVENTS.conversationUpdated],
        description: 'CRM sync',
        is_active: true,
        consecutive_failures: 0,
        disabled_reason: null,
        secret_hint: `whsec_…${created.secret.slice(-4)}`,
      });
      const listed = await s.call('GET', '/api/outgoing-webhooks?limit=100');
      expect(JSON.stringify(listed.body)).to.not.include(created.secret);
      const patched = await s.call('PATCH', `/api/outgoing-webhooks/${created.id}`, { body: { name: 'Renamed' } });
      expect(patched.status).to.equal(200);
      expect(patched.body).to.not.have.property('secret');
      expect(JSON.stringify(patched.body)).to.not.include(created.secret);
      // Nor is it in the activity log, which records the request bodies.
      const log = await s.call('GET', '/api/activity-logs?limit=100');
      expect(log.status).to.equal(200);
      expect(JSON.stringify(log.body)).to.include('outgoing_webhook.created').and.not.include(created.secret);
      await s.call('DELETE', `/api/outgoing-webhooks/${created.id}`);
    });

    it('takes ["*"] for every event type', async () => {
      const created = await createWebhook(s, { url: receiver.url('/all'), events: [EVENTS.noteCreated, '*'] });
      expect(created.events).to.deep.equal(['*']);
      await s.call('DELETE', `/api/outgoing-webhooks/${created.id}`);
    });

    it('answers 400 for bad input', async () => {
      for (const body of [
        {},
        { name: 'x', url: 'ftp://example.com/hook', events: ['*'] },
        { name: 'x', url: 'not a url', events: ['*'] },
        { name: 'x', url: 'https://user:pw@example.com/hook', events: ['*'] },
        { name: 'x', url: 'https://example.com/hook', events: [] },
        { name: 'x', url: 'https://example.com/hook', events: ['message.exploded'] },
        { name: '', url: 'https://example.com/hook', events: ['*'] },
        { name: 'x', url: 'https://example.com/hook', events: ['*'], secret: 'mine' },
      ]) {
        const res = await s.call('POST', '/api/outgoing-webhooks', { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
      }
      const res = await s.call('POST', '/api/outgoing-webhooks', { body: { name: 'x', url: 'ftp://example.com/hook', events: ['*'] } });
      expect(res.body.message).to.include('url');
    });

    it('answers 422 naming the url for link-local and private targets outside the allowed networks', async () => {
      for (const [url, why] of [
        ['http://169.254.169.254/latest/meta-data', 'url host is a link-local address (169.254.169.254)'],
        ['https://10.0.0.5/hook', 'url host is a private address (10.0.0.5)'],
        ['http://[::ffff:192.168.1.1]:8080/hook', 'url host is a private address (192.168.1.1)'],
      ] as const) {
        const res = await s.call('POST', '/api/outgoing-webhooks', { body: { name: 'x', url, events: ['*'] } });
        expect(res.status, url).to.equal(422);
        expect(res.body.code).to.equal('outbound_target_refused');
        expect(res.body.message).to.equal(why);
      }
    });

    it('answers 422 past 20 webhooks', async () => {
      const full = await createSession();
      for (let i = 0; i < 20; i++) await createWebhook(full, { url: receiver.url(`/full-${i}`), events: ['*'], is_active: false });
      const res = await full.call('POST', '/api/outgoing-webhooks', { body: { name: 'one too many', url: receiver.url('/full'), events: ['*'] } });
      expect(res.status).to.equal(422);
      expect(res.body.message).to.include('20');
    });

    itChecksAccess('POST', () => '/api/outgoing-webhooks', 'webhooks.manage', () => s, { body: { name: 'x', url: 'https://example.com/hook', events: ['*'] } });
  });

  describe('GET /api/outgoing-webhooks', () => {
    it('lists the tenant’s webhooks, never another tenant’s', async () => {
      const fresh = await createSession();
      const a = await createWebhook(fresh, { url: receiver.url('/a'), events: ['*'], is_active: false });
      const res = await fresh.call('GET', '/api/outgoing-webhooks');
      expect(res.status).to.equal(200);
      expect(res.body.data.map((w: { id: string }) => w.id)).to.deep.equal([a.id]);
      expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 1, total_pages: 1 });
      expect(res.body.data[0]).to.not.have.property('secret');
    });

    it('answers 400 for a bad page', async () => {
      expect((await s.call('GET', '/api/outgoing-webhooks?limit=0')).status).to.equal(400);
    });

    itChecksAccess('GET', () => '/api/outgoing-webhooks', 'webhooks.manage', () => s);
  });

  describe('GET /api/outgoing-webhooks/event-types', () => {
    it('lists every event type with a description', async () => {
      const res = await s.call('GET', '/api/outgoing-webhooks/event-types');
      expect(res.status).to.equal(200);
      expect(res.body.data.map((t: { type: string }) => t.type)).to.deep.equal(Object.values(EVENTS));
      for (const t of res.body.data) expect(t.description, t.type).to.be.a('string').and.not.equal('');
    });

    itChecksAccess('GET', () => '/api/outgoing-webhooks/event-types', 'webhooks.manage', () => s);
  });

  describe('PATCH /api/outgoing-webhooks/{id}', () => {
    it('changes the fields given and rotates the secret, shown in that answer only', async () => {
      const created = await createWebhook(s, { url: receiver.url('/patch'), events: ['*'], is_active: false });
      const res = await s.call('PATCH', `/api/outgoing-webhooks/${created.id}`, { body: { events: [EVENTS.noteCreated], url: receiver.url('/patched'), rotate_secret: true } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.include({ events: [EVENTS.noteCreated], url: receiver.url('/patched'), name: created.name });
      expect(res.body.secret).to.match(/^whsec_/).and.not.equal(created.secret);
      expect(res.body.secret_hint).to.equal(`whsec_…${res.body.secret.slice(-4)}`);
      const log = await s.call('GET', `/api/activity-logs?resource_id=${created.id}`);
      expect(JSON.stringify(log.body)).to.not.include(res.body.secret);
      expect(JSON.stringify(await getWebhook(s, created.id))).to.not.include(res.body.secret);
    });

    it('answers 400 for bad input and 422 for a refused url', async () => {
      const created = await createWebhook(s, { url: receiver.url('/patch-bad'), events: ['*'], is_active: false });
      for (const body of [{}, { events: [] }, { url: 'gopher://x' }, { is_active: 'yes' }, { secret_hint: 'x' }]) {
        const res = await s.call('PATCH', `/api/outgoing-webhooks/${created.id}`, { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
      }
      expect((await s.call('PATCH', '/api/outgoing-webhooks/not-a-uuid', { body: { name: 'x' } })).status).to.equal(400);
      const refused = await s.call('PATCH', `/api/outgoing-webhooks/${created.id}`, { body: { url: 'http://169.254.169.254/' } });
      expect(refused.status).to.equal(422);
      expect(refused.body.message).to.equal('url host is a link-local address (169.254.169.254)');
    });

    it('answers 404 for another tenant’s webhook, and leaves it unchanged', async () => {
      const res = await s.call('PATCH', `/api/outgoing-webhooks/${otherHook}`, { body: { name: 'Mine now' } });
      expect(res.status).to.equal(404);
      expect((await getWebhook(other, otherHook)).name).to.not.equal('Mine now');
    });

    itChecksAccess('PATCH', () => `/api/outgoing-webhooks/${otherHook}`, 'webhooks.manage', () => s, { body: { name: 'x' } });
  });

  describe('DELETE /api/outgoing-webhooks/{id}', () => {
    it('deletes a webhook; a second delete is a 404', async () => {
      const created = await createWebhook(s, { url: receiver.url('/delete'), events: ['*'], is_active: false });
      const res = await s.call('DELETE', `/api/outgoing-webhooks/${created.id}`);
      expect(res.status).to.equal(200);
      expect(res.body.message).to.include(created.name);
      expect((await s.call('DELETE', `/api/outgoing-webhooks/${created.id}`)).status).to.equal(404);
      expect((await s.call('DELETE', '/api/outgoing-webhooks/nope')).status).to.equal(400);
    });

    it('answers 404 for another tenant’s webhook', async () => {
      expect((await s.call('DELETE', `/api/outgoing-webhooks/${otherHook}`)).status).to.equal(404);
      expect(await getWebhook(other, otherHook)).to.not.equal(undefined);
    });

    itChecksAccess('DELETE', () => `/api/outgoing-webhooks/${otherHook}`, 'webhooks.manage', () => s);
  });

  describe('GET /api/outgoing-webhooks/{id}/deliveries', () => {
    it('answers 404 for another tenant’s webhook and 400 for a bad status', async () => {
      expect((await s.call('GET', `/api/outgoing-webhooks/${otherHook}/deliveries`)).status).to.equal(404);
      const mine = await createWebhook(s, { url: receiver.url('/deliveries'), events: ['*'], is_active: false });
      expect((await s.call('GET', `/api/outgoing-webhooks/${mine.id}/deliveries?status=lost`)).status).to.equal(400);
    });

    it('forgets settled deliveries past OUTGOING_WEBHOOK_RETENTION_DAYS (30), keeping pending ones', async () => {
      const mine = await createWebhook(s, { url: receiver.url('/retention'), events: ['*'], is_active: false });
      const old = new Date(Date.now() - 31 * 86_400_000);
      const doc = (seq: number, status: string, at: Date) => ({
        _id: randomUUID(), tenant_id: s.tenantId, webhook_id: mine.id, seq, event_id: randomUUID(), event: EVENTS.noteCreated, test: false,
        status, attempts: [], attempt_count: 1, next_attempt_at: null, delivered_at: null, created_at: at, updated_at: at,
      });
      const docs = [doc(1, 'delivered', old), doc(2, 'failed', old), doc(3, 'pending', old), doc(4, 'delivered', new Date())];
      await OutgoingWebhookDeliveryModel.collection.insertMany(docs as never[]);
      const left = await until(async () => {
        const list = await deliveriesOf(s, mine.id);
        return list.length === 2 ? list : null;
      }, 'the sweep pruning the old settled ones');
      expect(left.map((d) => d.seq).sort()).to.deep.equal([3, 4]);
    });

    itChecksAccess('GET', () => `/api/outgoing-webhooks/${otherHook}/deliveries`, 'webhooks.manage', () => s);
  });

  describe('POST /api/outgoing-webhooks/{id}/test', () => {
    it('sends a signed webhook.test event now and records it as a test delivery', async () => {
      const created = await createWebhook(s, { url: receiver.url('/test-ok'), events: [EVENTS.noteCreated], is_active: false });
      receiver.on('/test-ok', () => ({ status: 200, body: 'thanks' }));
      const res = await s.call('POST', `/api/outgoing-webhooks/${created.id}/test`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.include({ ok: true, status_code: 200, response_body: 'thanks', error: null });
      const [got] = receiver.at('/test-ok');
      expect(got?.body).to.deep.include({ id: res.body.delivery_id, event: 'webhook.test', seq: null, tenant_id: s.tenantId });
      expect(got?.headers['x-omnistream-event']).to.equal('webhook.test');
      expect(got?.headers['x-omnistream-delivery']).to.equal(res.body.delivery_id);
      expect(got?.headers['user-agent']).to.equal('OmniStream-Webhooks/1');
      expect(verifySignature(got as Received, created.secret)).to.equal(true);
      const [recorded] = await deliveriesOf(s, created.id);
      expect(recorded).to.deep.include({ id: res.body.delivery_id, test: true, status: 'delivered', attempt_count: 1, event: 'webhook.test' });
      expect(recorded.attempts[0]).to.deep.include({ status_code: 200, error: null, response_body: 'thanks' });
    });

    it('answers what a refusing receiver said, its body cut at 1,024 characters, without counting it against the webhook', async () => {
      const created = await createWebhook(s, { url: receiver.url('/test-404'), events: [EVENTS.noteCreated] });
      receiver.on('/test-404', () => ({ status: 404, body: 'x'.repeat(5000) }));
      const res = await s.call('POST', `/api/outgoing-webhooks/${created.id}/test`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ ok: false, status_code: 404, error: 'HTTP 404' });
      expect(res.body.response_body).to.have.length(1024);
      expect(await getWebhook(s, created.id)).to.deep.include({ consecutive_failures: 0, is_active: true });
      await s.call('DELETE', `/api/outgoing-webhooks/${created.id}`);
    });

    it('answers 404 for another tenant’s webhook, sending nothing', async () => {
      expect((await s.call('POST', `/api/outgoing-webhooks/${otherHook}/test`)).status).to.equal(404);
      expect(receiver.at('/other')).to.have.length(0);
    });

    itChecksAccess('POST', () => `/api/outgoing-webhooks/${otherHook}/test`, 'webhooks.manage', () => s);
  });

  describe('delivering events', () => {
    let t: TestSession;
    let wa: WhatsappAccount;

    before(async () => {
      t = await createSession();
      wa = await connectWhatsapp(t);
    });

    it('POSTs a real event, signed, with its seq and delivery id, and records the attempt', async () => {
      const real = `/real-${suffix()}`;
      const hook = await createWebhook(t, { url: receiver.url(real), events: [EVENTS.messageCreated] });
      const { from, wamid } = await startConversation(t, wa, { text: 'Paket saya belum sampai' });
      const [got] = await until(async () => (receiver.at(real).length > 0 ? receiver.at(real) : null), 'the delivery');
      const r = got as Received;
      expect(verifySignature(r, hook.secret)).to.equal(true);
      expect(r.headers['content-type']).to.equal('application/json');
      expect(r.headers['x-omnistream-event']).to.equal(EVENTS.messageCreated);
      expect(r.headers['x-omnistream-delivery']).to.equal(r.body.id);
      expect(r.body).to.include({ event: EVENTS.messageCreated, tenant_id: t.tenantId });
      expect(r.body.seq).to.be.a('number');
      expect(r.body.data.external_id).to.equal(wamid);
      expect(JSON.stringify(r.body.data)).to.include('Paket saya belum sampai');
      // A forged or stale signature does not verify.
      expect(verifySignature({ ...r, raw: r.raw.replace('belum', 'sudah') }, hook.secret)).to.equal(false);
      const delivered = await until(async () => (await deliveriesOf(t, hook.id)).find((d) => d.status === 'delivered'), 'the delivery recorded');
      expect(delivered).to.deep.include({ id: r.body.id, seq: r.body.seq, event: EVENTS.messageCreated, test: false, attempt_count: 1 });
      expect(delivered.attempts[0]).to.deep.include({ status_code: 200, error: null });
      expect((await getWebhook(t, hook.id)).last_success_at).to.be.a('string');
      // The listener handling the same event again (an at-least-once replay) queues nothing new.
      const [event] = await findEventsByIds(t.tenantId, [delivered.event_id]);
      await outgoingWebhooksListener.handle(event as NonNullable<typeof event>);
      await outgoingWebhooksListener.handle(event as NonNullable<typeof event>);
      expect((await deliveriesOf(t, hook.id)).filter((d) => d.seq === r.body.seq)).to.have.length(1);
      // Only its subscribed type: the conversation's other events were not sent.
      await customerWrites(wa, from, 'Halo lagi');
      await until(async () => receiver.at(real).length === 2, 'the second message');
      expect(receiver.at(real).every((x) => x.body.event === EVENTS.messageCreated)).to.equal(true);
      await t.call('DELETE', `/api/outgoing-webhooks/${hook.id}`);
    });

    it('retries a failing delivery with the same id and holds that webhook’s later deliveries back, not another webhook’s', async () => {
      const flakyPath = `/flaky-${suffix()}`;
      const steadyPath = `/steady-${suffix()}`;
      const slow = await createWebhook(t, { url: receiver.url(flakyPath), events: [EVENTS.messageCreated] });
      const steady = await createWebhook(t, { url: receiver.url(steadyPath), events: [EVENTS.messageCreated] });
      let release!: () => void;
      const steadyHasAll = new Promise<void>((resolve) => (release = resolve));
      // 500 twice; the third attempt answers 200 once the other webhook has every message.
      receiver.on(flakyPath, async (_r, nth) => {
        if (nth <= 2) return { status: 500, body: `boom ${nth}` };
        await steadyHasAll;
        return { status: 200 };
      });
      // What the flaky webhook had received when the steady one got its third delivery.
      let flakyIdsThen: Set<string> | null = null;
      receiver.on(steadyPath, (_r, nth) => {
        if (nth === 3) {
          flakyIdsThen = new Set(receiver.at(flakyPath).map((r) => r.body.id));
          release();
        }
        return { status: 200 };
      });
      const { from } = await startConversation(t, wa, { text: 'one' });
      await until(async () => receiver.at(flakyPath).length >= 1, 'the first attempt');
      await customerWrites(wa, from, 'two');
      await customerWrites(wa, from, 'three');
      await until(async () => receiver.at(steadyPath).length === 3, 'the steady webhook’s three deliveries', 20000);
      // Meanwhile the flaky one had got only its first delivery, again.
      expect(flakyIdsThen).to.have.property('size', 1);
      await until(async () => receiver.at(flakyPath).length === 5, 'the flaky webhook’s retries and the two held back', 20000);
      const flaky = receiver.at(flakyPath);
      const ids = flaky.map((r) => r.body.id);
      expect(ids[0]).to.equal(ids[1]).and.equal(ids[2]);
      expect(new Set(ids).size).to.equal(3);
      const seqs = flaky.map((r) => r.body.seq);
      expect(seqs).to.deep.equal([...seqs].sort((a, b) => (a as number) - (b as number)));
      // The same three events, in the same seq order, on both.
      const steadySeqs = receiver.at(steadyPath).map((r) => r.body.seq);
      expect(steadySeqs).to.deep.equal([...steadySeqs].sort((a, b) => (a as number) - (b as number)));
      expect([...new Set(seqs)]).to.deep.equal(steadySeqs);
      const first = (await deliveriesOf(t, slow.id)).find((d) => d.id === ids[0]);
      expect(first).to.deep.include({ status: 'delivered', attempt_count: 3 });
      expect(first.attempts.map((a: { status_code: number }) => a.status_code)).to.deep.equal([500, 500, 200]);
      expect(first.attempts[0]).to.deep.include({ error: 'HTTP 500', response_body: 'boom 1' });
      expect(await getWebhook(t, slow.id)).to.deep.include({ is_active: true, consecutive_failures: 0 });
      await t.call('DELETE', `/api/outgoing-webhooks/${slow.id}`);
      await t.call('DELETE', `/api/outgoing-webhooks/${steady.id}`);
    });

    it('disables a persistently failing webhook with the last error, keeps the later deliveries pending, and sends them when enabled again', async () => {
      const downPath = `/down-${suffix()}`;
      const hook = await createWebhook(t, { url: receiver.url(downPath), events: [EVENTS.messageCreated] });
      let up = false;
      receiver.on(downPath, () => (up ? { status: 200 } : { status: 503, body: 'maintenance' }));
      const { from } = await startConversation(t, wa, { text: 'first' });
      await customerWrites(wa, from, 'second');
      const disabled = await until(async () => {
        const w = await getWebhook(t, hook.id);
        return w.is_active ? null : w;
      }, 'the webhook disabled', 20000);
      expect(disabled.disabled_reason).to.include('failed after 4 attempts').and.include('HTTP 503');
      expect(disabled.disabled_at).to.be.a('string');
      expect(disabled.consecutive_failures).to.equal(4);
      const down = receiver.at(downPath);
      expect(down).to.have.length(4);
      expect(new Set(down.map((r) => r.body.id)).size).to.equal(1);
      const [failed] = await deliveriesOf(t, hook.id, '&status=failed');
      expect(failed).to.deep.include({ id: down[0]?.body.id, attempt_count: 4, next_attempt_at: null });
      const pending = await until(async () => (await deliveriesOf(t, hook.id, '&status=pending'))[0], 'the second message pending');
      // Enabling it again clears the reason and the count, and sends what waited.
      up = true;
      const enabled = await t.call('PATCH', `/api/outgoing-webhooks/${hook.id}`, { body: { is_active: true } });
      expect(enabled.status).to.equal(200);
      expect(enabled.body).to.deep.include({ is_active: true, disabled_reason: null, disabled_at: null, consecutive_failures: 0 });
      await until(async () => receiver.at(downPath).length === 5, 'the held delivery sent');
      expect(receiver.at(downPath)[4]?.body.id).to.equal(pending.id);
      await until(async () => (await deliveriesOf(t, hook.id, '&status=delivered')).length === 1, 'it recorded delivered');
      await t.call('DELETE', `/api/outgoing-webhooks/${hook.id}`);
    });

    it('sends what a sender that died left: the sweep wakes the webhook once its lease lapses', async () => {
      const lostPath = `/lost-${suffix()}`;
      const hook = await createWebhook(t, { url: receiver.url(lostPath), events: [EVENTS.messageCreated] });
      // A process that took the webhook's lease and died: the wake of the queued delivery finds it held.
      const dead = await acquireLease(appContext().redis, 'outgoing-webhook', hook.id, `dead-${suffix()}`, 1500);
      const heldUntil = Date.now() + 1500;
      expect(dead.acquired).to.equal(true);
      await startConversation(t, wa, { text: 'while the sender was gone' });
      const [got] = await until(async () => (receiver.at(lostPath).length > 0 ? receiver.at(lostPath) : null), 'the delivery sent after the lease lapsed');
      const delivered = await until(async () => (await deliveriesOf(t, hook.id, '&status=delivered'))[0], 'the delivery recorded');
      expect(got?.body.id).to.equal(delivered.id);
      // Nothing went while the dead process's lease stood.
      expect(Date.parse(delivered.attempts[0].at)).to.be.at.least(heldUntil - 50);
      expect(delivered.attempt_count).to.equal(1);
      await t.call('DELETE', `/api/outgoing-webhooks/${hook.id}`);
    });

    it('disables a webhook whose secret no longer decrypts (ENCRYPTION_KEY changed), and its test send answers 422', async () => {
      const keyPath = `/key-${suffix()}`;
      const hook = await createWebhook(t, { url: receiver.url(keyPath), events: [EVENTS.messageCreated] });
      // As stored by a server with another ENCRYPTION_KEY.
      const foreign = encryptSecret(hook.secret, { key: randomBytes(32), context: `outgoing-webhook:${hook.id}:secret` });
      await OutgoingWebhookModel.updateOne({ _id: hook.id }, { $set: { secret_encrypted: foreign } }).exec();
      const test = await t.call('POST', `/api/outgoing-webhooks/${hook.id}/test`);
      expect(test.status).to.equal(422);
      expect(test.body.message).to.include('rotate');
      await startConversation(t, wa, { text: 'unsigned?' });
      const disabled = await until(async () => {
        const w = await getWebhook(t, hook.id);
        return w.is_active ? null : w;
      }, 'the webhook disabled');
      expect(disabled.disabled_reason).to.include('cannot be decrypted');
      expect(receiver.at(keyPath)).to.have.length(0);
      // A new secret and enabling it again: the waiting delivery goes, signed with the new secret.
      const rotated = await t.call('PATCH', `/api/outgoing-webhooks/${hook.id}`, { body: { rotate_secret: true, is_active: true } });
      expect(rotated.status).to.equal(200);
      const [got] = await until(async () => (receiver.at(keyPath).length > 0 ? receiver.at(keyPath) : null), 'the delivery after the rotation');
      expect(verifySignature(got as Received, rotated.body.secret)).to.equal(true);
      await t.call('DELETE', `/api/outgoing-webhooks/${hook.id}`);
    });

    it('fails a delivery the receiver refuses (4xx) at once and goes on with the next', async () => {
      const picky = `/picky-${suffix()}`;
      const hook = await createWebhook(t, { url: receiver.url(picky), events: [EVENTS.messageCreated] });
      receiver.on(picky, (_r, nth) => (nth === 1 ? { status: 400, body: 'bad payload' } : { status: 204 }));
      const { from } = await startConversation(t, wa, { text: 'refused' });
      await customerWrites(wa, from, 'accepted');
      await until(async () => receiver.at(picky).length === 2, 'both sent once');
      const list = await until(async () => {
        const d = await deliveriesOf(t, hook.id);
        return d.length === 2 && d.every((x) => x.status !== 'pending') ? d : null;
      }, 'both settled');
      expect(list.map((d) => [d.status, d.attempt_count])).to.have.deep.members([
        ['failed', 1],
        ['delivered', 1],
      ]);
      expect(await getWebhook(t, hook.id)).to.deep.include({ is_active: true, consecutive_failures: 0 });
      await t.call('DELETE', `/api/outgoing-webhooks/${hook.id}`);
    });
  });

  describe('query plans', () => {
    const deliveries = OutgoingWebhookDeliveryModel as unknown as Model<never>;
    const webhooks = OutgoingWebhookModel as unknown as Model<never>;

    it('answers the sender’s, the list’s and the sweep’s queries from indexes', async () => {
      const id = randomUUID();
      expect(await indexesUsed(deliveries, { webhook_id: id, status: 'pending' }, { seq: 1 })).to.deep.equal(['webhook_id_1_status_1_seq_1']);
      expect(await indexesUsed(deliveries, { tenant_id: s.tenantId, webhook_id: id }, { created_at: -1, _id: -1 })).to.have.length.greaterThan(0);
      expect(await indexesUsed(deliveries, { tenant_id: s.tenantId, webhook_id: id, status: 'failed' }, { created_at: -1, _id: -1 })).to.have.length.greaterThan(0);
      expect(await indexesUsed(webhooks, { is_active: true, next_attempt_at: { $lte: new Date() } }, { next_attempt_at: 1 })).to.deep.equal(['is_active_1_next_attempt_at_1']);
      expect(await indexesUsed(webhooks, { tenant_id: s.tenantId, is_active: true }, { created_at: 1, _id: 1 })).to.have.length.greaterThan(0);
    });
  });

  describe('targets under the production default (a second server process allowing no private network)', () => {
    let prod: ServerProcess;
    before(async function () {
      this.timeout(60000);
      const { OUTBOUND_ALLOWED_NETWORKS: _allowed, ...env } = testServerEnv();
      prod = await startServerProcess({ ...env, OUTBOUND_ALLOWED_NETWORKS: '' });
    });
    after(() => prod?.kill());

    it('answers 422 for loopback URLs when saved, and refuses at send time one saved where loopback was allowed', async () => {
      const u = await createSession();
      for (const [host, why] of [
        ['127.0.0.1', 'is a loopback address (127.0.0.1)'],
        ['localhost', 'resolves to a loopback address (127.0.0.1)'],
        ['2130706433', 'is a loopback address (127.0.0.1)'],
      ] as const) {
        const res = await api('POST', '/api/outgoing-webhooks', { baseUrl: prod.url, token: u.token, body: { name: 'x', url: `http://${host}:${receiver.port}/prod`, events: ['*'] } });
        expect(res.status, host).to.equal(422);
        expect(res.body.message).to.equal(`url host ${why}`);
      }
      // Saved on the run's server, which allows 127.0.0.1/32; the other process refuses to connect.
      const hook = await createWebhook(u, { url: receiver.url('/prod'), events: [EVENTS.noteCreated], is_active: false });
      const res = await api('POST', `/api/outgoing-webhooks/${hook.id}/test`, { baseUrl: prod.url, token: u.token });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ ok: false, status_code: null });
      expect(res.body.error).to.include('EOUTBOUNDREFUSED').and.include('loopback');
      expect(receiver.at('/prod')).to.have.length(0);
    });
  });
});
