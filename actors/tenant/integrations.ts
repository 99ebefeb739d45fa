/**
 * Tenant-actor handlers for integrations and their accounts. An integration document carries
 * settings, secrets and the channel's `default_account_id`; changing any of them is a read,
 * merge and write (secrets re-encrypted, the default settled against the accounts), so every
 * write to these documents runs here, one message at a time per tenant (ARCHITECTURE invariant 4). Because the default is one
 * field of one document, there is never a moment with two defaults.
 *
 * Which tenant owns a provider account is decided across tenants by the `account_routes` `_id`
 * claim (invariant 10), not by this actor: two tenants adding the same phone_number_id at once
 * run in different actors, and exactly one insert wins.
 *
 * Payloads arrive validated, with secrets already encrypted by the service (so plaintext never
 * crosses Redis when an ask is forwarded); replies are presented JSON.
 */
import { forgetAccounts } from '../../src/services/account-cache.js';
import type { ChannelName } from '../../channels/types.js';
import { AppError, ConflictError, isDuplicateKey, NotFoundError, StateError } from '../../src/errors.js';
import {
  integrationId,
  integrationMissing,
  integrations,
  moveInboundDomain,
  releaseInboundDomain,
  saveIntegration,
  type Integration,
  type IntegrationSecretName,
  type IntegrationSecrets,
  type IntegrationSettingName,
} from '../../src/models/integration.js';
import {
  deleteAccountRoute,
  findAccountRoute,
  insertAccountRoute,
  integrationAccounts,
  reassignAccountRoute,
  type AccountSettings,
  type AccountStatus,
  type IntegrationAccount,
  type SmtpSettings,
} from '../../src/models/integration-account.js';
import { viewAccount, viewIntegration, type IntegrationAccountJson, type IntegrationJson } from '../../src/services/integration-views.js';
import { assertChannelAccountWithinPlan } from './plan-limits.js';

/** Create or change a channel's integration. Absent keys keep their stored value; null clears. */
export interface UpsertIntegrationMessage {
  channel: ChannelName;
  isEnabled?: boolean;
  settings: Partial<Record<IntegrationSettingName, string | null>>;
  /** Encrypted values. */
  secrets: Partial<Record<IntegrationSecretName, string | null>>;
  /** The keyed digest of a new verify token (null when it is cleared); absent when unchanged. */
  verifyTokenDigest?: string | null;
}

/** Name a channel. */
export interface ChannelMessage {
  channel: ChannelName;
}

/** Name an account. */
export interface AccountMessage {
  accountId: string;
}

/** SMTP settings to store; an absent password keeps the stored one, null removes it. */
export type SmtpPatch = Omit<SmtpSettings, 'password'> & { password?: string | null };

/** Account settings to change: absent keys stay, null clears; `smtp` replaces the whole server. */
export type AccountSettingsPatch = { [K in Exclude<keyof AccountSettings, 'smtp'>]?: string | null } & { smtp?: SmtpPatch | null };

/** Add an account to a configured channel. */
export interface CreateAccountMessage {
  /** Chosen by the service, which binds the encrypted secrets to it. */
  accountId: string;
  channel: ChannelName;
  externalId: string;
  name: string;
  display: string | null;
  /** Encrypted. */
  accessToken: string | null;
  settings: AccountSettingsPatch;
  status: AccountStatus;
}

/** Change an account; absent fields stay. */
export interface UpdateAccountMessage extends AccountMessage {
  externalId?: string;
  name?: string;
  display?: string | null;
  /** Encrypted. */
  accessToken?: string;
  status?: AccountStatus;
  settings?: AccountSettingsPatch;
}

const ACCOUNT_KIND: Record<ChannelName, string> = {
  whatsapp: 'WhatsApp phone number',
  messenger: 'Facebook Page',
  instagram: 'Instagram account',
  email: 'e-mail address',
  webchat: 'website chat widget',
};

const NEW_SECRETS: IntegrationSecrets = { app_secret: null, verify_token: null, webhook_signing_secret: null };

/** Creates or changes an integration; `created` tells the route whether to answer 201. */
async function upsertIntegration(tenantId: string, msg: UpsertIntegrationMessage): Promise<{ created: boolean; integration: IntegrationJson }> {
  const id = integrationId(tenantId, msg.channel);
  const stored = await integrations.findOwnedOrNull(tenantId, id);
  const now = new Date();
  const settings: Integration['settings'] = { ...(stored?.settings ?? (msg.channel === 'email' ? { provider: 'mailgun' } : {})) };
  for (const [key, value] of Object.entries(msg.settings) as [IntegrationSettingName, string | null][]) {
    if (value === null) delete settings[key];
    else settings[key] = value;
  }
  const secrets: IntegrationSecrets = { ...NEW_SECRETS, ...stored?.secrets };
  for (const [key, value] of Object.entries(msg.secrets) as [IntegrationSecretName, string | null][]) secrets[key] = value;
  const write = () => saveIntegration(
    {
      _id: id,
      tenant_id: tenantId,
      channel: msg.channel,
      is_enabled: msg.isEnabled ?? stored?.is_enabled ?? true,
      settings,
      secrets,
      verify_token_digest: msg.verifyTokenDigest !== undefined ? msg.verifyTokenDigest : (stored?.verify_token_digest ?? null),
      default_account_id: stored?.default_account_id ?? null,
      created_at: stored?.created_at ?? now,
    },
    now,
  );
  let doc: Integration;
  try {
    doc = await moveInboundDomain(tenantId, stored?.settings.inbound_domain ?? null, settings.inbound_domain ?? null, write);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    throw new AppError(409, 'conflict', 'This inbound domain is already the inbound domain of another organization', [
      { in: 'body', field: 'settings.inbound_domain', message: 'belongs to another organization' },
    ]);
  }
  return { created: !stored, integration: await viewIntegration(tenantId, msg.channel, doc) };
}

/** Deletes an account and then its route (a crash in between leaves a claim this tenant can take back). */
async function dropAccount(a: IntegrationAccount): Promise<void> {
  await integrationAccounts.remove(a.tenant_id, a._id);
  await deleteAccountRoute(a.channel, a.external_id, a._id);
}

/** Deletes an integration with all its accounts and their routes. */
async function removeIntegration(tenantId: string, msg: ChannelMessage): Promise<{ id: string; message: string }> {
  const id = integrationId(tenantId, msg.channel);
  const stored = await integrations.findOwnedOrNull(tenantId, id);
  if (!stored) throw NotFoundError(`${msg.channel} integration`);
  const accounts = await integrationAccounts.find({ tenant_id: tenantId, channel: msg.channel });
  for (const a of accounts) await dropAccount(a);
  // The integration goes last, so an interrupted delete can simply be repeated.
  await integrations.remove(tenantId, id);
  const domain = stored.settings.inbound_domain;
  if (domain) await releaseInboundDomain(tenantId, domain);
  const n = accounts.length;
  return { id, message: `The ${msg.channel} integration and its ${n} account${n === 1 ? '' : 's'} were deleted` };
}

/**
 * Claims `externalId` on `channel` for an account of this tenant: 409 when another organization
 * holds it, or when another account of this organization does.
 */
async function claimRoute(tenantId: string, channel: ChannelName, externalId: string, accountId: string): Promise<void> {
  const route = { channel, external_id: externalId, tenant_id: tenantId, account_id: accountId };
  // Two attempts: the holder may release the claim between our insert and our read.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await insertAccountRoute(route)) return;
    const held = await findAccountRoute(channel, externalId);
    if (!held) continue;
    if (held.tenant_id !== tenantId) {
      throw ConflictError(`This ${ACCOUNT_KIND[channel]} is already connected to another organization`);
    }
    const holder = await integrationAccounts.findOwnedOrNull(tenantId, held.account_id);
    if (holder && holder.channel === channel && holder.external_id === externalId) {
      throw ConflictError(`This ${ACCOUNT_KIND[channel]} is already connected to this organization as "${holder.name}"`);
    }
    // A claim left by an interrupted change of this tenant. Only this actor writes this
    // tenant's routes, so nothing else can be using it: take it over.
    await reassignAccountRoute(route);
    return;
  }
  throw ConflictError(`This ${ACCOUNT_KIND[channel]} is already connected to another organization`);
}

/** The oldest active account of a channel other than `excludeId`, or null. */
async function oldestActive(tenantId: string, channel: ChannelName, excludeId: string): Promise<string | null> {
  const [next] = await integrationAccounts.find(
    { tenant_id: tenantId, channel, status: 'active', _id: { $ne: excludeId } },
    { created_at: 1, _id: 1 },
    1,
  );
  return next?._id ?? null;
}

/**
 * Keeps the default right after `account` was created or changed: an active account becomes
 * the default of a channel that has none; a default that is no longer active hands over to the
 * oldest active account. Answers the channel's default after the change.
 */
async function settleDefault(integration: Integration, account: IntegrationAccount): Promise<string | null> {
  let id = integration.default_account_id;
  if (id === account._id && account.status !== 'active') id = await oldestActive(account.tenant_id, account.channel, account._id);
  else if (!id && account.status === 'active') id = account._id;
  if (id !== integration.default_account_id) await integrations.update(integration.tenant_id, integration._id, { default_account_id: id });
  return id;
}

/** Applies a settings patch to stored settings. */
function mergeSettings(stored: AccountSettings, patch: AccountSettingsPatch): AccountSettings {
  const next: AccountSettings = { ...stored };
  for (const key of ['waba_id', 'page_id', 'from_address', 'from_name'] as const) {
    const value = patch[key];
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  }
  if (patch.smtp === null) delete next.smtp;
  else if (patch.smtp) {
    const { password, ...server } = patch.smtp;
    next.smtp = { ...server, password: password === undefined ? (stored.smtp?.password ?? null) : password };
  }
  return next;
}

/** The integration an account belongs to; 422 when the channel is not set up. */
async function requireIntegration(tenantId: string, channel: ChannelName): Promise<Integration> {
  const integration = await integrations.findOwnedOrNull(tenantId, integrationId(tenantId, channel));
  if (!integration) throw integrationMissing(channel);
  return integration;
}

/**
 * An inbound address is the tenant's own only at the tenant's inbound domain (one organization's
 * per domain, claimed with it): anything else is a 422 naming `external_id`. Checked here, where
 * the integration is read, so a concurrent change of the domain cannot slip between.
 */
function requireOwnDomain(integration: Integration, address: string): void {
  const domain = integration.settings.inbound_domain?.toLowerCase();
  const at = address.lastIndexOf('@');
  const own = domain !== undefined && address.slice(at + 1).toLowerCase() === domain;
  if (own) return;
  const message = domain
    ? `must be an address at this organization’s inbound domain ${domain}`
    : 'needs this organization’s inbound domain: set settings.inbound_domain with PUT /api/integrations/email first';
  throw new AppError(422, 'ownership_not_proven', `The e-mail address ${message}`, [{ in: 'body', field: 'external_id', message }]);
}

/** Adds an account: claim the provider account, store it, make it the default of an empty channel. */
async function createAccount(tenantId: string, msg: CreateAccountMessage): Promise<IntegrationAccountJson> {
  const integration = await requireIntegration(tenantId, msg.channel);
  if (msg.channel === 'email') requireOwnDomain(integration, msg.externalId);
  await assertChannelAccountWithinPlan(tenantId);
  await claimRoute(tenantId, msg.channel, msg.externalId, msg.accountId);
  let account: IntegrationAccount;
  try {
    account = await integrationAccounts.insert({
      _id: msg.accountId,
      tenant_id: tenantId,
      channel: msg.channel,
      external_id: msg.externalId,
      name: msg.name,
      display: msg.display,
      access_token: msg.accessToken,
      settings: mergeSettings({}, msg.settings),
      status: msg.status,
    });
  } catch (err) {
    await deleteAccountRoute(msg.channel, msg.externalId, msg.accountId);
    throw err;
  }
  return viewAccount(account, await settleDefault(integration, account));
}

/** Changes an account; a new external id moves the claim (new route first, then the old one goes). */
async function updateAccount(tenantId: string, msg: UpdateAccountMessage): Promise<IntegrationAccountJson> {
  const account = await integrationAccounts.findOwned(tenantId, msg.accountId);
  const set: Partial<IntegrationAccount> = {};
  if (msg.name !== undefined) set.name = msg.name;
  if (msg.display !== undefined) set.display = msg.display;
  if (msg.accessToken !== undefined) set.access_token = msg.accessToken;
  if (msg.status !== undefined) set.status = msg.status;
  if (msg.settings) set.settings = mergeSettings(account.settings, msg.settings);
  const newExternalId = msg.externalId !== undefined && msg.externalId !== account.external_id ? msg.externalId : null;
  if (newExternalId && account.channel === 'email') requireOwnDomain(await requireIntegration(tenantId, 'email'), newExternalId);
  if (newExternalId) {
    await claimRoute(tenantId, account.channel, newExternalId, account._id);
    set.external_id = newExternalId;
  }
  if (Object.keys(set).length === 0) return viewAccount(account);
  let updated: IntegrationAccount;
  try {
    updated = await integrationAccounts.update(tenantId, account._id, set);
  } catch (err) {
    if (newExternalId) await deleteAccountRoute(account.channel, newExternalId, account._id);
    throw err;
  }
  if (newExternalId) await deleteAccountRoute(account.channel, account.external_id, account._id);
  const integration = await integrations.findOwnedOrNull(tenantId, integrationId(tenantId, account.channel));
  return viewAccount(updated, integration ? await settleDefault(integration, updated) : null);
}

/** Deletes an account; when it was the default, the oldest remaining active account takes over. */
async function removeAccount(tenantId: string, msg: AccountMessage): Promise<{ message: string }> {
  const account = await integrationAccounts.findOwned(tenantId, msg.accountId);
  await dropAccount(account);
  const integration = await integrations.findOwnedOrNull(tenantId, integrationId(tenantId, account.channel));
  if (integration?.default_account_id !== account._id) return { message: `Integration account "${account.name}" deleted` };
  const next = await oldestActive(tenantId, account.channel, account._id);
  await integrations.update(tenantId, integration._id, { default_account_id: next });
  return {
    message: next
      ? `Integration account "${account.name}" deleted; the oldest remaining active account is now the ${account.channel} default`
      : `Integration account "${account.name}" deleted; ${account.channel} has no default account now`,
  };
}

/** Makes an active account its channel's default. */
async function setDefaultAccount(tenantId: string, msg: AccountMessage): Promise<IntegrationAccountJson> {
  const account = await integrationAccounts.findOwned(tenantId, msg.accountId);
  if (account.status !== 'active') throw StateError('A disabled account cannot be the default; set its status to active first');
  const integration = await requireIntegration(tenantId, account.channel);
  if (integration.default_account_id !== account._id) {
    await integrations.update(tenantId, integration._id, { default_account_id: account._id });
  }
  return viewAccount(account, account._id);
}

/** A handler whose every run, finished or failed half way, clears the webhook path's account cache. */
function changing<M, R>(handler: (tenantId: string, msg: M) => Promise<R>): (tenantId: string, msg: M) => Promise<R> {
  return async (tenantId, msg) => {
    try {
      return await handler(tenantId, msg);
    } finally {
      await forgetAccounts();
    }
  };
}

/** The integration message types of the tenant actor. */
export const integrationHandlers = {
  'integrations.upsert': changing(upsertIntegration),
  'integrations.remove': changing(removeIntegration),
  'integration_accounts.create': changing(createAccount),
  'integration_accounts.update': changing(updateAccount),
  'integration_accounts.remove': changing(removeAccount),
  'integration_accounts.set_default': changing(setDefaultAccount),
};
