/**
 * The automation sweep (src/services/automation-worker.ts): every few seconds puts queue items
 * left processing by a process that died back to pending, and wakes the worker of every tenant
 * with pending items (retries whose backoff is over, items queued while another process was
 * busy). One coarse job for every tenant; the items themselves are claimed one by one by `_id`.
 */
import { logger } from '../src/logger.js';
import { sweepAutomation } from '../src/services/automation-worker.js';

/** The job's name. */
export const name = 'automation.sweep';

/** How often the sweep runs. */
export const interval = (): number => 5_000;

/** One sweep at a time. */
export const options = { concurrency: 1, lockLifetime: 60_000 };

/** Runs one sweep. */
export async function run(): Promise<void> {
  await sweepAutomation();
}

/** A failed sweep is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'automation sweep failed');
}
