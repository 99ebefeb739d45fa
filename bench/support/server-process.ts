/**
 * OmniStream server processes for the benchmark. Every process of a run shares one environment
 * (database, Redis, secrets, fake Graph API), as processes behind one load balancer would.
 */
import { randomBytes } from 'node:crypto';
import { spawnBenchProcess, type BenchProcess } from './child.js';

/** What the servers of one run share. */
export interface ServerEnvironment {
  mongodbUri: string;
  redisUrl: string;
  /** Base URL of the fake Graph API (META_GRAPH_URL). */
  graphUrl: string;
  /** The Meta app secret that signs every webhook of the run. */
  appSecret: string;
  /** JWT_SECRET and ENCRYPTION_KEY, the same in every process (a token works on any of them). */
  jwtSecret: string;
  encryptionKey: string;
  /** Missed events a resuming socket may replay: the storm replays everything. */
  replayLimit: number;
}

/** A fresh environment with the run's secrets. */
export function serverEnvironment(opts: Omit<ServerEnvironment, 'appSecret' | 'jwtSecret' | 'encryptionKey'>): ServerEnvironment {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  return { ...opts, appSecret: hex(16), jwtSecret: hex(32), encryptionKey: hex(32) };
}

/** Spawns one server process (production mode, silent logs; profiled with BENCH_PROFILE_DIR) and waits until it listens. */
export function startServerProcess(name: string, e: ServerEnvironment, extra: Record<string, string> = {}): Promise<BenchProcess> {
  return spawnBenchProcess(name, 'bench/support/server-main.ts', {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? 'silent',
    MONGODB_URI: e.mongodbUri,
    REDIS_URL: e.redisUrl,
    JWT_SECRET: e.jwtSecret,
    ENCRYPTION_KEY: e.encryptionKey,
    META_APP_SECRET: e.appSecret,
    META_GRAPH_URL: e.graphUrl,
    REALTIME_REPLAY_LIMIT: String(e.replayLimit),
    MEDIA_DIR: '.data/bench-media',
    // The outgoing-webhooks section's receiver listens on loopback, which the SSRF guard refuses otherwise.
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32',
    // Counted as in production (one Redis call each), but never reached by the offered load.
    RATE_LIMIT_WEBHOOK_SOURCE: '999999999/60',
    RATE_LIMIT_API_TOKEN: '999999999/60',
    RATE_LIMIT_SOCKET_IP: '999999999/60',
    RATE_LIMIT_LOGIN_IP: '999999999/60',
    RATE_LIMIT_REGISTER_IP: '999999999/60',
    RATE_LIMIT_WEBCHAT_SESSION_IP: '999999999/60',
    RATE_LIMIT_WEBCHAT_VISITOR: '999999999/60',
    // Campaigns are sent by the processes the campaigns section starts with its caps.
    CAMPAIGN_SENDER: 'false',
    ...extra,
  },
  // BENCH_PROFILE_DIR=dir: a V8 CPU profile of each server process, written there when it exits.
  [],
  process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []);
}
