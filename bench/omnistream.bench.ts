/**
 * The OmniStream benchmark: every measure next to its baseline, measured in one run on one
 * machine, closing with a summary table (README, "Benchmark"). Run with `npm run bench`.
 *
 * The servers under test run in their own processes (bench/support/server-main.ts), the load
 * generator and its sockets here. Setup goes through the public API; webhooks are signed
 * WhatsApp Cloud API payloads; outbound sends go to a fake Graph API in this process.
 */
import os from 'node:os';
import mongoose from 'mongoose';
import { startFakeGraph, type RecordedRequest } from '../test/support/fake-graph.js';
import { measureAgenda } from './sections/agenda.js';
import { measureAi } from './sections/ai.js';
import { measureAutomation } from './sections/automation.js';
import { measureAnalytics } from './sections/analytics.js';
import { measureCampaigns } from './sections/campaigns.js';
import { measureConversationList } from './sections/conversation-list.js';
import { createCustomers, measureExistingCustomers, measureNewCustomers, measureTwoProcesses, warmUp, type Customer, type LadderResult } from './sections/inbound.js';
import { measureLatencyAndHeap } from './sections/latency.js';
import { measureOutgoingWebhooks } from './sections/outgoing-webhooks.js';
import { measureRawInserts } from './sections/raw-inserts.js';
import { measureScheduled } from './sections/scheduled.js';
import { measureSla } from './sections/sla.js';
import { measureStatuses } from './sections/statuses.js';
import { measureStorm } from './sections/storm.js';
import { measureWebchat } from './sections/webchat.js';
import { setUpTenant } from './support/api.js';
import type { BenchContext } from './support/context.js';
import { engineName, machineFacts } from './support/machine.js';
import { waitIdle, type BenchProcess } from './support/child.js';
import { serverEnvironment, startServerProcess } from './support/server-process.js';
import { readSettings, runs } from './support/settings.js';
import { perSecond } from './support/stats.js';
import { printSummary } from './support/summary.js';
import { wamid } from './support/whatsapp.js';

const { MONGODB_URI, REDIS_URL } = process.env;
if (!MONGODB_URI || !REDIS_URL) throw new Error('MONGODB_URI and REDIS_URL must be set (npm run bench starts throwaway ones)');
const settings = readSettings(process.env);
const began = performance.now();

// A fresh database per run, on the same server.
const uri = new URL(MONGODB_URI);
uri.pathname = `/omnistream_bench_${Date.now().toString(36)}`;
const client = await new mongoose.mongo.MongoClient(uri.toString()).connect();
const db = client.db();

// Meta's Graph API as a send sees it: every message accepted with a fresh wamid.
const graph = await startFakeGraph();
graph.on('POST', '/*/*/messages', (req: RecordedRequest) => {
  const body = (req.json ?? {}) as { to?: string; status?: string };
  if (body.status === 'read') return { body: { success: true } };
  return { body: { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id: wamid() }] } };
});

console.log('OmniStream benchmark');
for (const line of await machineFacts(db, REDIS_URL)) console.log(`  ${line}`);
console.log(
  `  settings: rates ${settings.rates.join('/')} msg/s x ${settings.seconds} s (drain ${settings.drainSeconds} s), ${settings.agents} agents at ${settings.latencyRate} msg/s, ` +
    `storm ${settings.storm}, ${settings.customers} returning customers, ${settings.conversations} conversations, Agenda ${settings.agendaJobs.join('/')} jobs`,
);

const rawInsertsPerSecond = await measureRawInserts(db, settings.insertSeconds);
console.log(`\nBaseline: raw single-document inserts (16 concurrent, driver, same database): ${perSecond(rawInsertsPerSecond, 'insert')} (measured again at the end)`);

// A measure that fails is reported and the others still run; each starts once the servers have
// finished the work the previous one left behind.
const failed: string[] = [];
async function attempt(section: string, measure: () => Promise<unknown>, servers: BenchProcess[] = []): Promise<void> {
  try {
    await waitIdle(servers);
    const started = performance.now();
    await measure();
    console.log(`  [${section}: ${((performance.now() - started) / 1000).toFixed(0)} s]`);
  } catch (err) {
    failed.push(section);
    console.log(`\n${section}: FAILED, ${(err as Error).stack ?? String(err)}`);
  }
}

/** Every measure that needs a server process, with its tenant set up through the API. */
async function measureServers(ctx: BenchContext): Promise<void> {
  const on = [ctx.server];
  await attempt('warm-up', () => warmUp(ctx, 40), on);
  if (runs(settings, 'latency')) await attempt('latency', () => measureLatencyAndHeap(ctx), on);
  let oneProcess: LadderResult | undefined;
  if (runs(settings, 'new')) await attempt('new', async () => (oneProcess = await measureNewCustomers(ctx)), on);
  if (runs(settings, 'existing') || runs(settings, 'statuses')) {
    let customers: Customer[] = [];
    await attempt('returning customers', async () => (customers = await createCustomers(ctx, settings.customers)), on);
    if (customers.length && runs(settings, 'existing')) await attempt('existing', () => measureExistingCustomers(ctx, customers), on);
    if (customers.length && runs(settings, 'statuses')) await attempt('statuses', () => measureStatuses(ctx, customers), on);
  }
  if (runs(settings, 'list')) await attempt('list', () => measureConversationList(ctx), on);
  if (runs(settings, 'storm')) await attempt('storm', () => measureStorm(ctx), on);
  if (runs(settings, 'two-process')) await attempt('two-process', () => measureTwoProcesses(ctx, oneProcess), on);
  if (runs(settings, 'scheduled')) await attempt('scheduled', () => measureScheduled(ctx, graph), on);
  if (runs(settings, 'campaigns')) await attempt('campaigns', () => measureCampaigns(ctx, graph), on);
  if (runs(settings, 'sla')) await attempt('sla', () => measureSla(ctx), on);
  if (runs(settings, 'outgoing-webhooks')) await attempt('outgoing-webhooks', () => measureOutgoingWebhooks(ctx), on);
  if (runs(settings, 'webchat')) await attempt('webchat', () => measureWebchat(ctx), on);
  if (runs(settings, 'analytics')) await attempt('analytics', () => measureAnalytics(ctx), on);
  if (runs(settings, 'automation')) await attempt('automation', () => measureAutomation(ctx), on);
}

const rows: BenchContext['rows'] = [];
const baseline = { rawInsertsPerSecond }; // the throughput rows read it when the summary is printed
await attempt('server', async () => {
  const env = serverEnvironment({ mongodbUri: uri.toString(), redisUrl: REDIS_URL, graphUrl: graph.url, replayLimit: 100_000 });
  const server = await startServerProcess('server-1', env);
  try {
    const ctx: BenchContext = { settings, env, db, server, tenant: await setUpTenant(server.url, (id, token) => graph.grant(id, token)), baseline, rows };
    await measureServers(ctx);
  } finally {
    await server.stop();
  }
});
await graph.close();

const insertsAtEnd = await measureRawInserts(db, settings.insertSeconds);
// Interference (the generator, other processes, a cold engine) only ever slows inserts down: the
// better of the two runs is the engine's rate.
baseline.rawInsertsPerSecond = Math.max(rawInsertsPerSecond, insertsAtEnd);
console.log(`\nBaseline again: raw single-document inserts ${perSecond(insertsAtEnd, 'insert')}; the throughput rows use the better run, ${perSecond(baseline.rawInsertsPerSecond, 'insert')}`);
if (runs(settings, 'agenda')) await attempt('agenda', () => measureAgenda({ db, settings, rows }));
// In this process: the responder's index and answers, no server or network in the way.
if (runs(settings, 'ai')) await attempt('ai', () => measureAi({ rows }));

console.log(`\nSummary: ${await engineName(db)}, ${os.cpus().length} cores, node ${process.version}, ${((performance.now() - began) / 1000).toFixed(0)} s run\n`);
printSummary(rows);
if (failed.length) console.log(`\nFailed measures (see above): ${failed.join(', ')}`);
if (!settings.keepDatabase) await db.dropDatabase();
await client.close();
process.exit(failed.length ? 1 : 0);
