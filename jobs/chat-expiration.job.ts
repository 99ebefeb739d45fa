/**
 * Applies the tenants' chat expiration rules (src/services/chat-expiration.ts): expires, through
 * their actors, conversations whose customer has been silent longer than their channel's rule,
 * sending the rule's closing message first (once per conversation, whoever runs it).
 */
import { appContext } from '../src/context.js';
import { logger } from '../src/logger.js';
import { applyExpirationRules } from '../src/services/chat-expiration.js';

/** The job's name. */
export const name = 'chat-expiration.sweep';

/** How often the sweep runs (CHAT_EXPIRATION_SWEEP_MS, default one minute). */
export const interval = (): number => appContext().config.chatExpiration.sweepMs;

/** One sweep at a time; a sweep starts no batch after 40 s, so a killed holder blocks it at most a minute. */
export const options = { concurrency: 1, lockLifetime: 60_000 };

/** Runs one sweep and reports how many conversations it expired. */
export async function run(): Promise<void> {
  const report = await applyExpirationRules();
  if (report.expired > 0) logger.info(report, 'chat expiration rules applied');
}

/** A failed sweep is logged; the next one runs at the next interval and finds what is left. */
export function onFailed(err: unknown): void {
  logger.error({ err }, 'chat expiration sweep failed');
}
