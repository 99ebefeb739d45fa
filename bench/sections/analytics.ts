/**
 * Analytics at a year of a busy tenant (BENCH_ANALYTICS_MESSAGES, default 1,000,000 messages;
 * ten per conversation): every report of the Analytics group over the whole year, timed through
 * the API, next to the raw driver reading the same documents the report reads (the same
 * collections, tenant and range filters, in parallel as the report runs them): built days from
 * the day roll-ups, yesterday and today from the 15-minute ones. The first report builds the
 * days (untimed warm-up).
 *
 * The year is stored in bulk in the shapes the listeners keep (models/analytics-rollup.ts,
 * analytics-delivery.ts, sla-record.ts, csat.ts): per conversation an opening, an assignment,
 * five inbound and five outbound messages six minutes apart, and for most a resolution, each
 * counted in its 15-minute bucket under the conversation's channel, division, agent and account;
 * an SLA record per conversation, a CSAT survey for a third of the resolved ones, and WhatsApp
 * deliveries per bucket, template and failure code. The tenant is a fresh one in Asia/Jakarta.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { naturalId } from '../../src/ids.js';
import { call } from '../support/api.js';
import type { BenchContext } from '../support/context.js';
import { ms, pct } from '../support/stats.js';

const MESSAGES = Number(process.env.BENCH_ANALYTICS_MESSAGES ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_ANALYTICS_REQUESTS ?? 10);
const PER_CONVERSATION = 10;
const ZONE = 'Asia/Jakarta';
const BUCKET_MS = 15 * 60_000;
const CHANNELS = ['whatsapp', 'whatsapp', 'whatsapp', 'whatsapp', 'whatsapp', 'whatsapp', 'whatsapp', 'instagram', 'instagram', 'messenger'];
const TEMPLATES = ['order_update', 'payment_reminder', 'promo_harbolnas', null, null, null];

type Doc = Record<string, unknown> & { _id: string };

/** A deterministic generator, so every run seeds the same year. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Inserts documents 5,000 at a time. */
async function insertAll(ctx: BenchContext, collection: string, docs: Iterable<Doc>): Promise<number> {
  let batch: Doc[] = [];
  let n = 0;
  for (const doc of docs) {
    batch.push(doc);
    if (batch.length === 5_000) {
      await ctx.db.collection<Doc>(collection).insertMany(batch);
      n += batch.length;
      batch = [];
    }
  }
  if (batch.length) await ctx.db.collection<Doc>(collection).insertMany(batch);
  return n + batch.length;
}

/** Stores the year; answers the range it covers as the reports ask for it. */
async function seedYear(ctx: BenchContext, tenantId: string): Promise<{ from: string; to: string; counts: Record<string, number> }> {
  const rand = random(20261201);
  const today = DateTime.now().setZone(ZONE).startOf('day');
  const first = today.minus({ days: 364 });
  const yearStart = first.toMillis();
  const yearMs = today.plus({ days: 1 }).toMillis() - yearStart - 3 * 3_600_000; // the last conversation ends before tomorrow
  const divisions = Array.from({ length: 5 }, () => randomUUID());
  const agents = Array.from({ length: 20 }, () => randomUUID());
  const accounts = Array.from({ length: 3 }, () => randomUUID());
  const rollups = new Map<string, Doc & { counts: Record<string, number> }>();
  const deliveries = new Map<string, Doc & { counts: Record<string, number> }>();
  const views: Doc[] = [];
  const sla: Doc[] = [];
  const csat: Doc[] = [];
  const now = new Date();
  let seq = 0;

  const count = (at: number, dims: { channel: string; division_id: string | null; agent_id: string | null; account_id: string | null }, counter: string, by = 1) => {
    const bucket = new Date(Math.floor(at / BUCKET_MS) * BUCKET_MS);
    const _id = naturalId('analytics-rollup', tenantId, bucket.toISOString(), dims.channel, dims.division_id ?? '', dims.agent_id ?? '', dims.account_id ?? '');
    let doc = rollups.get(_id);
    if (!doc) rollups.set(_id, (doc = { _id, tenant_id: tenantId, bucket, ...dims, counts: {}, last_seq: 0, created_at: now, updated_at: now }));
    doc.counts[counter] = (doc.counts[counter] ?? 0) + by;
    doc.last_seq = ++seq;
  };
  const deliver = (at: number, template: string | null, status: string, failure: string | null) => {
    const bucket = new Date(Math.floor(at / BUCKET_MS) * BUCKET_MS);
    const _id = naturalId('analytics-delivery-rollup', tenantId, bucket.toISOString(), template ?? '', failure ?? '');
    let doc = deliveries.get(_id);
    if (!doc) deliveries.set(_id, (doc = { _id, tenant_id: tenantId, bucket, template, failure_code: failure, counts: {}, last_seq: 0, created_at: now, updated_at: now }));
    doc.counts[status] = (doc.counts[status] ?? 0) + 1;
    doc.last_seq = ++seq;
  };

  const conversations = Math.round(MESSAGES / PER_CONVERSATION);
  for (let i = 0; i < conversations; i++) {
    const opened = yearStart + Math.floor(rand() * yearMs);
    const channel = CHANNELS[Math.floor(rand() * CHANNELS.length)] as string;
    const division = divisions[Math.floor(rand() * divisions.length)] as string;
    const agent = agents[Math.floor(rand() * agents.length)] as string;
    const account = channel === 'whatsapp' ? (accounts[Math.floor(rand() * accounts.length)] as string) : null;
    const dims = { channel, division_id: division, agent_id: agent, account_id: account };
    const id = randomUUID();
    count(opened, dims, 'opened');
    count(opened, dims, 'assigned');
    for (let m = 0; m < PER_CONVERSATION; m++) {
      const at = opened + m * 6 * 60_000;
      const inbound = m % 2 === 0;
      count(at, dims, inbound ? 'messages_in' : 'messages_out');
      if (!inbound && channel === 'whatsapp') {
        const roll = rand();
        const status = roll < 0.03 ? 'failed' : roll < 0.6 ? 'read' : roll < 0.95 ? 'delivered' : 'sent';
        deliver(at, TEMPLATES[Math.floor(rand() * TEMPLATES.length)] ?? null, status, status === 'failed' ? (rand() < 0.5 ? '131047' : '131026') : null);
      }
    }
    const firstResponse = opened + 6 * 60_000 - Math.floor(rand() * 5 * 60_000);
    const resolvedAt = rand() < 0.85 ? opened + 60 * 60_000 + Math.floor(rand() * 60 * 60_000) : null;
    if (resolvedAt) {
      count(resolvedAt, dims, 'resolved');
      count(resolvedAt, dims, 'handled');
      count(resolvedAt, dims, 'handle_ms', resolvedAt - opened);
    }
    views.push({ _id: id, tenant_id: tenantId, ...dims, status: resolvedAt ? 'resolved' : 'open', opened_at: new Date(opened), first_response_at: new Date(firstResponse), resolved_at: resolvedAt ? new Date(resolvedAt) : null, last_seq: ++seq, created_at: now, updated_at: now });
    const clock = (minutes: number, end: number | null) => ({ target_minutes: minutes, due_at: new Date(opened + minutes * 60_000), met_at: end !== null && end <= opened + minutes * 60_000 ? new Date(end) : null, breached_at: end === null || end > opened + minutes * 60_000 ? new Date(opened + minutes * 60_000) : null });
    sla.push({
      _id: naturalId('sla-record', tenantId, id), tenant_id: tenantId, conversation_id: id, policy_id: divisions[0], policy_name: 'Standard', business_hours_only: false, division_id: division,
      started_at: new Date(opened), state: resolvedAt ? 'stopped' : 'running', pauses: [], first_response: clock(5, firstResponse), resolution: clock(90, resolvedAt),
      next_due_at: null, last_seq: ++seq, version: 1, created_at: new Date(opened), updated_at: now,
    });
    if (resolvedAt && rand() < 1 / 3) {
      const responded = rand() < 0.6;
      csat.push({
        _id: randomUUID(), tenant_id: tenantId, conversation_id: id, contact_id: randomUUID(), channel, agent_id: agent, division_id: division, trigger: 'resolved', created_by: null,
        status: responded ? 'completed' : 'sent', token_hash: randomUUID(), token_nonce: randomUUID(), expires_at: new Date(resolvedAt + 7 * 86_400_000), message_id: null, send_error: null,
        rating: responded ? 1 + Math.floor(rand() * 5) : null, comment: null, responded_at: responded ? new Date(resolvedAt + 600_000) : null, created_at: new Date(resolvedAt), updated_at: now,
      });
    }
  }
  const counts = {
    analytics_rollups: await insertAll(ctx, 'analytics_rollups', rollups.values()),
    analytics_conversations: await insertAll(ctx, 'analytics_conversations', views),
    sla_records: await insertAll(ctx, 'sla_records', sla),
    csat_surveys: await insertAll(ctx, 'csat_surveys', csat),
    analytics_delivery_rollups: await insertAll(ctx, 'analytics_delivery_rollups', deliveries.values()),
  };
  await ctx.db.collection('tenants').updateOne({ _id: tenantId } as never, { $set: { timezone: ZONE } });
  return { from: first.toISODate() as string, to: today.toISODate() as string, counts };
}

/**
 * What one report reads: a collection, the range field its indexed filter bounds, any other filter
 * fields, and which part of the range: all of it, the built days (before yesterday, local) or the
 * live rest (yesterday and today, from the 15-minute documents).
 */
type Source = { collection: string; field: string; filter?: Record<string, unknown>; part: 'all' | 'days' | 'live' };
const days = (kind: string, key?: string): Source => ({ collection: 'analytics_daily_rollups', field: 'day', filter: { zone: ZONE, kind, ...(key ? { key } : {}) }, part: 'days' });
const LIVE_ROLLUPS: Source = { collection: 'analytics_rollups', field: 'bucket', part: 'live' };
const DAY_DELIVERIES: Source = { collection: 'analytics_daily_deliveries', field: 'day', filter: { zone: ZONE }, part: 'days' };
const LIVE_DELIVERIES: Source = { collection: 'analytics_delivery_rollups', field: 'bucket', part: 'live' };
const VIEWS: Source = { collection: 'analytics_conversations', field: 'opened_at', part: 'all' };
const SLA: Source = { collection: 'sla_records', field: 'started_at', part: 'all' };
const CSAT: Source = { collection: 'csat_surveys', field: 'created_at', part: 'all' };

const REPORTS: { path: string; bucket: string; reads: Source[] }[] = [
  { path: 'overview', bucket: 'month', reads: [days('all'), LIVE_ROLLUPS, VIEWS, SLA, CSAT] },
  { path: 'trends', bucket: 'month', reads: [days('all'), LIVE_ROLLUPS] },
  { path: 'agents', bucket: 'month', reads: [days('agent_id'), LIVE_ROLLUPS, VIEWS] },
  { path: 'channels', bucket: 'month', reads: [days('channel'), LIVE_ROLLUPS] },
  { path: 'csat', bucket: 'month', reads: [CSAT] },
  { path: 'whatsapp/messages', bucket: 'month', reads: [DAY_DELIVERIES, LIVE_DELIVERIES] },
  { path: 'whatsapp/conversations', bucket: 'month', reads: [days('channel', 'whatsapp'), LIVE_ROLLUPS] },
  { path: 'whatsapp/templates', bucket: 'month', reads: [DAY_DELIVERIES, LIVE_DELIVERIES] },
];

/** Times `once` REQUESTS times in a row after two untimed calls. */
async function timed(once: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 2; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    await once();
    samples.push(performance.now() - t);
  }
  return samples;
}

/** The analytics rows. */
export async function measureAnalytics(ctx: BenchContext): Promise<void> {
  const email = `bench-analytics-${Date.now()}@example.test`;
  const session = await call<{ token: string; tenant: { id: string } }>(ctx.server.url, 'POST', '/api/auth/register', { organization_name: 'Bench Analytics', name: 'Analyst', email, password: 'bench-password' });
  const tenant = { token: session.token, tenantId: session.tenant.id };
  const t0 = performance.now();
  const { from, to, counts } = await seedYear(ctx, tenant.tenantId);
  const seeded = Object.entries(counts).map(([c, n]) => `${n} ${c}`).join(', ');
  console.log(`\nAnalytics over a year (${from} to ${to}, ${ZONE}) of a tenant with ${MESSAGES} messages, ${REQUESTS} sequential requests per report (stored in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${seeded})`);
  const start = DateTime.fromISO(from, { zone: ZONE }).toJSDate();
  const end = DateTime.fromISO(to, { zone: ZONE }).plus({ days: 1 }).toJSDate();
  const yesterday = DateTime.now().setZone(ZONE).startOf('day').minus({ days: 1 }).toJSDate();
  const range = (part: Source['part']) => ({ $gte: part === 'live' ? yesterday : start, $lt: part === 'days' ? yesterday : end });
  for (const [rank, report] of REPORTS.entries()) {
    const path = `/api/analytics/${report.path}?from=${from}&to=${to}&bucket=${report.bucket}`;
    const ours = await timed(() => call(ctx.server.url, 'GET', path, undefined, tenant.token));
    let documents = 0;
    const raw = await timed(async () => {
      const read = await Promise.all(report.reads.map((s) => ctx.db.collection(s.collection).find({ tenant_id: tenant.tenantId, ...s.filter, [s.field]: range(s.part) } as never).toArray()));
      documents = read.reduce((n, docs) => n + docs.length, 0);
    });
    const p99 = pct(ours, 0.99);
    const rawP99 = pct(raw, 0.99);
    console.log(`  GET /api/analytics/${report.path}: p50 ${ms(pct(ours, 0.5))} p99 ${ms(p99)}; raw find of the ${documents} documents it reads (${[...new Set(report.reads.map((s) => s.collection))].join(' + ')}): p50 ${ms(pct(raw, 0.5))} p99 ${ms(rawP99)}`);
    ctx.rows.push({
      rank: 40 + rank,
      measure: `analytics ${report.path}, a year at ${MESSAGES} messages, p99`,
      ours: ms(p99),
      baseline: `${ms(rawP99)} (raw find of ${documents} docs)`,
      ratio: `${(p99 / rawP99).toFixed(3)}x`,
      goal: '< 300 ms',
      met: p99 < 300,
    });
  }
}
