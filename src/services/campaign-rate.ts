/**
 * The send cap per sending account, shared by every process: a GCRA token bucket (the "virtual
 * scheduling" form of a leaky bucket) in one Redis key per account. The key holds the time the
 * next send may start; taking `count` slots moves it `count / rate` seconds on, atomically
 * (one Lua script, Redis's own clock), and answers when the first slot starts. Sends that start
 * at their slots are never closer than 1/rate apart on average, whichever process or run takes
 * them, and there is no burst allowance: an idle account starts again at one send per slot.
 * Meta's default throughput is 80 messages/s per business number:
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
 */
import { appContext } from '../context.js';

// KEYS[1]: the account's key. ARGV: interval (µs), count. Answers the wait in µs before the first slot.
const TAKE_SLOTS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, tat)
local nextFree = start + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.0f', nextFree), 'PX', math.floor((nextFree - now) / 1000) + 60000)
return string.format('%.0f', start - now)
`;

const keyOf = (accountId: string) => `campaign-rate:${accountId}`;

/** The slots taken: the first starts at `startsAt` (this process's clock, ms), each next one `intervalMs` later. */
export interface SendSlots {
  startsAt: number;
  intervalMs: number;
}

/** Takes `count` consecutive send slots of the account at `ratePerSecond`. */
export async function takeSendSlots(accountId: string, ratePerSecond: number, count: number): Promise<SendSlots> {
  const intervalUs = 1_000_000 / ratePerSecond;
  const waitUs = Number(await appContext().redis.eval(TAKE_SLOTS, 1, keyOf(accountId), String(intervalUs), String(count)));
  return { startsAt: Date.now() + waitUs / 1000, intervalMs: intervalUs / 1000 };
}
