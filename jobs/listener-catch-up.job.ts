/**
 * Every 15 s: durable listeners' cursors behind their tenant's log are walked (after a restart,
 * a lost publish, or a failed event whose backoff is over). Live events wake listeners at once;
 * this only catches what a wake missed. Idempotent: each cursor moves under its own lease.
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';

/** The job's name. */
export const name = 'listeners.catch-up';

/** How often the pass runs. */
export const interval = '15 seconds';

/** One pass at a time, each cursor leased on its own besides; a killed holder blocks it at most 30 s. */
export const options = { concurrency: 1, lockLifetime: 30_000 };

/** Runs one pass. */
export const run = (): Promise<void> => appContext().listeners.catchUp();

/** A failed pass is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'listener catch-up failed; the next run tries again');
}
