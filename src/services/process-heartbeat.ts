/**
 * Each server process says it is alive in Redis: one key per process, refreshed every
 * BEAT_MS and expiring after TTL_MS, holding its connected-socket count. The platform's health
 * check reads them all: how many processes run, and the sockets each holds.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { logger } from '../logger.js';

const PREFIX = 'process:heartbeat:';
const BEAT_MS = 5_000;
const TTL_MS = 3 * BEAT_MS;

/** What one process reports. */
export interface ProcessBeat {
  process_id: string;
  hostname: string;
  pid: number;
  sockets: number;
  started_at: string;
  at: string;
}

/** Beats now and every BEAT_MS until the answered function is called (which also removes the key). */
export function startHeartbeat(redis: Redis, processId: string, sockets: () => number): () => Promise<void> {
  const startedAt = new Date().toISOString();
  const beat = async () => {
    const body: ProcessBeat = { process_id: processId, hostname: hostname(), pid: process.pid, sockets: sockets(), started_at: startedAt, at: new Date().toISOString() };
    await redis.set(PREFIX + processId, JSON.stringify(body), 'PX', TTL_MS).catch((err: unknown) => logger.warn({ err }, 'process heartbeat failed'));
  };
  void beat();
  const timer = setInterval(() => void beat(), BEAT_MS).unref();
  return async () => {
    clearInterval(timer);
    await redis.del(PREFIX + processId).catch(() => 0);
  };
}

/** Every live process's last beat. */
export async function liveProcesses(redis: Redis): Promise<ProcessBeat[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  return values.flatMap((v) => {
    try {
      return v ? [JSON.parse(v) as ProcessBeat] : [];
    } catch {
      return [];
    }
  });
}
