/**
 * The send cap per sending account, shared by every process: a GCRA token bucket (the "virtual
 * scheduling" form of a leaky bucket) in one Redis key per account. The key holds the time the
 * next send may start; taking a slot moves it `1 / rate` seconds on, atomically (one Lua
 * script, Redis's own clock), and answers when the slot starts. Sends that start
 * at their slots are never closer than 1/rate apart on average, whichever process or run takes
 * them, and there is no burst allowance: an idle account starts again at one send per slot.
 * Meta's default throughput is 80 messages/s per business number:
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
 */
import { appContext } from '../context.js';

// KEYS[1]: the account's key. ARGV[1]: interval (µs). Answers the wait in µs before the slot.
const TAKE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, tat)
local nextFree = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', nextFree), 'PX', math.floor((nextFree - now) / 1000) + 60000)
return string.format('%.0f', start - now)
`;

const keyOf = (accountId: string) => `campaign-rate:${accountId}`;

/** Takes the account's next send slot at `ratePerSecond`; answers when it starts (this process's clock, ms). */
export async function takeSendSlot(accountId: string, ratePerSecond: number): Promise<number> {
  const intervalUs = 1_000_000 / ratePerSecond;
  const waitUs = Number(await appContext().redis.eval(TAKE_SLOT, 1, keyOf(accountId), String(intervalUs)));
  return Date.now() + waitUs / 1000;
}
