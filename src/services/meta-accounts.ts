/**
 * The Meta accounts onboarding connects and the Page/number tools use: connecting one found
 * through OAuth or Embedded Signup (a new claim, or a token refresh of one this organization
 * already has), finding one of this organization's accounts by its Meta id, and its token.
 * Every claim goes through createAccount / proveMetaOwnership, the same proof of ownership as
 * POST /api/integration-accounts.
 */
import type { ChannelName } from '../../channels/types.js';
import { decryptSecret } from '../crypto/secrets.js';
import { AppError, NotFoundError } from '../errors.js';
import { findIntegration, integrationId, integrations, type IntegrationSettingName } from '../models/integration.js';
import { findAccountRoute, integrationAccounts, type IntegrationAccount } from '../models/integration-account.js';
import { proveMetaOwnership } from './account-ownership.js';
import { accountSecretContext, createAccount, updateAccount, type AccountSettingsInput } from './integration-accounts.js';
import type { IntegrationAccountJson } from './integration-views.js';
import { upsertIntegration } from './integrations.js';
import type { Acting } from './agents.js';

/** A Meta channel. */
export type MetaChannel = Exclude<ChannelName, 'email' | 'webchat'>;

const KIND: Record<MetaChannel, string> = { whatsapp: 'WhatsApp phone number', messenger: 'Facebook Page', instagram: 'Instagram account' };

/** A provider account found through onboarding. */
export interface FoundAccount {
  externalId: string;
  /** As Meta names it; cut to what an account name may be. */
  name: string;
  display: string | null;
  /** Plain; encrypted by the account service. */
  accessToken: string;
  settings?: AccountSettingsInput;
}

/** Meta's names may be long or carry control characters; account names are labels of up to 100. */
export const labelOf = (value: string | null, fallback: string): string => {
  const clean = (value ?? '').replace(/\p{C}/gu, ' ').trim().slice(0, 100).trim();
  return clean || fallback;
};

/** Creates the channel's integration when it is not set up yet (onboarding sets it up). */
export async function ensureIntegration(cmd: Acting, channel: MetaChannel, settings: Partial<Record<IntegrationSettingName, string>> = {}): Promise<void> {
  if (await findIntegration(cmd.tenantId, channel)) return;
  await upsertIntegration({ ...cmd, channel, settings, secrets: {} });
}

/**
 * Connects a found account: claims it (createAccount: proof of ownership, 409 when another
 * organization has it), or, when this organization already has it, proves the new token and
 * stores it, enabling the account again.
 */
export async function connectMetaAccount(cmd: Acting, channel: MetaChannel, found: FoundAccount): Promise<IntegrationAccountJson> {
  const route = await findAccountRoute(channel, found.externalId);
  const existing = route?.tenant_id === cmd.tenantId ? await integrationAccounts.findOwnedOrNull(cmd.tenantId, route.account_id) : null;
  if (existing && existing.channel === channel && existing.external_id === found.externalId) {
    await proveMetaOwnership(channel, found.externalId, found.accessToken);
    return updateAccount({ ...cmd, id: existing._id, display: found.display, accessToken: found.accessToken, status: 'active', settings: found.settings });
  }
  return createAccount({ ...cmd, channel, externalId: found.externalId, name: found.name, display: found.display, accessToken: found.accessToken, status: 'active', settings: found.settings });
}

/**
 * This organization's account of `channel` with Meta id `externalId`, or else its default
 * account when no id is given: 404 for an id of another organization or none at all.
 */
export async function findMetaAccount(tenantId: string, channel: MetaChannel, externalId: string | undefined): Promise<IntegrationAccount> {
  if (externalId === undefined) {
    const integration = await integrations.findOwnedOrNull(tenantId, integrationId(tenantId, channel));
    const account = integration?.default_account_id ? await integrationAccounts.findOwnedOrNull(tenantId, integration.default_account_id) : null;
    if (!account) throw NotFoundError(`Default ${KIND[channel]}`);
    return account;
  }
  const route = await findAccountRoute(channel, externalId);
  const account = route?.tenant_id === tenantId ? await integrationAccounts.findOwnedOrNull(tenantId, route.account_id) : null;
  if (!account || account.channel !== channel || account.external_id !== externalId) throw NotFoundError(KIND[channel]);
  return account;
}

/** This organization's account of `channel` by its OmniStream id: 404 for another channel's or organization's. */
export async function findMetaAccountById(tenantId: string, channel: MetaChannel, id: string): Promise<IntegrationAccount> {
  const account = await integrationAccounts.findOwnedOrNull(tenantId, id);
  if (!account || account.channel !== channel) throw NotFoundError(KIND[channel]);
  return account;
}

/** The account's Graph token, decrypted; 422 when it has none. */
export function accountToken(account: IntegrationAccount): string {
  if (!account.access_token) throw new AppError(422, 'state_not_allowed', `The ${KIND[account.channel as MetaChannel]} ${account.external_id} has no access token; connect it again`);
  return decryptSecret(account.access_token, { context: accountSecretContext(account._id, 'access_token') });
}
