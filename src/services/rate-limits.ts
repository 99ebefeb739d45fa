/**
 * Abuse limits, counted in Redis so that every process shares one count: login and register per
 * IP and per e-mail, socket handshakes per IP, webhook deliveries per source, authenticated API
 * calls per token. Each is configuration (RATE_LIMIT_*: `<count>/<seconds>` or `off`).
 *
 * rate-limiter-flexible does the counting: one atomic Lua INCR-with-TTL per check, the time
 * until the window frees for Retry-After, and an in-memory insurance limiter that keeps each
 * process limiting on its own while Redis is away instead of failing every request or none.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimits } from '../config.js';
import { appContext } from '../context.js';
import { RateLimitedError } from '../errors.js';

/** One of the configured limits. */
export type LimitName = keyof RateLimits;

// What the 429 says, for each limit.
const REFUSALS: Record<LimitName, string> = {
  loginIp: 'Too many login attempts from this address',
  loginEmail: 'Too many login attempts for this e-mail address',
  registerIp: 'Too many registrations from this address',
  registerEmail: 'Too many registrations for this e-mail address',
  socketIp: 'Too many realtime connections from this address',
  webhookSource: 'Too many webhook deliveries from this address',
  apiToken: 'Too many requests with this token',
  webchatSessionIp: 'Too many chat sessions started from this address',
  webchatVisitor: 'Too many chat messages; slow down',
};

type Limiters = Map<LimitName, RateLimiterRedis | null>;
// One set per Redis connection (a test may run a second server in the same process).
const limitersByRedis = new WeakMap<Redis, Limiters>();

function limiterFor(name: LimitName): RateLimiterRedis | null {
  const { redis, config } = appContext();
  let limiters = limitersByRedis.get(redis);
  if (!limiters) limitersByRedis.set(redis, (limiters = new Map()));
  if (!limiters.has(name)) {
    const limit = config.rateLimits[name];
    const options = limit ? { keyPrefix: `ratelimit:${name}`, points: limit.points, duration: limit.seconds } : null;
    limiters.set(name, options ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: new RateLimiterMemory(options) }) : null);
  }
  return limiters.get(name) ?? null;
}

/** Counts one use of `name` by `key`; throws a 429 with Retry-After once the window is used up. */
export async function consumeLimit(name: LimitName, key: string): Promise<void> {
  const limiter = limiterFor(name);
  if (!limiter) return;
  try {
    await limiter.consume(key);
  } catch (res) {
    if (!(res instanceof RateLimiterRes)) throw res;
    throw new RateLimitedError(`${REFUSALS[name]}; try again in ${Math.ceil(res.msBeforeNext / 1000)} s`, Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
  }
}

