/**
 * Integrations and integration accounts as they leave the API. Secrets never do: each one is
 * shown only as a `has_*` flag, so no response can carry a token, app secret or password.
 */
import { z } from 'zod';
import type { ChannelName } from '../../channels/types.js';
import { CHANNELS, INTEGRATION_FIELDS, type Integration } from '../models/integration.js';
import { ACCOUNT_FIELDS, ACCOUNT_STATUSES, type IntegrationAccount } from '../models/integration-account.js';
import { iso } from './page.js';

/** A channel name. */
export const ChannelEnum = z.enum(CHANNELS);

/** The non-secret settings of an integration; only the channel's own keys appear. */
export const IntegrationSettingsBody = z.object({
  app_id: z.string().nullable().optional().describe('Meta channels: the Meta app id'),
  waba_id: z.string().nullable().optional().describe('WhatsApp: the WhatsApp Business Account id'),
  business_id: z.string().nullable().optional().describe('WhatsApp: the Meta Business (portfolio) id'),
  provider: z.string().nullable().optional().describe('E-mail: the inbound provider (mailgun)'),
  inbound_domain: z.string().nullable().optional().describe('E-mail: the domain the provider receives mail for'),
  from_name: z.string().nullable().optional().describe('E-mail: the default sender name'),
});

/** The integration JSON shape; an unconfigured channel has `configured: false` and null id and times. */
export const IntegrationBody = z.object({
  id: z.uuid().nullable(),
  channel: ChannelEnum,
  configured: z.boolean().describe('false = this channel has not been set up (GET /api/integrations lists every channel)'),
  is_enabled: z.boolean().describe('false = webhooks for this channel are accepted but not processed, and nothing is sent'),
  settings: IntegrationSettingsBody,
  has_app_secret: z.boolean().describe('Meta channels: an app secret of this organization’s own Meta app is stored'),
  has_verify_token: z.boolean().describe('Meta channels: a webhook verify token is stored'),
  has_webhook_signing_secret: z.boolean().describe('E-mail: the provider’s webhook signing key is stored'),
  webhook_secret_source: z
    .enum(['integration', 'platform'])
    .nullable()
    .describe('Which secret verifies this channel’s webhooks: this integration’s, the platform’s (META_APP_SECRET / EMAIL_WEBHOOK_SECRET), or none (null: webhooks are refused)'),
  default_account_id: z.uuid().nullable().describe('The account used when a send names none'),
  accounts_count: z.number().int(),
  created_at: z.iso.datetime().nullable(),
  updated_at: z.iso.datetime().nullable(),
});

/** Every channel's integration (GET /api/integrations). */
export const IntegrationListBody = z.object({ data: z.array(IntegrationBody) });

/** Outbound SMTP settings without the password. */
export const SmtpBody = z.object({
  host: z.string(),
  port: z.number().int(),
  secure: z.boolean(),
  starttls: z.boolean().describe('With secure false: upgrade to TLS with STARTTLS (always, when there is a user)'),
  user: z.string().nullable(),
  has_password: z.boolean(),
});

/** An account's channel settings; only the channel's own keys appear. */
export const AccountSettingsBody = z.object({
  waba_id: z.string().nullable().optional().describe('WhatsApp: the WhatsApp Business Account of the number'),
  page_id: z.string().nullable().optional().describe('Instagram: the linked Facebook Page'),
  from_address: z.string().nullable().optional().describe('E-mail: sender address (the inbound address when null)'),
  from_name: z.string().nullable().optional().describe('E-mail: sender name (the integration’s from_name when null)'),
  smtp: SmtpBody.nullable().optional().describe('E-mail: outbound SMTP server; null = none configured'),
});

/** The integration account JSON shape. */
export const IntegrationAccountBody = z.object({
  id: z.uuid(),
  channel: ChannelEnum,
  external_id: z
    .string()
    .describe('WhatsApp phone_number_id, Facebook Page id or Instagram account id (digit strings), or the inbound e-mail address'),
  name: z.string(),
  display: z.string().nullable().describe('display_phone_number, Page name, @username'),
  status: z.enum(ACCOUNT_STATUSES),
  is_default: z.boolean().describe('The channel’s default account for outbound messages'),
  has_access_token: z.boolean(),
  settings: AccountSettingsBody,
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** What an integration presentation needs besides the document. */
export interface IntegrationExtras {
  accountsCount: number;
  /** Whether the platform-wide webhook secret of the channel is configured. */
  platformSecret: boolean;
}

/** Shapes an integration, or the placeholder of an unconfigured channel when `doc` is null. */
export function presentIntegration(channel: ChannelName, doc: Integration | null, extras: IntegrationExtras): z.infer<typeof IntegrationBody> {
  const fields = INTEGRATION_FIELDS[channel];
  const settings = Object.fromEntries(fields.settings.map((k) => [k, doc?.settings[k] ?? null]));
  const tenantSecret = channel === 'email' ? doc?.secrets.webhook_signing_secret : doc?.secrets.app_secret;
  return {
    id: doc?._id ?? null,
    channel,
    configured: doc !== null,
    is_enabled: doc?.is_enabled ?? false,
    settings,
    has_app_secret: Boolean(doc?.secrets.app_secret),
    has_verify_token: Boolean(doc?.secrets.verify_token),
    has_webhook_signing_secret: Boolean(doc?.secrets.webhook_signing_secret),
    webhook_secret_source: tenantSecret ? 'integration' : extras.platformSecret ? 'platform' : null,
    default_account_id: doc?.default_account_id ?? null,
    accounts_count: extras.accountsCount,
    created_at: iso(doc?.created_at),
    updated_at: iso(doc?.updated_at),
  };
}

/** Shapes an account; `isDefault` comes from its integration's default_account_id. */
export function presentIntegrationAccount(a: IntegrationAccount, isDefault: boolean): z.infer<typeof IntegrationAccountBody> {
  const settings: z.infer<typeof AccountSettingsBody> = {};
  for (const key of ACCOUNT_FIELDS[a.channel].settings) {
    if (key === 'smtp') {
      const smtp = a.settings.smtp;
      settings.smtp = smtp
        ? { host: smtp.host, port: smtp.port, secure: smtp.secure, starttls: smtp.starttls ?? true, user: smtp.user ?? null, has_password: Boolean(smtp.password) }
        : null;
    } else {
      settings[key] = a.settings[key] ?? null;
    }
  }
  return {
    id: a._id,
    channel: a.channel,
    external_id: a.external_id,
    name: a.name,
    display: a.display ?? null,
    status: a.status,
    is_default: isDefault,
    has_access_token: Boolean(a.access_token),
    settings,
    created_at: iso(a.created_at) as string,
    updated_at: iso(a.updated_at) as string,
  };
}
