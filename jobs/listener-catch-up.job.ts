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

/** One pass at a time; each cursor is leased on its own besides. */
export const options = { concurrency: 1, lockLifetime: 5 * 60_000 };

/** Runs one pass. */
export const run = (): Promise<void> => appContext().listeners.catchUp();

/** A failed pass is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'listener catch-up failed; the next run tries again');
}
