/**
 * Scheduled messages at scale: 100,000 scheduled for later (stored in bulk, the shape the API
 * stores) and 1,000 scheduled over the API to fall due in the same minute, with two server
 * processes sweeping. Reports each due message's lateness (sent, as recorded, minus due) at
 * p50/p99 and the duplicates the fake Graph API received, next to a raw baseline: driver
 * updates of the same 1,000 documents by `_id`, 16 at a time. Counts are env-configurable
 * (BENCH_SCHEDULED_FUTURE, BENCH_SCHEDULED_DUE).
 */
import { randomUUID } from 'node:crypto';
import type { FakeGraph } from '../../test/support/fake-graph.js';
import { call } from '../support/api.js';
import type { BenchContext } from '../support/context.js';
import { customerMessage, newCustomer } from '../support/context.js';
import { startServerProcess } from '../support/server-process.js';
import { ms, pct, sleep } from '../support/stats.js';

const FUTURE = Number(process.env.BENCH_SCHEDULED_FUTURE ?? 100_000);
const DUE = Number(process.env.BENCH_SCHEDULED_DUE ?? 1_000);
const CONVERSATIONS = 100;

/** Runs the measure and adds its summary row. */
export async function measureScheduled(ctx: BenchContext, graph: FakeGraph): Promise<void> {
  const { db, tenant } = ctx;
  const url = ctx.server.url;
  // Conversations of their own: one customer message each, through the signed webhook (the
  // tenant's other open conversations include the list measure's, seeded without customers).
  const keys: string[] = [];
  for (let i = 0; i < CONVERSATIONS; i++) {
    const m = customerMessage(ctx, url, newCustomer());
    keys.push(m.key);
    await m.send();
  }
  const deadline = Date.now() + 60_000;
  let convIds: string[] = [];
  while (Date.now() < deadline) {
    const stored = await db.collection('messages').find({ tenant_id: tenant.tenantId, external_id: { $in: keys } }, { projection: { conversation_id: 1 } }).toArray();
    convIds = [...new Set(stored.map((m) => String(m.conversation_id)))];
    if (convIds.length >= CONVERSATIONS) break;
    await sleep(200);
  }
  const agent = await call<{ id: string }>(url, 'GET', '/api/auth/me', undefined, tenant.token);
  // The far future: stored in bulk as the API stores them (a day ahead and later).
  const t0 = performance.now();
  const far = Date.now() + 86_400_000;
  for (let i = 0; i < FUTURE; i += 10_000) {
    const docs = Array.from({ length: Math.min(10_000, FUTURE - i) }, (_, j) => {
      const key = `bench-future-${i + j}-${randomUUID()}`;
      return {
        _id: randomUUID(),
        tenant_id: tenant.tenantId,
        conversation_id: convIds[(i + j) % convIds.length],
        created_by: agent.id,
        idempotency_key: key,
        content: { type: 'text', text: `later ${i + j}` },
        reply_to_message_id: null,
        send_at: new Date(far + (i + j) * 1000),
        time_zone: 'Asia/Jakarta',
        status: 'scheduled',
        claim_token: null,
        claimed_at: null,
        claimed_by: null,
        attempts: 0,
        message_id: null,
        failure: null,
        finished_at: null,
        cancelled_at: null,
        cancelled_by: null,
        created_at: new Date(),
        updated_at: new Date(),
      };
    });
    await db.collection('scheduled_messages').insertMany(docs as never[], { ordered: false });
  }
  console.log(`\nScheduled messages: ${FUTURE} stored for later in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const second = await startServerProcess('server-2', ctx.env);
  try {
    // The due ones, over the API, all falling due within one minute starting 40 s from now.
    const start = Date.now() + 40_000;
    const ids: string[] = [];
    const texts: string[] = [];
    for (let i = 0; i < DUE; i += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, DUE - i) }, async (_, j) => {
          const n = i + j;
          const text = `due ${n} ${randomUUID().slice(0, 8)}`;
          const at = new Date(start + Math.floor((n * 60_000) / DUE)).toISOString();
          const res = await call<{ id: string }>(n % 2 ? second.url : url, 'POST', `/api/conversations/${convIds[n % convIds.length]}/scheduled-messages`, { send_at: at, message: { type: 'text', text, idempotency_key: `bench-due-${randomUUID()}` } }, tenant.token);
          ids.push(res.id);
          texts.push(text);
        }),
      );
    }
    if (Date.now() > start) console.log('  (creating the due ones took longer than 40 s: some were due before the last was created)');
    const until = start + 60_000 + 90_000;
    let sent = 0;
    while (Date.now() < until) {
      sent = await db.collection('scheduled_messages').countDocuments({ _id: { $in: ids as never[] }, status: { $in: ['sent', 'failed'] } });
      if (sent >= ids.length) break;
      await sleep(500);
    }
    const done = await db.collection('scheduled_messages').find({ _id: { $in: ids as never[] } }).toArray();
    const lateness = done.filter((d) => d.finished_at).map((d) => (d.finished_at as Date).getTime() - (d.send_at as Date).getTime());
    const failed = done.filter((d) => d.status === 'failed').length;
    const wanted = new Set(texts);
    const counts = new Map<string, number>();
    for (const r of graph.requests) {
      const t = (r.json as { text?: { body?: string } } | null)?.text?.body;
      if (t && wanted.has(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const duplicates = [...counts.values()].reduce((a, c) => a + Math.max(0, c - 1), 0);
    const within60 = lateness.filter((l) => l <= 60_000).length;

    // Baseline: the raw driver updating the same documents by _id, 16 at a time.
    const b0 = performance.now();
    for (let i = 0; i < ids.length; i += 16) {
      await Promise.all(ids.slice(i, i + 16).map((id) => db.collection('scheduled_messages').updateOne({ _id: id as never }, { $set: { bench_touched_at: new Date() } })));
    }
    const rawMs = performance.now() - b0;

    console.log(`  ${DUE} due in one minute, 2 server processes: ${done.filter((d) => d.status === 'sent').length} sent, ${failed} failed, ${DUE - sent} unsettled; ${within60}/${DUE} within 60 s of due`);
    console.log(`  lateness p50 ${ms(pct(lateness, 0.5))}, p99 ${ms(pct(lateness, 0.99))}, max ${ms(Math.max(...lateness))}; duplicates at the provider ${duplicates}; sends at the provider ${[...counts.values()].length}`);
    console.log(`  baseline: raw driver updates of the same ${ids.length} documents by _id (16 at a time): ${ms(rawMs)} in all, ${ms(rawMs / ids.length)} each`);
    const reasons = new Map<string, number>();
    for (const d of done) if (d.status === 'failed') reasons.set(String(d.failure_reason), (reasons.get(String(d.failure_reason)) ?? 0) + 1);
    for (const [reason, n] of reasons) console.log(`  failed ${n}: ${reason}`);
    const sentCount = done.filter((d) => d.status === 'sent').length;
    ctx.rows.push({
      rank: 11,
      measure: `Scheduled messages: ${DUE} due in a minute among ${FUTURE} later, 2 processes`,
      ours: `${sentCount} sent, ${failed} failed; lateness p50 ${ms(pct(lateness, 0.5))}, p99 ${ms(pct(lateness, 0.99))}; ${duplicates} duplicates`,
      baseline: `raw updates of the ${ids.length}: ${ms(rawMs)}`,
      ratio: '—',
      goal: 'all sent within 60 s, none twice',
      met: sentCount === DUE && within60 === DUE && duplicates === 0,
    });
  } finally {
    await second.stop();
  }
}
