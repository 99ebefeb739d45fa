/**
 * The webhook recovery pass (ARCHITECTURE invariant 6): every few seconds, deliveries still
 * pending at their `next_attempt_at` — stored by a process that died before processing them, or
 * a failed try whose backoff is over — are handed to this process's webhook worker. Agenda's
 * lock runs the pass in one process at a time; each delivery is also leased by compare-and-set
 * before its try, so a pass overlapping another process's worker never tries it twice.
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';
import { recoverDueWebhooks } from '../src/services/inbound.js';

/** The job's name. */
export const name = 'webhooks.recover';

/** How often the pass runs. */
export const interval = '10 seconds';

/** One pass at a time; a pass over 200 deliveries finishes well inside the lock, and a killed holder blocks it at most 30 s. */
export const options = { concurrency: 1, lockLifetime: 30_000 };

/** Runs one pass. */
export async function run(): Promise<void> {
  const { webhooks } = appContext();
  const taken = await recoverDueWebhooks((stored) => webhooks.run({ stored }));
  if (taken > 0) logger.info({ taken }, 'webhook recovery took up pending deliveries');
}

/** A failed pass is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'webhook recovery pass failed');
}
