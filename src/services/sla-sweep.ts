/**
 * The SLA sweeper, body of the periodic job (jobs/sla-check.job.ts): one indexed query for the
 * running records whose earliest open clock is due (`{ state, next_due_at }`), then for each one
 * a breach claim per due target (sla-breach.ts: exactly once however many sweepers run) and
 * the mark on the record. A job per conversation would be thousands of Agenda jobs, the
 * embedded engine's weak spot (ARCHITECTURE, "Storage engine facts"); this is one.
 */
import { logger } from '../logger.js';
import { dueSlaRecords, SLA_TARGETS, type SlaRecord, type SlaTarget } from '../models/sla-record.js';
import { recordBreach } from './sla-breach.js';
import { markBreaches } from './sla-clock.js';

/** How one sweep works; every field has a default. */
export interface SweepOptions {
  /** The time the sweep judges "due" at (tests inject it). */
  now?: Date;
  /** Records read per batch. */
  batchSize?: number;
  /** Records worked on at once. */
  parallel?: number;
  /** A sweep starts no new batch after this long, so the job lets go of its lock regularly. */
  budgetMs?: number;
}

/** What one sweep did. */
export interface SweepReport {
  /** Due records looked at. */
  checked: number;
  /** Breaches this sweep recorded or found recorded (each only ever recorded once). */
  breaches: number;
}

/** Records the due targets of one record and marks them; answers how many. */
async function breachDue(r: SlaRecord, now: Date): Promise<number> {
  const marks: Partial<Record<SlaTarget, Date>> = {};
  for (const target of SLA_TARGETS) {
    const clock = r[target];
    if (!clock || clock.met_at || clock.breached_at || !clock.due_at || new Date(clock.due_at) > now) continue;
    marks[target] = (await recordBreach(r, target, now)).breached_at;
  }
  if (r.policy_id) await markBreaches(r._id, r.policy_id, marks);
  return Object.keys(marks).length;
}

/** One sweep over every tenant's due SLA clocks. */
export async function sweepSla(opts: SweepOptions = {}): Promise<SweepReport> {
  const now = opts.now ?? new Date();
  const batchSize = opts.batchSize ?? 200;
  const parallel = opts.parallel ?? 16;
  const end = Date.now() + (opts.budgetMs ?? 20_000);
  const report: SweepReport = { checked: 0, breaches: 0 };
  const seen = new Set<string>();
  while (Date.now() < end) {
    // A record whose mark failed stays due; it is left to the next sweep rather than read again here.
    const due = (await dueSlaRecords(now, batchSize + seen.size)).filter((r) => !seen.has(r._id));
    if (due.length === 0) break;
    for (let i = 0; i < due.length; i += parallel) {
      const results = await Promise.allSettled(due.slice(i, i + parallel).map((r) => breachDue(r, now)));
      results.forEach((res, j) => {
        const r = due[i + j] as SlaRecord;
        seen.add(r._id);
        if (res.status === 'fulfilled') report.breaches += res.value;
        else logger.error({ err: res.reason, record: r._id }, 'recording an SLA breach failed; the next sweep tries again');
      });
    }
    report.checked += due.length;
    if (due.length < batchSize) break;
  }
  return report;
}
