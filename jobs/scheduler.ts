/**
 * Our Agenda instance: the one place its settings are chosen. Jobs themselves are declared in
 * `<name>.job.ts` files (README in this folder); this builds the scheduler that runs them.
 *
 * The settings come from the embedded engine's weak spot (ARCHITECTURE, "Storage engine facts"):
 * findAndModify over many matching documents. With Agenda's default lockLimit (0, unlimited),
 * 2,000 jobs due at once livelocked on secantusd-rs (0 ran in 60 s). `npm run bench` measures
 * the drain of 200 and 2,000 due jobs with exactly this function.
 */
import { hostname } from 'node:os';
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda } from 'agenda';
import type mongoose from 'mongoose';

/** The collection of our job documents (Agenda's default, `agendaJobs`, breaks our snake_case names). */
export const JOBS_COLLECTION = 'agenda_jobs';

/**
 * Our Agenda settings, measured on secantusd-rs with 2,000 jobs due at once (2 cores):
 * - `lockLimit`/`defaultLockLimit` 10: a process locks at most 10 jobs, one lock query at a time,
 *   so lockers do not contend (ARCHITECTURE: unlimited livelocked, 5 halved throughput, 20-50
 *   contended again).
 * - `defaultConcurrency` 10: as many run as are locked.
 * - `processEvery` 200 ms: one batch is locked per tick, so this sets a backlog's pace (50 jobs/s
 *   per process, 2,000 in 40 s). A tick must outlast locking a batch (10 lock queries of ~15 ms
 *   with 2,000 due): at 100 ms ticks overlapped, lockers contended and it fell to 10-20 jobs/s.
 * - `removeOnComplete`: a finished one-time job is deleted. Kept, each run's updates slowed every
 *   later lock query on this engine: the same 2,000 fell from 30 to 2 jobs/s (612 in 60 s).
 */
export const SCHEDULER_SETTINGS = { lockLimit: 10, defaultLockLimit: 10, defaultConcurrency: 10, processEvery: 200, removeOnComplete: true } as const;

/** The process a job's `lastModifiedBy` names: which process holds (or last ran) a job. */
export const schedulerName = (pid = process.pid) => `${hostname()}-${pid}`;

/** Builds (does not start) our Agenda on a database handle (e.g. mongoose's `connection.db`) or a MongoDB URI. */
export function createScheduler(mongo: mongoose.mongo.Db | string): Agenda {
  const connection = typeof mongo === 'string' ? { address: mongo } : { mongo };
  return new Agenda({ name: schedulerName(), backend: new MongoBackend({ ...connection, collection: JOBS_COLLECTION }), ...SCHEDULER_SETTINGS });
}
