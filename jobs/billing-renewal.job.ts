/**
 * The billing renewal sweep (src/services/billing-subscriptions.ts renewDueSubscriptions): every
 * BILLING_SWEEP_MS, subscriptions whose period or trial ended are renewed (the next period
 * invoiced, a scheduled plan change applied) or ended (cancelled at the period's end). One coarse
 * job for every tenant; idempotent: a renewal's invoice `_id` comes from the subscription and the
 * period, and a renewed subscription is no longer due. The same pass retries failed card payments
 * that are due (services/billing-payments.ts: each attempt claimed once on its invoice).
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';
import { collectDueInvoices } from '../src/services/billing-payments.js';
import { renewDueSubscriptions } from '../src/services/billing-subscriptions.js';

/** The job's name. */
export const name = 'billing.renewal_sweep';

/** How often the sweep runs: BILLING_SWEEP_MS. */
export const interval = (): number => appContext().config.billing.sweepMs;

/** One sweep at a time; a killed holder blocks it at most 30 s. */
export const options = { concurrency: 1, lockLifetime: 30_000 };

/** Runs one sweep. */
export async function run(): Promise<void> {
  const report = await renewDueSubscriptions();
  const retried = await collectDueInvoices();
  if (report.renewed > 0 || report.failed > 0 || retried > 0) logger.info({ ...report, retried }, 'billing renewal sweep');
}

/** A failed sweep is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'billing renewal sweep failed');
}
