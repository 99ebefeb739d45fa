/**
 * The SLA sweeper at 10,000 open conversations (BENCH_SLA_CONVERSATIONS): conversations and
 * their running SLA records stored in bulk in the shapes the inbound path and the SLA listener
 * store (natural ids included), all falling due at once; a server process with SLA_SWEEP_MS=200
 * (and the first one, on its default interval) sweeps. Reports one sweep's duration, from its
 * `now` (the time every breach it records carries) to the last record it marked, with the
 * breaches recorded, their events and any doubled event, next to the raw driver's indexed query
 * of the same records (the sweeper's filter and sort, `{ state, next_due_at, _id }`). Also the
 * time from "all due" until every record carries its breach (that includes the job's wait for
 * its next run).
 */
import { randomUUID } from 'node:crypto';
import { naturalId } from '../../src/ids.js';
import type { BenchContext } from '../support/context.js';
import { startServerProcess } from '../support/server-process.js';
import { ms, sleep } from '../support/stats.js';

const COUNT = Number(process.env.BENCH_SLA_CONVERSATIONS ?? 10_000);

/** Runs the measure and adds its summary row. */
export async function measureSla(ctx: BenchContext): Promise<void> {
  const { db, tenant } = ctx;
  const tenantId = tenant.tenantId;
  const policyId = randomUUID();
  const now = Date.now();
  const later = new Date(now + 86_400_000);
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < COUNT; i += 5_000) {
    const n = Math.min(5_000, COUNT - i);
    const convs = Array.from({ length: n }, () => {
      const id = randomUUID();
      ids.push(id);
      const at = new Date(now - 3_600_000);
      return {
        _id: id, tenant_id: tenantId, contact_id: randomUUID(), channel: 'whatsapp', account_id: null, division_id: null, assignee_id: null,
        status: 'open', tags: [], read_markers: {}, message_count: 1, unread_count: 1, note_count: 0, last_message_at: at, last_inbound_at: at,
        last_message_preview: 'Halo', closed_at: null, version: 1, outbox: [], created_at: at, updated_at: at,
      };
    });
    await db.collection('conversations').insertMany(convs as never[], { ordered: false });
    const records = convs.map((c) => ({
      _id: naturalId('sla-record', tenantId, c._id), tenant_id: tenantId, conversation_id: c._id, policy_id: policyId, policy_name: 'Bench', business_hours_only: false, division_id: null,
      started_at: c.created_at, state: 'running', pauses: [],
      first_response: { target_minutes: 30, due_at: later, met_at: null, breached_at: null }, resolution: null,
      next_due_at: later, last_seq: 0, version: 1, created_at: c.created_at, updated_at: c.created_at,
    }));
    await db.collection('sla_records').insertMany(records as never[], { ordered: false });
  }
  console.log(`\nSLA sweeper: ${COUNT} open conversations with running SLA records stored in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Baseline: the raw driver's indexed query of the same records, as the sweeper asks it.
  const records = db.collection('sla_records');
  const rawQuery = async () => {
    const q0 = performance.now();
    const found = await records.find({ state: 'running', next_due_at: { $lte: new Date(now + 2 * 86_400_000) } }).sort({ next_due_at: 1, _id: 1 }).toArray();
    return { ms: performance.now() - q0, n: found.length };
  };
  await rawQuery();
  const raw = await rawQuery();

  const sweeper = await startServerProcess('sla-sweeper', ctx.env, { SLA_SWEEP_MS: '200' });
  try {
    await sleep(1_000);
    const due = new Date(Date.now() - 1_000);
    const s0 = performance.now();
    const dueWall = Date.now();
    await records.updateMany({ tenant_id: tenantId, policy_id: policyId }, { $set: { next_due_at: due, 'first_response.due_at': due } });
    let marked = 0;
    const deadline = Date.now() + Number(process.env.BENCH_SLA_WAIT_MS ?? 300_000);
    while (Date.now() < deadline) {
      marked = await records.countDocuments({ tenant_id: tenantId, policy_id: policyId, 'first_response.breached_at': { $ne: null } });
      if (marked >= COUNT) break;
      // Each look is an unindexed count of the records: not too often, it competes with the sweep.
      await sleep(500);
    }
    const allMarkedMs = performance.now() - s0;
    const breaches = await db.collection('sla_breaches').countDocuments({ tenant_id: tenantId, policy_id: policyId });
    const events = await db.collection('events').countDocuments({ tenant_id: tenantId, event: 'sla.breached' });
    // An event is doubled when two of the log's events carry the same breach.
    const [doubledRow] = await db
      .collection('events')
      .aggregate<{ doubled: number }>([
        { $match: { tenant_id: tenantId, event: 'sla.breached' } },
        { $group: { _id: '$data.id', n: { $sum: 1 } } },
        { $group: { _id: null, doubled: { $sum: { $subtract: ['$n', 1] } } } },
      ])
      .toArray();
    const doubled = doubledRow?.doubled ?? 0;
    // One group per sweep: the breaches a sweep records carry its `now`; its last mark is its end.
    const sweeps = await records
      .aggregate<{ _id: Date; n: number; last: Date }>([
        { $match: { tenant_id: tenantId, policy_id: policyId, 'first_response.breached_at': { $ne: null } } },
        { $group: { _id: '$first_response.breached_at', n: { $sum: 1 }, last: { $max: '$updated_at' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    const first = sweeps[0];
    const sweepMs = first ? new Date(first.last).getTime() - new Date(first._id).getTime() : Number.NaN;
    const firstN = first?.n ?? 0;
    console.log(
      `  one sweep (2 server processes, one sweeping at a time): ${firstN} breaches recorded and marked in ${ms(sweepMs)} (${((firstN / sweepMs) * 1000).toFixed(0)} breaches/s); ${sweeps.length} sweep(s) recorded breaches${sweeps.length > 1 ? ` (${sweeps.map((w) => `${w.n} in ${ms(new Date(w.last).getTime() - new Date(w._id).getTime())}`).join(', ')})` : ''}`,
    );
    const startedAfter = first ? new Date(first._id).getTime() - dueWall : Number.NaN;
    console.log(`  all ${COUNT} due -> all marked: ${ms(allMarkedMs)} (the first sweep started ${ms(startedAfter)} after: the job's wait for its next run); ${marked} marked, ${breaches} breaches, ${events} sla.breached events, ${doubled} doubled`);
    console.log(`  baseline: raw indexed query of the same ${raw.n} records ({ state, next_due_at }, sorted by next_due_at, _id): ${ms(raw.ms)}`);
    ctx.rows.push({
      rank: 13,
      measure: `SLA sweeper: one sweep at ${COUNT} open conversations all due`,
      ours: `${ms(sweepMs)} to record ${firstN} breaches (${sweeps.length} sweep(s); ${events} events, ${doubled} doubled)`,
      baseline: `raw indexed query of the ${raw.n}: ${ms(raw.ms)}`,
      ratio: raw.ms > 0 && Number.isFinite(sweepMs) ? `${(sweepMs / raw.ms).toFixed(0)}x` : '—',
      goal: 'each breach once',
      met: marked === COUNT && breaches === COUNT && events === COUNT && doubled === 0,
    });
  } finally {
    await sweeper.stop();
  }
}
