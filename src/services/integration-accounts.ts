/**
 * Integration accounts: the provider accounts (WhatsApp numbers, Pages, Instagram accounts,
 * inbound addresses) a tenant connects, plus what the webhook and send paths need from them:
 * `resolveAccount` (which tenant a webhook is for, by `_id` lookups only), `credentialsFor`
 * (decrypted send credentials) and `appSecretFor` / `verifyTokenMatches` (webhook verification).
 *
 * Reads happen here; writes are messages to the tenant actor (actors/tenant/integrations.ts).
 * Secrets are encrypted here, bound to their account and field, before any message is sent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { askTenant } from '../../actors/tenant/index.js';
import type { AccountSettingsPatch, SmtpPatch } from '../../actors/tenant/integrations.js';
import type { ChannelCredentials, ChannelName } from '../../channels/types.js';
import type { Principal } from '../auth/principal.js';
import { appContext } from '../context.js';
import { decryptSecret, encryptSecret, secretDigest } from '../crypto/secrets.js';
import { assertNoFieldIssues, BodyFieldError } from '../errors.js';
import { newId } from '../ids.js';
import { CHANNELS, findIntegration, integrationMissing, META_CHANNELS, platformWebhookSecret, verifyDigestInUse, type Integration } from '../models/integration.js';
import {
  ACCOUNT_FIELDS,
  findAccountById,
  findAccountRoute,
  integrationAccounts,
  type AccountSettingName,
  type AccountStatus,
  type IntegrationAccount,
} from '../models/integration-account.js';
import type { Scoped } from '../models/repo.js';
import { findTenant } from '../models/tenant.js';
import { presentIntegrationAccount } from '../presenters/integration.js';
import { presentPage } from '../presenters/page.js';
import { proveMetaOwnership } from './account-ownership.js';
import { defaultAccountIds, viewAccount, type IntegrationAccountJson } from './integration-views.js';
import { integrationSecretContext } from './integrations.js';
import { checkSmtpSettings, outboundPolicy } from './smtp-settings.js';

/** Who acts, in which organization. */
interface TenantCommand {
  /** The caller's organization. */
  tenantId: string;
  /** The caller. */
  principal: Principal;
}

/** A command about one account. */
interface AccountCommand extends TenantCommand {
  /** The account; another tenant's id is a 404. */
  id: string;
}

/** Account settings as the API accepts them: null clears, absent keeps. */
export interface AccountSettingsInput {
  waba_id?: string | null | undefined;
  page_id?: string | null | undefined;
  from_address?: string | null | undefined;
  from_name?: string | null | undefined;
  smtp?: { host: string; port: number; secure?: boolean | undefined; starttls?: boolean | undefined; user?: string | null | undefined; password?: string | null | undefined } | null | undefined;
}

/** The encryption context of an account secret: a ciphertext only decrypts in its own place. */
export const accountSecretContext = (accountId: string, field: 'access_token' | 'smtp.password') => `integration-account:${accountId}:${field}`;

const issue = (field: string, message: string) => BodyFieldError(field, message);

const EmailAddress = z.email();

/** The canonical provider id of an account: Meta ids as digit strings, e-mail addresses lower-cased. */
export function normalizeExternalId(channel: ChannelName, raw: string): string {
  const value = raw.trim();
  if (channel === 'webchat') throw issue('channel', 'the webchat account is made and kept by PUT /api/webchat/settings');
  if (channel === 'email') {
    const lower = value.toLowerCase();
    if (!EmailAddress.safeParse(lower).success) throw issue('external_id', 'must be the inbound e-mail address of an email account');
    return lower;
  }
  if (!/^[0-9]{1,32}$/.test(value)) {
    throw issue('external_id', `must be the ${channel} account id as a string of digits (Meta ids are strings: as JSON numbers they lose precision)`);
  }
  return value;
}

/** Refuses an access token or settings that the channel does not use, and a Meta account without a token. */
function checkFields(channel: ChannelName, accessToken: string | undefined, settings: AccountSettingsInput | undefined, creating: boolean): void {
  const fields = ACCOUNT_FIELDS[channel];
  const issues = Object.entries(settings ?? {})
    .filter(([k, v]) => v !== undefined && !fields.settings.includes(k as AccountSettingName))
    .map(([k]) => ({ in: 'body' as const, field: `settings.${k}`, message: `does not apply to ${channel} accounts` }));
  if (accessToken !== undefined && !fields.accessToken) issues.push({ in: 'body' as const, field: 'access_token', message: `does not apply to ${channel} accounts` });
  if (creating && fields.accessToken && accessToken === undefined) {
    issues.push({ in: 'body' as const, field: 'access_token', message: `is required for ${channel} accounts (the Graph API token that sends)` });
  }
  assertNoFieldIssues(issues);
}

/** The settings patch the actor stores, with the SMTP password encrypted for this account. */
function settingsPatch(accountId: string, input: AccountSettingsInput | undefined): AccountSettingsPatch {
  const patch: AccountSettingsPatch = {};
  if (!input) return patch;
  for (const key of ['waba_id', 'page_id', 'from_address', 'from_name'] as const) {
    if (input[key] !== undefined) patch[key] = input[key];
  }
  if (input.smtp === null) patch.smtp = null;
  else if (input.smtp) {
    const { host, port, secure, starttls, user, password } = input.smtp;
    // Port 465 speaks TLS from the first byte; 587/25 upgrade with STARTTLS (RFC 8314).
    const smtp: SmtpPatch = { host, port, secure: secure ?? port === 465, starttls: starttls ?? true, user: user ?? null };
    if (password !== undefined) {
      smtp.password = password === null ? null : encryptSecret(password, { context: accountSecretContext(accountId, 'smtp.password') });
    }
    patch.smtp = smtp;
  }
  return patch;
}

const encryptToken = (accountId: string, token: string) => encryptSecret(token, { context: accountSecretContext(accountId, 'access_token') });

/** List accounts. */
export interface ListAccounts extends TenantCommand {
  channel?: ChannelName | undefined;
  status?: AccountStatus | undefined;
  page: number;
  limit: number;
}

/** One page of accounts, oldest first, each with `is_default`. */
export async function listAccounts(q: ListAccounts) {
  const filter: Scoped = { tenant_id: q.tenantId };
  if (q.channel) filter.channel = q.channel;
  if (q.status) filter.status = q.status;
  const [page, defaults] = await Promise.all([
    integrationAccounts.page(filter, { created_at: 1, _id: 1 }, q.page, q.limit),
    defaultAccountIds(q.tenantId, q.channel ? [q.channel] : CHANNELS),
  ]);
  return presentPage(page, (a) => presentIntegrationAccount(a, defaults.get(a.channel) === a._id));
}

/** One account. */
export async function getAccount(cmd: AccountCommand): Promise<IntegrationAccountJson> {
  return viewAccount(await integrationAccounts.findOwned(cmd.tenantId, cmd.id));
}

/** Connect an account. */
export interface CreateAccount extends TenantCommand {
  channel: ChannelName;
  externalId: string;
  name: string;
  display?: string | null | undefined;
  /** Plain; encrypted before it is stored. */
  accessToken?: string | undefined;
  status: AccountStatus;
  settings?: AccountSettingsInput | undefined;
}

/**
 * Connects an account to a configured channel (422 otherwise). Claiming its provider id is
 * exactly-once across organizations: 409 when any organization, this one included, has it;
 * and it takes proof of ownership first (account-ownership.ts): 422 when the token does not
 * control the Meta id, or the address is not at the organization's inbound domain.
 */
export async function createAccount(cmd: CreateAccount): Promise<IntegrationAccountJson> {
  const externalId = normalizeExternalId(cmd.channel, cmd.externalId);
  checkFields(cmd.channel, cmd.accessToken, cmd.settings, true);
  await checkSmtpSettings(cmd.settings?.smtp);
  // checkFields made sure a Meta account comes with its token.
  if (cmd.channel !== 'email' && cmd.channel !== 'webchat' && cmd.accessToken !== undefined) {
    // A channel not set up is refused before anything is asked of Meta (the actor checks again).
    if (!(await findIntegration(cmd.tenantId, cmd.channel))) throw integrationMissing(cmd.channel);
    await proveMetaOwnership(cmd.channel, externalId, cmd.accessToken);
  }
  const accountId = newId();
  return askTenant(cmd.tenantId, 'integration_accounts.create', {
    accountId,
    channel: cmd.channel,
    externalId,
    name: cmd.name,
    display: cmd.display ?? null,
    accessToken: cmd.accessToken === undefined ? null : encryptToken(accountId, cmd.accessToken),
    settings: settingsPatch(accountId, cmd.settings),
    status: cmd.status,
  });
}

/** Change an account. */
export interface UpdateAccount extends AccountCommand {
  externalId?: string | undefined;
  name?: string | undefined;
  display?: string | null | undefined;
  /** Plain; replaces the stored token. */
  accessToken?: string | undefined;
  status?: AccountStatus | undefined;
  settings?: AccountSettingsInput | undefined;
}

/** Changes the given fields; a new external id moves the provider claim (409 when taken). */
export async function updateAccount(cmd: UpdateAccount): Promise<IntegrationAccountJson> {
  const account = await integrationAccounts.findOwned(cmd.tenantId, cmd.id);
  checkFields(account.channel, cmd.accessToken, cmd.settings, false);
  await checkSmtpSettings(cmd.settings?.smtp);
  const externalId = cmd.externalId === undefined ? undefined : normalizeExternalId(account.channel, cmd.externalId);
  if (externalId !== undefined && externalId !== account.external_id && account.channel !== 'email' && account.channel !== 'webchat') {
    // Moving to another Meta id is a claim of it: the token the account will send with must control it.
    const token = cmd.accessToken ?? (account.access_token ? decryptSecret(account.access_token, { context: accountSecretContext(account._id, 'access_token') }) : null);
    if (token === null) throw issue('access_token', `is required to move a ${account.channel} account to another id`);
    await proveMetaOwnership(account.channel, externalId, token);
  }
  return askTenant(cmd.tenantId, 'integration_accounts.update', {
    accountId: account._id,
    ...(externalId === undefined ? {} : { externalId }),
    ...(cmd.name === undefined ? {} : { name: cmd.name }),
    ...(cmd.display === undefined ? {} : { display: cmd.display }),
    ...(cmd.accessToken === undefined ? {} : { accessToken: encryptToken(account._id, cmd.accessToken) }),
    ...(cmd.status === undefined ? {} : { status: cmd.status }),
    ...(cmd.settings === undefined ? {} : { settings: settingsPatch(account._id, cmd.settings) }),
  });
}

/** Disconnects an account and releases its provider id; a default hands over to the oldest active account. */
export async function deleteAccount(cmd: AccountCommand): Promise<{ message: string }> {
  return askTenant(cmd.tenantId, 'integration_accounts.remove', { accountId: cmd.id });
}

/** Makes an active account the default of its channel (422 for a disabled one). */
export async function setDefaultAccount(cmd: AccountCommand): Promise<IntegrationAccountJson> {
  return askTenant(cmd.tenantId, 'integration_accounts.set_default', { accountId: cmd.id });
}

/** The account a webhook is for. */
export interface ResolvedAccount {
  tenantId: string;
  account: IntegrationAccount;
  /** The account's integration (null only after an interrupted delete). */
  integration: Integration | null;
  /** False when the account is disabled or its integration is: store the event, do not process it. */
  enabled: boolean;
}

/**
 * Which tenant and account a webhook for `externalId` on `channel` belongs to, or null for an
 * unknown account. Two `_id` lookups (route, then account), never a scan; plus the integration,
 * a third, for `enabled`.
 */
export async function resolveAccount(channel: ChannelName, externalId: string): Promise<ResolvedAccount | null> {
  const key = channel === 'email' ? externalId.trim().toLowerCase() : externalId.trim();
  const route = await findAccountRoute(channel, key);
  if (!route) return null;
  const account = await findAccountById(route.account_id);
  // A route left by an interrupted change may point at an account that has moved on.
  if (!account || account.tenant_id !== route.tenant_id || account.channel !== channel || account.external_id !== key) return null;
  // A suspended organization's webhooks are skipped until it is resumed.
  const [integration, tenant] = await Promise.all([findIntegration(route.tenant_id, channel), findTenant(route.tenant_id)]);
  const enabled = Boolean(integration?.is_enabled) && account.status === 'active' && tenant?.status === 'active';
  return { tenantId: route.tenant_id, account, integration, enabled };
}

/**
 * What an adapter's send needs, secrets decrypted. E-mail settings carry `from` (the account's
 * name, else the integration's, with its address) and `smtp` as the e-mail adapter reads it.
 */
export function credentialsFor(account: IntegrationAccount, integration: Integration | null = null): ChannelCredentials {
  const { graphUrl, graphVersion } = appContext().config.meta;
  const credentials: ChannelCredentials = { accountExternalId: account.external_id, graphUrl, graphVersion };
  if (account.access_token) {
    credentials.accessToken = decryptSecret(account.access_token, { context: accountSecretContext(account._id, 'access_token') });
  }
  const s = account.settings;
  if (account.channel === 'email') {
    // The shape channels/email/send.ts reads: `{ smtp: { host, port, secure, user, pass }, from }`.
    const smtp = s.smtp;
    const pass = smtp?.password ? decryptSecret(smtp.password, { context: accountSecretContext(account._id, 'smtp.password') }) : null;
    const address = s.from_address ?? account.external_id;
    const name = s.from_name ?? integration?.settings.from_name ?? null;
    credentials.settings = {
      from: name ? `"${name.replace(/["\\]/g, '')}" <${address}>` : address,
      ...(smtp
        ? { smtp: { host: smtp.host, port: smtp.port, secure: smtp.secure ?? smtp.port === 465, starttls: smtp.starttls ?? true, ...(smtp.user ? { user: smtp.user, pass: pass ?? '' } : {}) } }
        : {}),
    };
    // The SMTP host is the tenant's: the send checks where it leads (src/net/outbound-guard.ts).
    credentials.outbound = outboundPolicy();
  } else {
    credentials.settings = Object.fromEntries(ACCOUNT_FIELDS[account.channel].settings.map((k) => [k, s[k] ?? null]));
  }
  return credentials;
}

/**
 * The secret that verifies a tenant's webhooks on a channel: the integration's own app secret
 * (Meta) or webhook signing secret (e-mail), else the platform's META_APP_SECRET /
 * EMAIL_WEBHOOK_SECRET, else null (refuse the webhook).
 */
export async function appSecretFor(tenantId: string, channel: ChannelName): Promise<string | null> {
  return appSecretOf(tenantId, channel, await findIntegration(tenantId, channel));
}

/** The same, from an integration already read (the webhook path resolved it with the account). */
export function appSecretOf(tenantId: string, channel: ChannelName, integration: Integration | null): string | null {
  return ownWebhookSecretOf(tenantId, channel, integration) ?? platformWebhookSecret(appContext().config, channel);
}

/** The integration's own app secret or signing key, decrypted; null when it relies on the platform's. */
export function ownWebhookSecretOf(tenantId: string, channel: ChannelName, integration: Integration | null): string | null {
  const name = channel === 'email' ? 'webhook_signing_secret' : 'app_secret';
  const stored = integration?.secrets[name];
  return stored ? decryptSecret(stored, { context: integrationSecretContext(tenantId, channel, name) }) : null;
}

const sameText = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * Meta's webhook handshake (`hub.verify_token`): true when the token is META_VERIFY_TOKEN or the
 * verify token of any organization's integration of this Meta channel. Never true for e-mail.
 */
export async function verifyTokenMatches(channel: ChannelName, token: string): Promise<boolean> {
  if (!META_CHANNELS.includes(channel) || token === '') return false;
  const platform = appContext().config.meta.verifyToken;
  if (platform && sameText(platform, token)) return true;
  return verifyDigestInUse(channel, secretDigest(token));
}
