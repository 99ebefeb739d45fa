/**
 * Read-only views of Agenda's job collection (jobs/scheduler.ts JOBS_COLLECTION), for the
 * platform's health check: how long the oldest due job has waited to be picked up.
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
