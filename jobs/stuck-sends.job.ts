/**
 * Settles outbound messages a crash left `pending` (src/services/outbound.ts, sweepStuckSends):
 * never handed to the provider, sent now; handed over without a recorded answer, marked failed
 * with `outcome_unknown` instead of risking a second copy at the customer.
 */
import { logger } from '../src/logger.js';
import { sweepStuckSends } from '../src/services/outbound.js';

/** The job's name. */
export const name = 'outbound.settle-stuck';

/** How often the sweep runs. */
export const interval = '1 minute';

/** One sweep at a time; a killed holder blocks it at most 30 s. */
export const options = { concurrency: 1, lockLifetime: 30_000 };

/** Runs one sweep. */
export async function run(): Promise<void> {
  const settled = await sweepStuckSends();
  if (settled > 0) logger.info({ settled }, 'settled outbound messages left pending');
}

/** A failed sweep is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'stuck-send sweep failed');
}
