/**
 * Starts this process's share of the scheduled work: our Agenda (jobs/scheduler.ts) with every
 * job declared in this folder. Add a job by writing `<name>.job.ts` and listing it here.
 */
import type mongoose from 'mongoose';
import { appContext } from '../src/context.js';
import * as automationSweep from './automation-sweep.job.js';
import * as billingRenewal from './billing-renewal.job.js';
import * as campaignRun from './campaign-run.job.js';
import * as campaignSweep from './campaign-sweep.job.js';
import * as chatExpiration from './chat-expiration.job.js';
import { setQueueScheduler } from './queue.js';
import { createScheduler } from './scheduler.js';
import * as listenerCatchUp from './listener-catch-up.job.js';
import * as outgoingWebhooks from './outgoing-webhooks.job.js';
import * as scheduledMessages from './scheduled-messages.job.js';
import * as slaCheck from './sla-check.job.js';
import * as stuckSends from './stuck-sends.job.js';
import * as webhookRecovery from './webhook-recovery.job.js';

/** What a job file declares (STYLE.md, "Jobs are declarations"). */
interface JobDeclaration {
  name: string;
  /** Set for recurring jobs: how often it runs (a function reads it from configuration at start, in ms). */
  interval?: string | (() => number);
  options: { concurrency?: number; lockLifetime?: number };
  /** One-time jobs get the data they were queued with (jobs/queue.ts). */
  run(data?: unknown): Promise<void>;
  onFailed(err: unknown): void;
  /** When set and false, this process does not take the job (others do). */
  enabled?: () => boolean;
}

const JOBS: JobDeclaration[] = [webhookRecovery, stuckSends, listenerCatchUp, scheduledMessages, chatExpiration, slaCheck, campaignRun, campaignSweep, outgoingWebhooks, automationSweep, billingRenewal];

/** The running scheduler. */
export interface RunningJobs {
  /** Stops taking jobs, waits for those running, and gives up their locks. */
  stop(): Promise<void>;
}

/** Defines every job, starts processing, and schedules the recurring ones (idempotent across processes). */
export async function startJobs(db: mongoose.mongo.Db): Promise<RunningJobs> {
  const agenda = createScheduler(db);
  const { sweepLockMs } = appContext().config;
  for (const job of JOBS) {
    if (job.enabled && !job.enabled()) continue;
    agenda.define(
      job.name,
      async (run) => {
        try {
          await job.run(run.attrs.data);
        } catch (err) {
          job.onFailed(err);
          throw err;
        }
      },
      // A recurring job's lock bounds how long a process killed holding it blocks it everywhere.
      job.interval && sweepLockMs !== null ? { ...job.options, lockLifetime: sweepLockMs } : job.options,
    );
  }
  await agenda.start();
  setQueueScheduler(agenda);
  for (const job of JOBS) if (job.interval) await agenda.every(typeof job.interval === 'function' ? job.interval() : job.interval, job.name);
  return {
    async stop() {
      setQueueScheduler(null);
      await agenda.drain(10_000);
      await agenda.stop(false);
    },
  };
}
