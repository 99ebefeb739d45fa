/**
 * The SLA sweeper, body of the periodic job (jobs/sla-check.job.ts): reads the running records
 * whose earliest open clock is due (`{ state, next_due_at, _id }`, in pages by that key) and, per
 * page, records every due target's breach (sla-breach.ts: one insert of natural-id claims, so
 * exactly once however many sweepers run; one event append per tenant) and marks the records
 * (one command of compare-and-set writes). A job per conversation would be thousands of Agenda
 * jobs, the embedded engine's weak spot (ARCHITECTURE, "Storage engine facts"); this is one.
 *
 * Idempotent: a page that fails halfway leaves its records due, and the next sweep finds their
 * breaches recorded (the claim's duplicate), appends whichever events are missing, and marks them.
 */
import { logger } from '../logger.js';
import { dueSlaRecords, SLA_TARGETS, type DueCursor, type SlaRecord, type SlaTarget } from '../models/sla-record.js';
import { recordBreaches, type DueClock } from './sla-breach.js';
import { markBreaches, type BreachMarks } from './sla-clock.js';

/** How one sweep works; every field has a default. */
export interface SweepOptions {
  /** The time the sweep judges "due" at (tests inject it). */
  now?: Date;
  /** Records read and worked on per page. */
  batchSize?: number;
  /** A sweep starts no new page after this long, so the job lets go of its lock regularly. */
  budgetMs?: number;
}

/** What one sweep did. */
export interface SweepReport {
  /** Due records looked at. */
  checked: number;
  /** Breaches this sweep recorded or found recorded (each only ever recorded once). */
  breaches: number;
}

/** The targets of a record that are due by `now` and neither met nor breached. */
const dueTargets = (r: SlaRecord, now: Date): SlaTarget[] =>
  SLA_TARGETS.filter((target) => {
    const clock = r[target];
    return clock !== null && !clock.met_at && !clock.breached_at && clock.due_at !== null && new Date(clock.due_at) <= now;
  });

/** Records and marks the due breaches of one page of records; answers how many. */
async function breachPage(page: readonly SlaRecord[], now: Date): Promise<number> {
  const due: DueClock[] = page.flatMap((record) => (record.policy_id ? dueTargets(record, now).map((target) => ({ record, target })) : []));
  if (due.length === 0) return 0;
  const breaches = await recordBreaches(due, now);
  const marks = new Map<string, BreachMarks>();
  due.forEach(({ record, target }, i) => {
    const entry = marks.get(record._id) ?? { record, marks: {} };
    entry.marks[target] = breaches[i]?.breached_at;
    marks.set(record._id, entry);
  });
  await markBreaches([...marks.values()]);
  return due.length;
}

/** One sweep over every tenant's due SLA clocks. */
export async function sweepSla(opts: SweepOptions = {}): Promise<SweepReport> {
  const now = opts.now ?? new Date();
  const batchSize = opts.batchSize ?? 500;
  const end = Date.now() + (opts.budgetMs ?? 20_000);
  const report: SweepReport = { checked: 0, breaches: 0 };
  // Pages follow the query's sort key, so a record that stays due (its page failed) is not read again in this sweep.
  let after: DueCursor | null = null;
  while (Date.now() < end) {
    const page = await dueSlaRecords(now, batchSize, after);
    if (page.length === 0) break;
    after = page[page.length - 1] as SlaRecord;
    try {
      report.breaches += await breachPage(page, now);
    } catch (err) {
      logger.error({ err, records: page.length }, 'recording a page of SLA breaches failed; the next sweep tries again');
    }
    report.checked += page.length;
    if (page.length < batchSize) break;
  }
  return report;
}
