/**
 * Channel integrations: one per tenant and channel, holding the channel's settings and secrets.
 * Reads happen here; every write is a message to the tenant actor (actors/tenant/integrations.ts),
 * the single writer of integration documents. Secrets are encrypted here, before the message, so
 * plaintext never travels between processes, and they are never answered back.
 */
import { askTenant } from '../../actors/tenant/index.js';
import type { ChannelName } from '../../channels/types.js';
import type { Principal } from '../auth/principal.js';
import { encryptSecret, secretDigest } from '../crypto/secrets.js';
import { assertNoFieldIssues, NotFoundError } from '../errors.js';
import {
  INTEGRATION_FIELDS,
  integrationId,
  integrations,
  type IntegrationSecretName,
  type IntegrationSettingName,
} from '../models/integration.js';
import { viewAllIntegrations, viewIntegration, type IntegrationJson } from './integration-views.js';

/** Who acts, in which organization. */
interface TenantCommand {
  /** The caller's organization. */
  tenantId: string;
  /** The caller. */
  principal: Principal;
}

/** A command about one channel's integration. */
interface ChannelCommand extends TenantCommand {
  /** The channel. */
  channel: ChannelName;
}

/** The encryption context of an integration secret: a ciphertext only decrypts in its own place. */
export const integrationSecretContext = (tenantId: string, channel: ChannelName, name: IntegrationSecretName) =>
  `integration:${integrationId(tenantId, channel)}:${name}`;

/** Every channel's integration, configured or not, so a client can render them all. */
export async function listIntegrations(cmd: TenantCommand): Promise<{ data: IntegrationJson[] }> {
  return { data: await viewAllIntegrations(cmd.tenantId) };
}

/** One channel's integration; 404 when it is not configured. */
export async function getIntegration(cmd: ChannelCommand): Promise<IntegrationJson> {
  const doc = await integrations.findOwnedOrNull(cmd.tenantId, integrationId(cmd.tenantId, cmd.channel));
  if (!doc) throw NotFoundError(`${cmd.channel} integration`);
  return viewIntegration(cmd.tenantId, cmd.channel, doc);
}

/** Create or change an integration. */
export interface UpsertIntegration extends ChannelCommand {
  /** Absent keeps the stored value (true for a new integration). */
  isEnabled?: boolean | undefined;
  /** Settings to change; null clears, absent keys stay. */
  settings: Partial<Record<IntegrationSettingName, string | null | undefined>>;
  /** Plain secrets to change; null clears, absent keys stay. */
  secrets: Partial<Record<IntegrationSecretName, string | null | undefined>>;
}

/** Refuses settings and secrets that the channel does not use, naming each one. */
function checkApplicable(cmd: UpsertIntegration): void {
  const fields = INTEGRATION_FIELDS[cmd.channel];
  const issues = [
    ...Object.entries(cmd.settings)
      .filter(([k, v]) => v !== undefined && !fields.settings.includes(k as IntegrationSettingName))
      .map(([k]) => ({ in: 'body' as const, field: `settings.${k}`, message: `does not apply to ${cmd.channel} integrations` })),
    ...Object.entries(cmd.secrets)
      .filter(([k, v]) => v !== undefined && !fields.secrets.includes(k as IntegrationSecretName))
      .map(([k]) => ({ in: 'body' as const, field: k, message: `does not apply to ${cmd.channel} integrations` })),
  ];
  assertNoFieldIssues(issues);
}

/** Creates the integration or changes the given fields; `created` is true for a new one. */
export async function upsertIntegration(cmd: UpsertIntegration): Promise<{ created: boolean; integration: IntegrationJson }> {
  checkApplicable(cmd);
  const settings: Partial<Record<IntegrationSettingName, string | null>> = {};
  for (const [key, value] of Object.entries(cmd.settings) as [IntegrationSettingName, string | null | undefined][]) {
    if (value !== undefined) settings[key] = value;
  }
  const secrets: Partial<Record<IntegrationSecretName, string | null>> = {};
  for (const [key, value] of Object.entries(cmd.secrets) as [IntegrationSecretName, string | null | undefined][]) {
    if (value === undefined) continue;
    secrets[key] = value === null ? null : encryptSecret(value, { context: integrationSecretContext(cmd.tenantId, cmd.channel, key) });
  }
  const token = cmd.secrets.verify_token;
  return askTenant(cmd.tenantId, 'integrations.upsert', {
    channel: cmd.channel,
    ...(cmd.isEnabled === undefined ? {} : { isEnabled: cmd.isEnabled }),
    settings,
    secrets,
    ...(token === undefined ? {} : { verifyTokenDigest: token === null ? null : secretDigest(token) }),
  });
}

/** Deletes an integration with its accounts (and their webhook routes); 404 when not configured. */
export async function deleteIntegration(cmd: ChannelCommand): Promise<{ id: string; message: string }> {
  return askTenant(cmd.tenantId, 'integrations.remove', { channel: cmd.channel });
}
