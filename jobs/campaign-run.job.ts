/**
 * One run of one campaign (src/services/campaign-run.ts): sends its pending recipients in
 * rate-limited batches until none is left, it is cancelled, or another run holds it. Queued when
 * a campaign starts sending and by the sweeper when a run's process died; running twice is safe
 * (the second finds the campaign held, and every recipient is claimed once).
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';
import { CAMPAIGN_RUN_JOB, runCampaign, type CampaignRunData } from '../src/services/campaign-run.js';

/** The job's name. */
export const name = CAMPAIGN_RUN_JOB;

/**
 * A run may last long (10,000 recipients at 80/s take over two minutes). Agenda re-runs a job
 * whose lock outlived this after a crash, but the sweeper restarts a dead run much sooner (the
 * campaign's heartbeat), so the lock only needs to outlast a live run without touching it.
 */
export const options = { concurrency: 4, lockLifetime: 60 * 60_000 };

/** Only processes with CAMPAIGN_SENDER (the default) send campaigns. */
export const enabled = () => appContext().config.campaigns.sender;

/** Runs the campaign named by the job's data. */
export async function run(data?: unknown): Promise<void> {
  const d = data as Partial<CampaignRunData> | undefined;
  if (!d?.tenantId || !d.campaignId) return;
  await runCampaign({ tenantId: d.tenantId, campaignId: d.campaignId });
}

/** A failed run is logged; the sweeper restarts the campaign once its heartbeat goes quiet. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'campaign run failed');
}
