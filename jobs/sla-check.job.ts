/**
 * The SLA sweeper (src/services/sla-sweep.ts): every SLA_SWEEP_MS, records the breaches of SLA
 * clocks that passed their due time unmet, each once (an `_id` claim per conversation, policy
 * and target), emitting `sla.breached`. One coarse job for every tenant, never one per
 * conversation; idempotent, so a second run or a second process changes nothing.
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';
import { sweepSla } from '../src/services/sla-sweep.js';

/** The job's name. */
export const name = 'sla.sweep';

/** How often the sweep runs: SLA_SWEEP_MS. */
export const interval = (): number => appContext().config.sla.sweepMs;

/** One sweep at a time; a killed holder blocks it at most 30 s (a sweep overrunning that may run twice: breaches are claimed once). */
export const options = { concurrency: 1, lockLifetime: 30_000 };

/** Runs one sweep. */
export async function run(): Promise<void> {
  const report = await sweepSla();
  if (report.breaches > 0) logger.info(report, 'recorded SLA breaches');
}

/** A failed sweep is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'SLA sweep failed');
}
