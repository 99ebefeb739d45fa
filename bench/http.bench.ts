/**
 * HTTP benchmark: our endpoints next to the baselines they are built on, measured the same way
 * in one run on the same machine. Run with `npm run bench` (local throwaway services).
 *
 * Each scenario runs CONCURRENCY callers for DURATION_MS and reports requests/s, p50 and p99.
 * Baselines: a no-op Koa route (the HTTP floor) and a raw MongoDB `_id` lookup (the data floor).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import mongoose from 'mongoose';
import { parseConfig } from '../src/config.js';
import { UserModel } from '../src/models/user.js';
import { startServer } from '../src/server.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

interface Result {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

async function measure(name: string, once: () => Promise<boolean>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (!(await once())) errors++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { name, requests: latencies.length, errors, rps: latencies.length / seconds, p50: pct(0.5), p99: pct(0.99) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function get(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
  });
}

const config = parseConfig({ ...process.env, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', JWT_SECRET: 'bench-secret-bench-secret-bench-secret-1234', ENCRYPTION_KEY: 'ab'.repeat(32) });
const server = await startServer(config);

const noop = new Koa();
noop.use((ctx) => {
  ctx.body = { ok: true };
});
const noopServer = http.createServer(noop.callback());
await new Promise<void>((r) => noopServer.listen(0, '127.0.0.1', r));
const noopUrl = `http://127.0.0.1:${(noopServer.address() as AddressInfo).port}/`;

const reg = await fetch(`${server.url}/api/auth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ organization_name: 'Bench Co', name: 'Bench', email: `bench-${Date.now()}@example.test`, password: 'bench-password' }),
});
if (reg.status !== 201) throw new Error(`could not register the bench tenant: ${reg.status} ${await reg.text()}`);
const session = (await reg.json()) as { token: string; agent: { id: string }; tenant: { slug: string } };
const auth = { authorization: `Bearer ${session.token}` };

console.log(`OmniStream HTTP benchmark — ${CONCURRENCY} concurrent callers, ${DURATION_MS} ms per scenario, one process\n`);
const results: Result[] = [];
results.push(await measure('baseline: no-op Koa route', () => get(noopUrl)));
results.push(
  await measure('baseline: raw MongoDB findById (driver)', async () =>
    Boolean(await UserModel.collection.findOne({ _id: session.agent.id } as never)),
  ),
);
results.push(await measure('GET /api/health (db + redis + storage)', () => get(`${server.url}/api/health`)));
results.push(await measure('GET /api/auth/me (JWT, revocation, 3 lookups)', () => get(`${server.url}/api/auth/me`, auth)));
results.push(
  await measure('GET /api/working-hours/status (public)', () =>
    get(`${server.url}/api/working-hours/status?tenant=${session.tenant.slug}`),
  ),
);

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(`${'scenario'.padEnd(48)}${pad('req/s', 10)}${pad('p50 ms', 10)}${pad('p99 ms', 10)}${pad('errors', 8)}`);
for (const r of results) {
  console.log(`${r.name.padEnd(48)}${pad(r.rps.toFixed(0), 10)}${pad(r.p50.toFixed(2), 10)}${pad(r.p99.toFixed(2), 10)}${pad(r.errors, 8)}`);
}

agent.destroy();
noopServer.close();
await server.close();
await mongoose.disconnect().catch(() => undefined);
process.exit(0);
