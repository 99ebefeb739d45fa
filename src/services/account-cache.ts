/**
 * Which tenant and account a webhook's provider account belongs to, remembered per process:
 * every delivery names its account, and reading the route, the account and the integration
 * again for each one was three of the inbound path's round trips. Every change of integrations
 * and accounts runs in the tenant actor (actors/tenant/integrations.ts), which clears this cache
 * here and, over Redis, in every other process; entries also expire after TTL_MS, so a change
 * made some other way (a migration by hand) is seen within seconds.
 */
import { Redis } from 'ioredis';
import type { ChannelName } from '../../channels/types.js';
import { appContext } from '../context.js';
import { logger } from '../logger.js';
import { resolveAccount, type ResolvedAccount } from './integration-accounts.js';

const TTL_MS = 10_000;
const CHANGED = 'integrations:changed';

const entries = new Map<string, { at: number; resolved: Promise<ResolvedAccount | null> }>();

/** resolveAccount, remembered for a few seconds (and until any integration changes). */
export function resolveAccountCached(channel: ChannelName, externalId: string): Promise<ResolvedAccount | null> {
  const key = `${channel}\u001f${externalId}`;
  const hit = entries.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.resolved;
  const resolved = resolveAccount(channel, externalId);
  entries.set(key, { at: Date.now(), resolved });
  // A failed read is not remembered.
  resolved.catch(() => entries.delete(key));
  return resolved;
}

/** Forgets every resolution here and in every other process (an integration or account changed). */
export async function forgetAccounts(): Promise<void> {
  entries.clear();
  try {
    await appContext().redis.publish(CHANGED, '1');
  } catch (err) {
    logger.warn({ err }, 'telling other processes that integrations changed failed; their entries expire on their own');
  }
}

/** Listens for other processes' changes; answers a function that stops listening. */
export async function watchAccountChanges(redisUrl: string): Promise<() => void> {
  const sub = new Redis(redisUrl);
  sub.on('message', () => entries.clear());
  await sub.subscribe(CHANGED);
  return () => sub.disconnect();
}
