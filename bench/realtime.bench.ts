/**
 * Messaging benchmark (issue 4): each OmniStream figure next to its baseline, measured the
 * same way in one run on the same machine. Run with `npm run bench:realtime`.
 *
 *  1. Signed WhatsApp webhooks at increasing offered rates -> stored -> delivered to one of
 *     AGENTS agent sockets: sustained rate, next to raw single-document inserts into the same
 *     database; webhook-to-socket p50/p99, next to a bare Socket.IO server emitting to as many
 *     sockets; webhook answer p50/p99, next to a no-op Koa route under the same offered rate.
 *  2. Heap per idle agent socket, next to a bare Socket.IO server.
 *  3. Reconnect storm: STORM sockets drop and resume with their last seq while events keep
 *     coming; time until every one has caught up, and any event missed or doubled.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import mongoose from 'mongoose';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { signMetaBody } from '../channels/meta-signature.js';
import { parseConfig } from '../src/config.js';
import { startServer } from '../src/server.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 500);
const STORM = Number(process.env.BENCH_STORM ?? 2000);
const RATES = (process.env.BENCH_RATES ?? '25,50,100').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const APP_SECRET = randomBytes(16).toString('hex');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
};
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const heapMb = () => {
  global.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

const config = parseConfig({
  ...process.env,
  NODE_ENV: 'production',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  JWT_SECRET: randomBytes(32).toString('hex'),
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  META_APP_SECRET: APP_SECRET,
  REALTIME_REPLAY_LIMIT: '100000',
});
const server = await startServer(config);
const call = async (method: string, path: string, body?: unknown, token?: string) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};

// One tenant, one connected WhatsApp number.
const reg = (await call('POST', '/api/auth/register', { organization_name: 'Bench', name: 'Bench', email: `b${Date.now()}@example.test`, password: 'bench-password' })) as { token: string };
const token = reg.token;
const phoneNumberId = `1${Date.now()}`;
await call('PUT', '/api/integrations/whatsapp', {}, token);
await call('POST', '/api/integration-accounts', { channel: 'whatsapp', external_id: phoneNumberId, name: 'Bench', access_token: `EAAG${randomBytes(20).toString('hex')}` }, token);

function webhook(n: number) {
  const id = `wamid.bench.${n}.${randomBytes(4).toString('hex')}`;
  const from = `6281${String(n % 100000).padStart(8, '0')}`;
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '1', phone_number_id: phoneNumberId }, contacts: [{ profile: { name: `C${n}` }, wa_id: from }], messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: `bench ${n}` } }] } }] }],
  });
  return { id, body };
}

async function openSockets(url: string, count: number, auth: Record<string, unknown>): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, () => connect(url, { auth, transports: ['websocket'], forceNew: true, reconnection: false }));
    await Promise.all(batch.map((s) => new Promise<void>((r) => s.once('connect', () => r()))));
    sockets.push(...batch);
  }
  return sockets;
}

console.log(`OmniStream messaging benchmark — ${AGENTS} agent sockets, rates ${RATES.join('/')} msg/s for ${SECONDS} s each, one process, FerretDB + Redis on loopback\n`);

// --- 1. Throughput and latency ---------------------------------------------------------------
const heapBefore = heapMb();
const agents = await openSockets(server.url, AGENTS, { token });
const heapPerSocket = ((heapMb() - heapBefore) * 1024) / AGENTS;
const sentAt = new Map<string, number>();
const delivered: number[] = [];
// Every agent socket receives every event; one socket's arrival times stand for all.
agents[0]?.on('message.created', (p: { data: { external_id: string } }) => {
  const t = sentAt.get(p.data.external_id);
  if (t !== undefined) delivered.push(performance.now() - t);
});

const noop = new Koa().use((ctx) => {
  ctx.body = { ok: true };
});
const noopServer = http.createServer(noop.callback());
await new Promise<void>((r) => noopServer.listen(0, '127.0.0.1', r));
const noopUrl = `http://127.0.0.1:${(noopServer.address() as AddressInfo).port}/`;

async function offer(rate: number, send: (n: number) => Promise<void>) {
  const total = rate * SECONDS;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(send(n));
  }
  await Promise.all(inflight);
}

let counter = 0;
const rows: string[] = [];
for (const rate of RATES) {
  delivered.length = 0;
  const answers: number[] = [];
  const start = performance.now();
  await offer(rate, async () => {
    const { id, body } = webhook(counter++);
    const t = performance.now();
    sentAt.set(id, t);
    const res = await fetch(`${server.url}/api/webhooks/meta`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMetaBody(body, APP_SECRET) } });
    await res.arrayBuffer();
    answers.push(performance.now() - t);
  });
  const total = rate * SECONDS;
  const deadline = performance.now() + 60_000;
  while (delivered.length < total && performance.now() < deadline) await sleep(20);
  const sustained = delivered.length / ((performance.now() - start) / 1000);
  const noopAnswers: number[] = [];
  await offer(rate, async () => {
    const t = performance.now();
    const res = await fetch(noopUrl);
    await res.arrayBuffer();
    noopAnswers.push(performance.now() - t);
  });
  rows.push(
    `${String(rate).padStart(6)} ${sustained.toFixed(1).padStart(10)} ${String(delivered.length).padStart(6)}/${String(total).padEnd(6)} ` +
      `${ms(pct(delivered, 0.5)).padStart(9)} ${ms(pct(delivered, 0.99)).padStart(9)}  ${ms(pct(answers, 0.5)).padStart(8)} ${ms(pct(answers, 0.99)).padStart(8)}  ${ms(pct(noopAnswers, 0.5)).padStart(8)} ${ms(pct(noopAnswers, 0.99)).padStart(8)}`,
  );
}

// Baseline: raw single-document inserts into the same database.
const raw = mongoose.connection.db?.collection('bench_raw_inserts');
let inserts = 0;
const insertEnd = performance.now() + 3000;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (performance.now() < insertEnd) {
      await raw?.insertOne({ _id: randomBytes(12).toString('hex') as never, at: new Date(), text: 'bench' });
      inserts++;
    }
  }),
);
await raw?.drop();

// Baseline: a bare Socket.IO server emitting to as many sockets.
const bareHttp = http.createServer();
const bare = new Server(bareHttp);
await new Promise<void>((r) => bareHttp.listen(0, '127.0.0.1', r));
const bareUrl = `http://127.0.0.1:${(bareHttp.address() as AddressInfo).port}`;
const bareHeap = heapMb();
const bareSockets = await openSockets(bareUrl, AGENTS, {});
const bareHeapPerSocket = ((heapMb() - bareHeap) * 1024) / AGENTS;
const bareLatency: number[] = [];
bareSockets[0]?.on('m', (p: { t: number }) => bareLatency.push(performance.now() - p.t));
for (let i = 0; i < 200; i++) {
  bare.emit('m', { t: performance.now() });
  await sleep(5);
}
await sleep(500);

console.log('1. Inbound webhook -> stored -> agent socket');
console.log(' offered  sustained  delivered    sock p50  sock p99  answer p50 p99     no-op Koa p50 p99   (ms)');
for (const r of rows) console.log(r);
console.log(`   baseline: raw single-document inserts, same database: ${(inserts / 3).toFixed(0)} docs/s`);
console.log(`   baseline: bare Socket.IO emit to ${AGENTS} sockets: p50 ${ms(pct(bareLatency, 0.5))} ms, p99 ${ms(pct(bareLatency, 0.99))} ms`);
console.log(`\n2. Heap per idle agent socket: ${heapPerSocket.toFixed(1)} KiB (bare Socket.IO: ${bareHeapPerSocket.toFixed(1)} KiB)`);
for (const s of bareSockets) s.close();
bare.close();
for (const s of agents) s.close();

// --- 3. Reconnect storm ----------------------------------------------------------------------
const stormSockets = await openSockets(server.url, STORM, { token });
let lastSeq = 0;
stormSockets[0]?.on('message.created', (p: { seq: number }) => (lastSeq = Math.max(lastSeq, p.seq)));
const probe = webhook(counter++);
await fetch(`${server.url}/api/webhooks/meta`, { method: 'POST', body: probe.body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMetaBody(probe.body, APP_SECRET) } });
while (lastSeq === 0) await sleep(10);
const since = lastSeq + 1; // every socket has seen up to here (the conversation.updated after it)
await sleep(300);
for (const s of stormSockets) s.close();
// Events the dropped sockets miss.
const missedCount = 20;
for (let i = 0; i < missedCount; i++) {
  const { body } = webhook(counter++);
  await fetch(`${server.url}/api/webhooks/meta`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signMetaBody(body, APP_SECRET) } });
}
await sleep(2000);
const stormStart = performance.now();
let missed = 0;
let doubled = 0;
let caughtUp = 0;
const resumed: Socket[] = [];
// Domain events carry a seq; `sync.*` notices are not events.
const isEvent = (name: string, p: { seq?: number }): p is { seq: number } => !name.startsWith('sync.') && typeof p?.seq === 'number';
const expectedEvents = await (async () => {
  const probeSocket = connect(server.url, { auth: { token, since_seq: since }, transports: ['websocket'], forceNew: true, reconnection: false });
  const seqs: number[] = [];
  probeSocket.onAny((n: string, p: { seq?: number }) => isEvent(n, p) && seqs.push(p.seq));
  await new Promise((r) => probeSocket.once('sync.done', r));
  probeSocket.close();
  return seqs;
})();
for (let i = 0; i < STORM; i += 100) {
  const batch = Array.from({ length: Math.min(100, STORM - i) }, () => {
    const s = connect(server.url, { auth: { token, since_seq: since }, transports: ['websocket'], forceNew: true, reconnection: false });
    const seqs: number[] = [];
    s.onAny((n: string, p: { seq?: number }) => isEvent(n, p) && seqs.push(p.seq));
    return new Promise<void>((resolve) => {
      s.once('sync.done', () => {
        const unique = new Set(seqs);
        doubled += seqs.length - unique.size;
        missed += expectedEvents.filter((q) => !unique.has(q)).length;
        caughtUp++;
        resolve();
      });
      resumed.push(s);
    });
  });
  await Promise.all(batch);
}
const stormSeconds = (performance.now() - stormStart) / 1000;
console.log(`\n3. Reconnect storm: ${STORM} sockets resumed with since_seq, ${expectedEvents.length} events each to replay`);
console.log(`   all caught up after ${stormSeconds.toFixed(2)} s (${caughtUp}/${STORM}); events missed: ${missed}, doubled: ${doubled}`);

for (const s of resumed) s.close();
for (const s of stormSockets) s.close();
noopServer.close();
bareHttp.close();
await server.close();
process.exit(0);
