/**
 * Every CAMPAIGN_SWEEP_MS: starts scheduled campaigns that are due and re-queues a run for a
 * sending campaign whose run stopped beating (its process died), src/services/campaign-run.ts.
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';
import { sweepCampaigns } from '../src/services/campaign-run.js';

/** The job's name. */
export const name = 'campaign.sweep';

/** How often it runs, from configuration (ms). */
export const interval = () => appContext().config.campaigns.sweepMs;

/** One sweep at a time; a killed holder blocks it at most 30 s (Agenda takes a locked job again only once its lock expires). */
export const options = { concurrency: 1, lockLifetime: 30_000 };

/** Runs one sweep. */
export async function run(): Promise<void> {
  const { started, requeued } = await sweepCampaigns();
  if (started || requeued) logger.info({ started, requeued }, 'campaign sweep');
}

/** A failed sweep is logged; the next one runs at the next interval. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'campaign sweep failed');
}
