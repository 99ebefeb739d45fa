/**
 * Schemas of the Integrations group (integrations per channel and integration accounts).
 * Bodies accept the fields of every channel; the services refuse, with a 400 naming the field,
 * those that do not apply to the channel at hand (e.g. `waba_id` on e-mail).
 */
import { z } from 'zod';
import { CHANNELS } from '../../models/integration.js';
import { ACCOUNT_STATUSES } from '../../models/integration-account.js';
import { pageOf, PageQuery } from '../schemas/common.js';
import { IntegrationAccountBody } from '../../presenters/integration.js';

/** A channel name. */
export const Channel = z.enum(CHANNELS, { message: `must be one of ${CHANNELS.join(', ')}` });

/** `/{channel}` path parameters. */
export const ChannelParams = z.strictObject({ channel: Channel });

/** A Meta object id (app, WABA, business, Page): digits in a string, never a JSON number (ids exceed 2^53). */
export const MetaId = z
  .string({ message: 'must be a string of digits (Meta ids are strings: as JSON numbers they lose precision)' })
  .regex(/^[0-9]{1,32}$/, 'must be a string of digits (Meta ids are strings: as JSON numbers they lose precision)');

const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** A DNS host name, lower-cased. */
const Hostname = z.string().trim().toLowerCase().regex(HOSTNAME, 'must be a host name such as mg.example.com');

/** A short label without control characters. */
const Label = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^[^\p{C}]+$/u, 'must not contain control characters');

/** A secret as pasted from a provider dashboard: no whitespace. */
const SecretText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^\S+$/, 'must not contain whitespace');

/** Non-secret integration settings; null clears one, absent keeps it. */
export const IntegrationSettingsInput = z.strictObject({
  app_id: MetaId.nullable().optional().describe('Meta channels: the Meta app id'),
  waba_id: MetaId.nullable().optional().describe('WhatsApp: the WhatsApp Business Account id'),
  business_id: MetaId.nullable().optional().describe('WhatsApp: the Meta Business (portfolio) id'),
  provider: z.enum(['mailgun']).optional().describe('E-mail: the inbound provider (default mailgun)'),
  inbound_domain: Hostname.nullable().optional().describe('E-mail: the domain the provider receives mail for'),
  from_name: Label(100).nullable().optional().describe('E-mail: default sender name'),
});

/** PUT /api/integrations/{channel} */
export const UpsertIntegrationBody = z.strictObject({
  is_enabled: z.boolean().optional().describe('Default true when the integration is created; absent keeps the stored value'),
  settings: IntegrationSettingsInput.optional().describe('Only the keys given change'),
  app_secret: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, 'must be the 32-hex-digit App Secret from the Meta app dashboard')
    .nullable()
    .optional()
    .describe('Meta channels: your own Meta app’s secret; it verifies this organization’s webhooks instead of the platform’s. Write-only; null clears.'),
  verify_token: SecretText(8, 256)
    .nullable()
    .optional()
    .describe('Meta channels: the token you enter in the Meta app’s webhook settings. Write-only; null clears.'),
  webhook_signing_secret: SecretText(8, 256)
    .nullable()
    .optional()
    .describe('E-mail: the provider’s HTTP webhook signing key (Mailgun). Write-only; null clears.'),
});

/** Outbound SMTP server of an e-mail account. */
export const SmtpInput = z.strictObject({
  host: z
    .string()
    .trim()
    .toLowerCase()
    .max(253)
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a host name or IPv4 address')
    .describe(
      'SMTP server host name or IPv4 address. It must resolve to public addresses only (422 otherwise): loopback, private, link-local and other non-public addresses are refused unless the operator allows their network (OUTBOUND_ALLOWED_NETWORKS)',
    ),
  port: z.number().int().min(1).max(65535).default(587),
  secure: z.boolean().optional().describe('TLS from the first byte; default true on port 465, else STARTTLS'),
  starttls: z
    .boolean()
    .optional()
    .describe(
      'With secure false: upgrade with STARTTLS (default true). false sends in plain text and is refused (422) with a user or password: credentials only travel over TLS, and a server that does not offer STARTTLS is never sent them',
    ),
  user: Label(320).nullable().optional(),
  password: SecretText(1, 1024)
    .nullable()
    .optional()
    .describe('Write-only; on update an absent password keeps the stored one, null removes it'),
});

/** Channel settings of an account; null clears one, absent keeps it. */
export const AccountSettingsInput = z.strictObject({
  waba_id: MetaId.nullable().optional().describe('WhatsApp: the WhatsApp Business Account of the number'),
  page_id: MetaId.nullable().optional().describe('Instagram: the linked Facebook Page'),
  from_address: z.email({ message: 'must be an e-mail address' }).toLowerCase().nullable().optional().describe('E-mail: sender address'),
  from_name: Label(100).nullable().optional().describe('E-mail: sender name'),
  smtp: SmtpInput.nullable().optional().describe('E-mail: outbound SMTP server, replaced as a whole; null removes it'),
});

const ExternalId = z
  .string({ message: 'must be a string (Meta ids as JSON numbers lose precision)' })
  .trim()
  .min(1)
  .max(320)
  .describe('WhatsApp phone_number_id, Facebook Page id, Instagram account id (digit strings) or the inbound e-mail address');

const AccessToken = SecretText(16, 4096).describe('Meta channels: the Graph API access token (system-user or Page token). Write-only.');

/** POST /api/integration-accounts */
export const CreateAccountBody = z.strictObject({
  channel: Channel,
  external_id: ExternalId,
  name: Label(100),
  display: Label(100).nullable().optional().describe('display_phone_number, Page name or @username'),
  access_token: AccessToken.optional().describe('Required for Meta channels; not used by e-mail. Write-only.'),
  status: z.enum(ACCOUNT_STATUSES).default('active'),
  settings: AccountSettingsInput.optional(),
});

/** PATCH /api/integration-accounts/{id} */
export const UpdateAccountBody = z.strictObject({
  external_id: ExternalId.optional().describe('Moves the account to another provider account (409 when that one is taken)'),
  name: Label(100).optional(),
  display: Label(100).nullable().optional(),
  access_token: AccessToken.optional().describe('Replaces the stored token. Write-only.'),
  status: z.enum(ACCOUNT_STATUSES).optional().describe('disabled: the account stops receiving and sending; a default hands over to the oldest active account'),
  settings: AccountSettingsInput.optional().describe('Only the keys given change'),
});

/** GET /api/integration-accounts */
export const ListAccountsQuery = PageQuery.extend({
  channel: Channel.optional().describe('Only this channel’s accounts'),
  status: z.enum(ACCOUNT_STATUSES).optional().describe('Only accounts in this status'),
});

/** A page of accounts. */
export const AccountPage = pageOf(IntegrationAccountBody);
