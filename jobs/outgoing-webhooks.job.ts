/**
 * The outgoing-webhook sweep (src/services/outgoing-webhook-sender.ts): every
 * OUTGOING_WEBHOOK_SWEEP_MS, wakes the active webhooks whose sender marker is due (a retry
 * whose backoff is over, deliveries queued while another process was finishing, or work left by
 * a process that died), and deletes a batch of settled deliveries past
 * OUTGOING_WEBHOOK_RETENTION_DAYS. One coarse job for every tenant, never one per delivery; each webhook
 * is then sent by whichever process takes its lease.
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';
import { sweepOutgoingWebhooks } from '../src/services/outgoing-webhook-sender.js';

/** The job's name. */
export const name = 'outgoing-webhooks.sweep';

/** How often the sweep runs: OUTGOING_WEBHOOK_SWEEP_MS. */
export const interval = (): number => appContext().config.outgoingWebhooks.sweepMs;

/** One sweep at a time. */
export const options = { concurrency: 1, lockLifetime: 60_000 };

/** Runs one sweep. */
export async function run(): Promise<void> {
  await sweepOutgoingWebhooks();
}

/** A failed sweep is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'outgoing-webhook sweep failed');
}
