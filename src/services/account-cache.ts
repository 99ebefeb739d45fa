/**
 * Which tenant and account a webhook's provider account belongs to, remembered per process:
 * every delivery names its account, and reading the route, the account and the integration
 * again for each one was three of the inbound path's round trips. Every change of integrations
 * and accounts runs in the tenant actor (actors/tenant/integrations.ts), which forgets these
 * entries here and in every other process (services/shared-cache.ts); entries also expire after
 * TTL_MS, so a change made some other way (a migration by hand) is seen within seconds.
 */
import type { ChannelName } from '../../channels/types.js';
import { findWabaIntegration } from '../models/integration.js';
import { findAccountById, findWabaAccount } from '../models/integration-account.js';
import { resolveAccount, type ResolvedAccount } from './integration-accounts.js';
import { sharedCache } from './shared-cache.js';

const TTL_MS = 10_000;

const accounts = sharedCache<ResolvedAccount | null>('accounts', { ttlMs: TTL_MS });

/**
 * resolveAccount; and for a WhatsApp id that no account route names, the WhatsApp Business
 * Account it may be (a template status webhook names only its WABA, as entry.id): the oldest
 * account whose settings name that WABA, else the default account of the integration set up with it.
 */
async function resolveNamed(channel: ChannelName, externalId: string): Promise<ResolvedAccount | null> {
  const direct = await resolveAccount(channel, externalId);
  if (direct || channel !== 'whatsapp') return direct;
  let account = await findWabaAccount(externalId);
  if (!account) {
    const defaultId = (await findWabaIntegration(externalId))?.default_account_id;
    account = defaultId ? await findAccountById(defaultId) : null;
  }
  return account ? resolveAccount(channel, account.external_id) : null;
}

/** resolveAccount (WhatsApp Business Accounts included), remembered for a few seconds (and until any integration changes). */
export function resolveAccountCached(channel: ChannelName, externalId: string): Promise<ResolvedAccount | null> {
  return accounts.get(`${channel}\u001f${externalId}`, () => resolveNamed(channel, externalId));
}

/** Forgets every resolution here and in every other process (an integration or account changed). */
export const forgetAccounts = (): Promise<void> => accounts.forget();
