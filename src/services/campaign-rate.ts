/**
 * The send cap per sending account, shared by every process: a GCRA token bucket (the "virtual
 * scheduling" form of a leaky bucket) in one Redis key per account. The key holds the time the
 * next send may start; taking `count` slots moves it `count / rate` seconds on, atomically
 * (one Lua script, Redis's own clock), and answers when the first slot starts. Sends that start
 * at their slots are never closer than 1/rate apart on average, whichever process or run takes
 * them, and there is no burst allowance: an idle account starts again at one send per slot.
 *
 * A send takes its slot when it is ready to go to the provider (`pacedHandOver`), not ahead of
 * its preparation: slots that pass while a sender cannot use them (a stalled provider, a busy
 * process) are never taken, so a sender that fell behind does not send its backlog back to back
 * afterwards, and every second, not only the run's average, stays at the cap (within the
 * sender's timing noise).
 *
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Waits for the send's slot, then claims its one hand-over (`claim`, the actor's
 * `outbound.attempt`, a single compare-and-set) and answers the grant; the provider call follows
 * at once. The slot comes before the claim so that a crash while waiting leaves the message
 * unclaimed, sent by whichever run settles it, instead of `outcome_unknown`; a refused claim
 * leaves its slot unused.
 */
export async function pacedHandOver(accountId: string, ratePerSecond: number, claim: () => Promise<boolean>): Promise<boolean> {
  const { startsAt } = await takeSendSlots(accountId, ratePerSecond, 1);
  await sleep(startsAt - Date.now());
  return claim();
}
