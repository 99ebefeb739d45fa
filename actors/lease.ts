/**
 * Actor ownership leases in Redis (ARCHITECTURE invariant 4). The lease `actor:lease:<kind>:<id>`
 * holds `<processId>:<fence>`; the fence comes from `INCR actor:fence:<kind>:<id>`, so it grows
 * across owners and a later owner always carries a larger one. Every check-then-act step runs as
 * one Lua script, because a GET followed by a separate PEXPIRE/DEL could act on a lease that
 * expired and was taken by another process in between.
 */
import type { Redis } from 'ioredis';

/** The Redis key of an actor's lease. */
export const leaseKey = (kind: string, id: string): string => `actor:lease:${kind}:${id}`;
/** The Redis key of an actor's fencing counter. */
export const fenceKey = (kind: string, id: string): string => `actor:fence:${kind}:${id}`;

/** Who holds a lease: the owning process and the fence it acquired with. */
export interface LeaseHolder {
  processId: string;
  fence: number;
  /** Milliseconds until the lease expires unless renewed. */
  ttlMs: number;
}

/** The outcome of one acquisition attempt. */
export type AcquireResult = { acquired: true; fence: number } | { acquired: false; holder: LeaseHolder };

// The fence is only incremented when the SET will succeed, so failed attempts do not burn numbers.
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur, redis.call('PTTL', KEYS[1])} end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'NX', 'PX', ARGV[2])
return {1, tostring(fence), 0}`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Splits `<processId>:<fence>`; the process id may itself contain colons. */
export function parseLeaseValue(value: string, ttlMs: number): LeaseHolder {
  const at = value.lastIndexOf(':');
  return { processId: value.slice(0, at), fence: Number(value.slice(at + 1)), ttlMs };
}

/** Takes the lease with `SET NX PX` and a fresh fence, or reports who holds it. */
export async function acquireLease(
  redis: Redis,
  kind: string,
  id: string,
  processId: string,
  leaseMs: number,
): Promise<AcquireResult> {
  const res = (await redis.eval(ACQUIRE, 2, leaseKey(kind, id), fenceKey(kind, id), processId, leaseMs)) as [
    number,
    string,
    number,
  ];
  if (res[0] === 1) return { acquired: true, fence: Number(res[1]) };
  return { acquired: false, holder: parseLeaseValue(res[1], res[2]) };
}

/** Extends the lease only if it still names this process and fence; false means it was lost. */
export async function renewLease(
  redis: Redis,
  kind: string,
  id: string,
  processId: string,
  fence: number,
  leaseMs: number,
): Promise<boolean> {
  return (await redis.eval(RENEW, 1, leaseKey(kind, id), `${processId}:${fence}`, leaseMs)) === 1;
}

/** Deletes the lease only if it still names this process and fence. */
export async function releaseLease(
  redis: Redis,
  kind: string,
  id: string,
  processId: string,
  fence: number,
): Promise<boolean> {
  return (await redis.eval(RELEASE, 1, leaseKey(kind, id), `${processId}:${fence}`)) === 1;
}
