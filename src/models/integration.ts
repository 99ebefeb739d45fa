/**
 * Channel integrations: one document per tenant and channel, `_id` = naturalId('integration',
 * tenant, channel), so reading a tenant's integration is an `_id` lookup and creating it twice
 * is impossible. It holds the channel's non-secret settings, its secrets (encrypted, see
 * src/crypto/secrets.ts) and the channel's default account. Every write goes through the tenant
 * actor (actors/tenant/integrations.ts), the single writer of these documents.
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';
import { caseless, moveUnique, releaseUnique, type UniqueKind } from './unique-claim.js';

/** Every channel, in the order lists show them. */
export const CHANNELS = ['whatsapp', 'messenger', 'instagram', 'email', 'webchat'] as const satisfies readonly ChannelName[];

/** The channels run through a Meta app (Graph API, X-Hub-Signature-256 webhooks). */
export const META_CHANNELS: readonly ChannelName[] = ['whatsapp', 'messenger', 'instagram'];

/** A secret an integration can hold. */
export type IntegrationSecretName = 'app_secret' | 'verify_token' | 'webhook_signing_secret';

/** A non-secret integration setting. */
export type IntegrationSettingName = 'app_id' | 'waba_id' | 'business_id' | 'provider' | 'inbound_domain' | 'from_name';

/** Which settings and secrets apply to each channel. */
export const INTEGRATION_FIELDS: Record<ChannelName, { settings: readonly IntegrationSettingName[]; secrets: readonly IntegrationSecretName[] }> = {
  whatsapp: { settings: ['app_id', 'waba_id', 'business_id'], secrets: ['app_secret', 'verify_token'] },
  messenger: { settings: ['app_id'], secrets: ['app_secret', 'verify_token'] },
  instagram: { settings: ['app_id'], secrets: ['app_secret', 'verify_token'] },
  email: { settings: ['provider', 'inbound_domain', 'from_name'], secrets: ['webhook_signing_secret'] },
  // Set up by PUT /api/webchat/settings; its widget settings live in webchat_settings.
  webchat: { settings: [], secrets: [] },
};

/** Encrypted secrets; null when not set. */
export type IntegrationSecrets = Record<IntegrationSecretName, string | null>;

/** A stored integration. */
export interface Integration extends TenantDoc {
  channel: ChannelName;
  is_enabled: boolean;
  /** Only the settings of INTEGRATION_FIELDS[channel]; an unset one is absent. */
  settings: Partial<Record<IntegrationSettingName, string>>;
  secrets: IntegrationSecrets;
  /** Keyed digest of the verify token (secretDigest), so the webhook handshake can find it. */
  verify_token_digest: string | null;
  /** The account outbound messages use when none is named; null when the channel has no active account. */
  default_account_id: string | null;
}

const schema = baseSchema<Integration>(
  {
    tenant_id: { type: String, required: true },
    channel: { type: String, required: true, enum: [...CHANNELS] },
    is_enabled: { type: Boolean, required: true },
    settings: { type: Schema.Types.Mixed, default: {} },
    secrets: {
      app_secret: { type: String, default: null },
      verify_token: { type: String, default: null },
      webhook_signing_secret: { type: String, default: null },
    },
    verify_token_digest: { type: String, default: null },
    default_account_id: { type: String, default: null },
  },
  'integrations',
);
// Serves the Meta webhook handshake (GET hub.verify_token): which integration uses this token.
schema.index({ channel: 1, verify_token_digest: 1 });
// A WhatsApp webhook that names only its WhatsApp Business Account: the integration set up with it.
schema.index({ channel: 1, 'settings.waba_id': 1, created_at: 1 });

/** The integrations collection. */
export const IntegrationModel = model<Integration>('Integration', schema);

/** Tenant-scoped access to integrations. */
export const integrations = tenantRepo(IntegrationModel, 'Integration');

/** The id of a tenant's integration of one channel. */
export const integrationId = (tenantId: string, channel: ChannelName) => naturalId('integration', tenantId, channel);

/** Writes a whole integration (insert or replace) in one document write. */
export async function saveIntegration(doc: Omit<Integration, 'updated_at'>, now: Date): Promise<Integration> {
  const stored: Integration = { ...doc, updated_at: now };
  await IntegrationModel.replaceOne({ _id: doc._id }, stored, { upsert: true, timestamps: false }).exec();
  return stored;
}

/** Whether any integration of `channel` (any tenant) uses the verify token with this digest. */
export async function verifyDigestInUse(channel: ChannelName, digest: string): Promise<boolean> {
  const found = await IntegrationModel.findOne({ channel, verify_token_digest: digest }, { _id: 1 }).lean().exec();
  return found !== null;
}

/** The integration of a tenant and channel by `_id` (webhook paths, before any caller is known). */
export const findIntegration = (tenantId: string, channel: ChannelName) =>
  IntegrationModel.findById(integrationId(tenantId, channel)).lean<Integration>().exec();

/** The oldest WhatsApp integration (any tenant) set up with this WhatsApp Business Account, or null. */
export const findWabaIntegration = (wabaId: string) =>
  IntegrationModel.findOne({ channel: 'whatsapp', 'settings.waba_id': wabaId }).sort({ created_at: 1 }).lean<Integration>().exec();

/** The error for an account added to a channel whose integration is not set up (422). */
export const integrationMissing = (channel: ChannelName) =>
  new AppError(422, 'state_not_allowed', `The ${channel} integration is not set up; create it with PUT /api/integrations/${channel} before adding accounts`);

/** The platform-wide webhook secret of a channel (META_APP_SECRET or EMAIL_WEBHOOK_SECRET), or null. */
export function platformWebhookSecret(config: Config, channel: ChannelName): string | null {
  return channel === 'email' ? config.email.webhookSecret : config.meta.appSecret;
}

// Inbound domains are unique across the platform: mail for one domain reaches one organization.
const DOMAIN_SCOPE = 'platform';

const inboundDomainKind: UniqueKind = {
  name: 'integration.inbound_domain',
  normalize: caseless,
  async holds(_scope, tenantId, key) {
    const domain = (await findIntegration(tenantId, 'email'))?.settings.inbound_domain;
    return typeof domain === 'string' && caseless(domain) === key;
  },
};

/**
 * Writes an e-mail integration whose `inbound_domain` goes from `from` to `to` (null: none),
 * claiming `to` for the tenant first: rejects with 11000 when another organization holds it.
 * The domain is what makes an inbound address the tenant's own (actors/tenant/integrations.ts).
 */
export const moveInboundDomain = <T>(tenantId: string, from: string | null, to: string | null, write: () => Promise<T>) =>
  moveUnique(inboundDomainKind, DOMAIN_SCOPE, tenantId, from, to, write);

/** Frees the tenant's inbound domain (its e-mail integration was deleted). */
export const releaseInboundDomain = (tenantId: string, domain: string) => releaseUnique(inboundDomainKind, DOMAIN_SCOPE, domain, tenantId);
