/**
 * A recurring sweep whose process dies while holding its Agenda lock is taken up by another
 * process once the lock expires (30 s), not after minutes: Agenda takes a locked job again only
 * when its lock is older than the job's lockLifetime. Here a second server process is killed -9
 * the moment it holds the campaign sweep's lock; this run's in-process server must run the sweep
 * again within the lock's lifetime.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { options as campaignSweepOptions, name as campaignSweep } from '../../jobs/campaign-sweep.job.js';
import { JOBS_COLLECTION, schedulerName } from '../../jobs/scheduler.js';
import { testServerEnv } from '../setup.js';
import { startServerProcess } from '../support/server-process.js';
import { until } from '../support/whatsapp.js';

interface JobDoc {
  lockedAt: Date | null;
  lastRunAt: Date | null;
  lastModifiedBy?: string;
}

const sweepJob = async () => (await mongoose.connection.db?.collection(JOBS_COLLECTION).findOne({ name: campaignSweep })) as JobDoc | null;

describe('a sweep whose process died holding its lock', function () {
  this.timeout(90_000);

  it('is run again by another process within the lock’s lifetime', async () => {
    const victim = await startServerProcess({ ...testServerEnv(), CAMPAIGN_SENDER: 'false' });
    const name = schedulerName(victim.child.pid);
    try {
      // The two processes take turns; wait for a moment the victim holds it.
      await until(async () => {
        const job = await sweepJob();
        return job?.lockedAt && job.lastModifiedBy === name ? job : null;
      }, 'the victim to hold the sweep’s lock', 30_000);
    } finally {
      victim.kill();
    }
    const killedAt = Date.now();
    const ranAgain = await until(
      async () => {
        const job = await sweepJob();
        return job?.lastRunAt && job.lastRunAt.getTime() > killedAt ? job : null;
      },
      'the sweep to run again',
      campaignSweepOptions.lockLifetime + 15_000,
    );
    expect(ranAgain.lastModifiedBy).to.not.equal(name);
  });
});
