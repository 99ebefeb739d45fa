/**
 * Reads shared by the integration services and the tenant-actor handlers that change
 * integrations: the presented integration (with its account count and where its webhook secret
 * comes from) and the presented account (with `is_default` from its integration).
 */
import type { z } from 'zod';
import type { ChannelName } from '../../channels/types.js';
import { appContext } from '../context.js';
import { CHANNELS, findIntegration, integrationId, integrations, platformWebhookSecret, type Integration } from '../models/integration.js';
import { integrationAccounts, type IntegrationAccount } from '../models/integration-account.js';
import { IntegrationBody, IntegrationAccountBody, presentIntegration, presentIntegrationAccount } from '../presenters/integration.js';

/** The presented integration JSON. */
export type IntegrationJson = z.infer<typeof IntegrationBody>;

/** The presented account JSON. */
export type IntegrationAccountJson = z.infer<typeof IntegrationAccountBody>;

const platformSecret = (channel: ChannelName) => platformWebhookSecret(appContext().config, channel) !== null;

/** Presents one channel's integration (or its unconfigured placeholder). */
export async function viewIntegration(tenantId: string, channel: ChannelName, doc: Integration | null): Promise<IntegrationJson> {
  const accountsCount = doc ? await integrationAccounts.count({ tenant_id: tenantId, channel }) : 0;
  return presentIntegration(channel, doc, { accountsCount, platformSecret: platformSecret(channel) });
}

/** Presents every channel's integration, configured or not, in CHANNELS order. */
export async function viewAllIntegrations(tenantId: string): Promise<IntegrationJson[]> {
  // Four `_id` lookups and one scan of the tenant's accounts (a handful) for the counts.
  const [docs, accounts] = await Promise.all([
    Promise.all(CHANNELS.map((c) => integrations.findOwnedOrNull(tenantId, integrationId(tenantId, c)))),
    integrationAccounts.find({ tenant_id: tenantId }),
  ]);
  return CHANNELS.map((channel, i) =>
    presentIntegration(channel, docs[i] ?? null, {
      accountsCount: accounts.filter((a) => a.channel === channel).length,
      platformSecret: platformSecret(channel),
    }),
  );
}

/** The default account id of each channel of a tenant. */
export async function defaultAccountIds(tenantId: string, channels: readonly ChannelName[] = CHANNELS): Promise<Map<ChannelName, string | null>> {
  const docs = await Promise.all(channels.map((c) => findIntegration(tenantId, c)));
  return new Map(channels.map((c, i) => [c, docs[i]?.default_account_id ?? null]));
}

/** Presents an account, reading its integration for `is_default` unless the default is given. */
export async function viewAccount(account: IntegrationAccount, defaultId?: string | null): Promise<IntegrationAccountJson> {
  const id = defaultId === undefined ? (await findIntegration(account.tenant_id, account.channel))?.default_account_id : defaultId;
  return presentIntegrationAccount(account, id === account._id);
}
