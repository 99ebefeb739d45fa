import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { parseConfig } from '../../src/config.js';
import { DURABLE_LISTENERS } from '../../src/events/listeners/index.js';
import { createApp } from '../../src/http/app.js';
import { name as webhookRecoveryJob } from '../../jobs/webhook-recovery.job.js';
import { baseUrl, fakeGraph, testServerEnv } from '../setup.js';
import { api } from '../support/http.js';
import { createSession, type TestSession } from '../support/session.js';
import { openSocket, type TestSocket } from '../support/sockets.js';
import { acceptSends, connectWhatsapp, startConversation, type StartedConversation, type WhatsappAccount } from '../support/whatsapp.js';

/** One sample of the exposition format: `name{label="value",...} number`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (comments and HELP/TYPE lines skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels` (0 when absent). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

const token = () => testServerEnv().METRICS_TOKEN as string;

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${baseUrl()}/metrics`, { headers: { authorization: `Bearer ${token()}` } });
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('GET /metrics', () => {
  it('answers 404 when no METRICS_TOKEN is configured', async () => {
    const env: Record<string, string | undefined> = { ...process.env, ...testServerEnv() };
    delete env.METRICS_TOKEN;
    const app = createApp(parseConfig(env));
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await api('GET', '/metrics', { baseUrl: url, headers: { authorization: `Bearer ${token()}` } });
      expect(res.status).to.equal(404);
      expect(res.body.code).to.equal('not_found');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers 401 without the token, with a wrong one, or with another scheme', async () => {
    const wrong = `${token().slice(0, -1)}${token().endsWith('0') ? '1' : '0'}`;
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${wrong}` }, { authorization: `Bearer ${token()}x` }, { authorization: `Basic ${token()}` }];
    for (const headers of attempts) {
      const res = await api('GET', '/metrics', { headers });
      expect(res.status, JSON.stringify(headers)).to.equal(401);
      expect(res.body.code).to.equal('unauthorized');
      expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
    }
  });

  describe('with the token', () => {
    let s: TestSession;
    let wa: WhatsappAccount;
    let conv: StartedConversation;
    let socket: TestSocket | null = null;
    let initial: Sample[];

    before(async () => {
      s = await createSession();
      wa = await connectWhatsapp(s);
      initial = await scrape();
      conv = await startConversation(s, wa, { text: 'Halo, paket saya di mana?' });
    });
    beforeEach(() => fakeGraph().reset());
    afterEach(() => expect(fakeGraph().unexpected.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]));
    after(() => socket?.close());

    it('counts requests by route template and status, webhooks, sockets and outbound sends, with bounded labels', async () => {
      const route = { method: 'GET', route: '/api/conversations/:id', status: '200' };
      const got = await s.call('GET', `/api/conversations/${conv.conversationId}`);
      expect(got.status).to.equal(200);
      const missing = await s.call('GET', `/api/no-such-route/${conv.conversationId}`);
      expect(missing.status).to.equal(404);
      socket = await openSocket(baseUrl(), { token: s.token });
      acceptSends(wa);
      const sent = await s.call('POST', `/api/conversations/${conv.conversationId}/messages`, { body: { type: 'text', text: 'Sedang dikirim', idempotency_key: `key-${randomUUID()}` } });
      expect(sent.status, JSON.stringify(sent.body)).to.equal(201);
      expect(sent.body.status).to.equal('sent');

      const scraped = await scrape();
      const grew = (name: string, labels: Record<string, string>) => valueOf(scraped, name, labels) - valueOf(initial, name, labels);
      expect(grew('omnistream_http_request_duration_seconds_count', route)).to.be.at.least(1);
      expect(valueOf(scraped, 'omnistream_http_request_duration_seconds_bucket', { ...route, le: '+Inf' })).to.equal(valueOf(scraped, 'omnistream_http_request_duration_seconds_count', route));
      expect(grew('omnistream_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).to.be.at.least(1);
      expect(grew('omnistream_http_request_duration_seconds_count', { method: 'POST', route: '/api/conversations/:id/messages', status: '201' })).to.be.at.least(1);
      expect(grew('omnistream_webhook_processing_lag_seconds_count', { channel: 'whatsapp' })).to.be.at.least(1);
      expect(grew('omnistream_outbound_sends_total', { channel: 'whatsapp', result: 'sent' })).to.equal(1);
      expect(valueOf(scraped, 'omnistream_sockets_connected', { namespace: '/' })).to.be.at.least(1);
      expect(scraped.some((x) => x.name === 'omnistream_sockets_connected' && x.labels.namespace === '/webchat')).to.equal(true);

      for (const kind of ['tenant', 'conversation', 'contact']) {
        expect(scraped.some((x) => x.name === 'omnistream_actor_mailbox_depth' && x.labels.kind === kind), kind).to.equal(true);
        expect(scraped.some((x) => x.name === 'omnistream_actor_asks_forwarded_total' && x.labels.kind === kind), kind).to.equal(true);
      }
      for (const { name } of DURABLE_LISTENERS) {
        expect(scraped.some((x) => x.name === 'omnistream_event_listener_lag_events' && x.labels.listener === name), name).to.equal(true);
      }
      const jobStates = scraped.filter((x) => x.name === 'omnistream_agenda_jobs' && x.labels.name === webhookRecoveryJob);
      expect(jobStates.map((x) => x.labels.state)).to.have.length.at.least(1);
      expect(jobStates.every((x) => ['running', 'repeating', 'failed', 'paused'].includes(x.labels.state as string))).to.equal(true);
      expect(valueOf(scraped, 'process_cpu_user_seconds_total')).to.be.greaterThan(0);
      expect(scraped.some((x) => x.name.startsWith('nodejs_eventloop_lag'))).to.equal(true);

      // No tenant, user or resource id, nor a raw path, in any label.
      const ids = [s.tenantId, s.userId, conv.conversationId, conv.contactId, wa.phoneNumberId, wa.accountId, sent.body.id as string];
      for (const sample of scraped) {
        for (const value of Object.values(sample.labels)) {
          expect(UUID.test(value), `${sample.name} ${value}`).to.equal(false);
          for (const id of ids) expect(value, sample.name).not.to.include(id);
        }
      }
    });
  });
});
