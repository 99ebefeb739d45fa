/**
 * Sends scheduled messages when they are due (src/services/scheduled-dispatch.ts): one periodic
 * sweeper, never one Agenda job per message (thousands of due Agenda jobs livelock on the
 * embedded engine: ARCHITECTURE, "Storage engine facts"). Each message is claimed by `_id` and
 * sent with its own id as the idempotency key, so two processes or a rerun never send twice.
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';
import { dispatchDueScheduledMessages } from '../src/services/scheduled-dispatch.js';

/** The job's name. */
export const name = 'scheduled-messages.dispatch';

/** How often the sweep runs (SCHEDULED_MESSAGES_SWEEP_MS, default 5 s). */
export const interval = (): number => appContext().config.scheduledMessages.sweepMs;

/** One sweep at a time; a sweep starts no batch after 20 s, so a killed holder blocks it at most 30 s. */
export const options = { concurrency: 1, lockLifetime: 30_000 };

/** Runs one sweep. */
export async function run(): Promise<void> {
  const report = await dispatchDueScheduledMessages();
  if (report.claimed > 0) logger.info(report, 'scheduled messages dispatched');
}

/** A failed sweep is logged; claims it held go stale and the next sweeps take them over. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'scheduled-message sweep failed');
}
