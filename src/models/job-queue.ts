/**
 * Read-only views of Agenda's job collection (jobs/scheduler.ts JOBS_COLLECTION), for the
 * platform's health check (how long the oldest due job has waited to be picked up) and the
 * metrics (jobs by name and state).
 */
import mongoose from 'mongoose';
import { JOBS_COLLECTION } from '../../jobs/scheduler.js';

/** Due, unlocked, enabled jobs: waiting for a worker. */
const waiting = (now: Date) => ({ nextRunAt: { $lte: now }, lockedAt: null, disabled: { $ne: true } });

/** How many jobs wait and since when the oldest of them has been due. */
export async function jobQueueBacklog(now = new Date()): Promise<{ waiting: number; oldestDueAt: Date | null }> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('database not connected');
  const jobs = db.collection<{ nextRunAt: Date | null; lockedAt: Date | null; disabled?: boolean }>(JOBS_COLLECTION);
  const [count, oldest] = await Promise.all([
    jobs.countDocuments(waiting(now)),
    jobs.find(waiting(now), { projection: { nextRunAt: 1 } }).sort({ nextRunAt: 1 }).limit(1).next(),
  ]);
  return { waiting: count, oldestDueAt: oldest?.nextRunAt ?? null };
}

/** A job's state as Agenda's own overview computes it (agenda's computeJobState), with disabled ones `paused`. */
export type JobState = 'running' | 'failed' | 'repeating' | 'scheduled' | 'queued' | 'completed' | 'paused';

type JobFields = { name: string; lockedAt?: Date | null; lastFinishedAt?: Date | null; failedAt?: Date | null; nextRunAt?: Date | null; repeatInterval?: string | number | null; disabled?: boolean };

// Jobs read per count: ours are few and coarse (recurring sweepers, one job per campaign run).
const JOBS_COUNTED = 5_000;

function stateOf(job: JobFields, now: Date): JobState {
  if (job.disabled === true) return 'paused';
  if (job.lockedAt) return 'running';
  if (job.failedAt && (!job.lastFinishedAt || job.failedAt >= job.lastFinishedAt)) return 'failed';
  if (job.repeatInterval) return 'repeating';
  if (job.nextRunAt && job.nextRunAt > now) return 'scheduled';
  if (job.nextRunAt) return 'queued';
  return 'completed';
}

/** How many jobs of each name are in each state (at most JOBS_COUNTED jobs read, only the fields the state needs). */
export async function jobCountsByState(now = new Date()): Promise<{ name: string; state: JobState; count: number }[]> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('database not connected');
  const projection = { _id: 0, name: 1, lockedAt: 1, lastFinishedAt: 1, failedAt: 1, nextRunAt: 1, repeatInterval: 1, disabled: 1 };
  const jobs = await db.collection<JobFields>(JOBS_COLLECTION).find({}, { projection }).limit(JOBS_COUNTED).toArray();
  const counts = new Map<string, { name: string; state: JobState; count: number }>();
  for (const job of jobs) {
    const state = stateOf(job, now);
    const key = `${job.name}\0${state}`;
    const entry = counts.get(key) ?? { name: job.name, state, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}
