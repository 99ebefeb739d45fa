/** Dependency health: each one pinged with its latency. */
import { appContext } from '../context.js';
import { pingDatabase } from '../db.js';

/** One dependency's state. */
export interface DependencyHealth {
  status: 'up' | 'down';
  latency_ms: number;
  error?: string;
}

const TIMEOUT_MS = 3000;

async function probe(check: () => Promise<unknown>): Promise<DependencyHealth> {
  const started = performance.now();
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
    ]);
    return { status: 'up', latency_ms: Math.round((performance.now() - started) * 100) / 100 };
  } catch (err) {
    return {
      status: 'down',
      latency_ms: Math.round((performance.now() - started) * 100) / 100,
      error: (err as Error).message,
    };
  }
}

/** Pings the database, Redis and media storage in parallel. */
export async function checkHealth() {
  const { redis, storage } = appContext();
  const [db, redisHealth, storageHealth] = await Promise.all([
    probe(pingDatabase),
    probe(() => redis.ping()),
    probe(() => storage.ping()),
  ]);
  const checks = { db, redis: redisHealth, storage: { ...storageHealth, driver: storage.driver } };
  const ok = Object.values(checks).every((c) => c.status === 'up');
  return { status: ok ? ('ok' as const) : ('degraded' as const), checks };
}
