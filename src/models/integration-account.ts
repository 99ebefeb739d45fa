/**
 * Integration accounts (a WhatsApp phone number, a Facebook Page, an Instagram account, an
 * inbound e-mail address) and the global routes that find their tenant when a webhook arrives.
 *
 * A route's `_id` is naturalId('account-route', channel, external id): inserting it is the
 * exactly-once claim of that provider account across every tenant, and resolving a webhook is
 * an `_id` lookup (ARCHITECTURE invariant 10).
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { baseSchema, type BaseDoc, type TenantDoc } from './base.js';
import { CHANNELS } from './integration.js';
import { tenantRepo } from './repo.js';

/** Whether an account receives and sends. */
export const ACCOUNT_STATUSES = ['active', 'disabled'] as const;

/** An account's status. */
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** Outbound e-mail through an SMTP server. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); false = STARTTLS (required when there is a user). */
  secure: boolean;
  /** With `secure` false: false stays in plain text (only without a user); absent = true. */
  starttls?: boolean;
  user: string | null;
  /** Encrypted. */
  password: string | null;
}

/** Channel-specific account settings; only those that apply to the channel are present. */
export interface AccountSettings {
  /** WhatsApp: the WhatsApp Business Account the number belongs to. */
  waba_id?: string;
  /** Instagram: the Facebook Page linked to the Instagram account. */
  page_id?: string;
  /** E-mail: the sender address (the inbound address when absent). */
  from_address?: string;
  /** E-mail: the sender name (the integration's from_name when absent). */
  from_name?: string;
  /** E-mail: outbound SMTP server. */
  smtp?: SmtpSettings;
}

/** An account setting name. */
export type AccountSettingName = keyof AccountSettings;

/** Which settings apply to each channel's accounts, and whether they carry an access token. */
export const ACCOUNT_FIELDS: Record<ChannelName, { settings: readonly AccountSettingName[]; accessToken: boolean }> = {
  whatsapp: { settings: ['waba_id'], accessToken: true },
  messenger: { settings: [], accessToken: true },
  instagram: { settings: ['page_id'], accessToken: true },
  email: { settings: ['from_address', 'from_name', 'smtp'], accessToken: false },
  // One account per tenant, made by PUT /api/webchat/settings: the widget's sockets are its provider.
  webchat: { settings: [], accessToken: false },
};

/** A stored integration account. */
export interface IntegrationAccount extends TenantDoc {
  channel: ChannelName;
  /** phone_number_id, Page id, Instagram account id (digit strings), or a lower-cased e-mail address. */
  external_id: string;
  name: string;
  /** display_phone_number, Page name, @username or address, as people know the account. */
  display: string | null;
  /** Encrypted. */
  access_token: string | null;
  settings: AccountSettings;
  status: AccountStatus;
}

const schema = baseSchema<IntegrationAccount>(
  {
    tenant_id: { type: String, required: true },
    channel: { type: String, required: true, enum: [...CHANNELS] },
    external_id: { type: String, required: true },
    name: { type: String, required: true },
    display: { type: String, default: null },
    access_token: { type: String, default: null },
    settings: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, required: true, enum: [...ACCOUNT_STATUSES] },
  },
  'integration_accounts',
);
// Serves the account list (by channel, oldest first) and "oldest remaining account" for the default.
schema.index({ tenant_id: 1, channel: 1, created_at: 1, _id: 1 });

// A WhatsApp webhook that names only its WhatsApp Business Account (template status updates): its accounts, oldest first.
schema.index({ 'settings.waba_id': 1, channel: 1, created_at: 1 });

/** The integration_accounts collection. */
export const IntegrationAccountModel = model<IntegrationAccount>('IntegrationAccount', schema);

/** Tenant-scoped access to integration accounts. */
export const integrationAccounts = tenantRepo(IntegrationAccountModel, 'Integration account');

/** The account with this id in any tenant (webhook resolution, after the route named the tenant). */
export const findAccountById = (id: string) => IntegrationAccountModel.findById(id).lean<IntegrationAccount>().exec();

/**
 * The oldest WhatsApp account (any tenant) whose settings name this WhatsApp Business Account,
 * or null: how a webhook naming only its WABA (`message_template_status_update`) finds its tenant.
 */
export const findWabaAccount = (wabaId: string) =>
  IntegrationAccountModel.findOne({ 'settings.waba_id': wabaId, channel: 'whatsapp' }).sort({ created_at: 1 }).lean<IntegrationAccount>().exec();

/** Which tenant and account a provider account belongs to. Not tenant-scoped: it is how the tenant is found. */
export interface AccountRoute extends BaseDoc {
  channel: ChannelName;
  external_id: string;
  tenant_id: string;
  account_id: string;
}

const routeSchema = baseSchema<AccountRoute>(
  {
    channel: { type: String, required: true, enum: [...CHANNELS] },
    external_id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    account_id: { type: String, required: true },
  },
  'account_routes',
);

/** The account_routes collection. */
export const AccountRouteModel = model<AccountRoute>('AccountRoute', routeSchema);

/** The route id of a provider account. */
export const accountRouteId = (channel: ChannelName, externalId: string) => naturalId('account-route', channel, externalId);

/** The route of a provider account, or null. */
export const findAccountRoute = (channel: ChannelName, externalId: string) =>
  AccountRouteModel.findById(accountRouteId(channel, externalId)).lean<AccountRoute>().exec();

/** The fields of a new route. */
export type NewAccountRoute = Pick<AccountRoute, 'channel' | 'external_id' | 'tenant_id' | 'account_id'>;

/** Claims a provider account for a tenant's account; false when someone already holds it. */
export async function insertAccountRoute(route: NewAccountRoute): Promise<boolean> {
  try {
    await AccountRouteModel.insertMany([{ _id: accountRouteId(route.channel, route.external_id), ...route }]);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Points an existing route at another account of the same tenant (taking over a leftover claim). */
export async function reassignAccountRoute(route: NewAccountRoute): Promise<void> {
  await AccountRouteModel.updateOne(
    { _id: accountRouteId(route.channel, route.external_id) },
    { $set: { tenant_id: route.tenant_id, account_id: route.account_id } },
  ).exec();
}

/** Releases a provider account, only if its route still points at this account. */
export async function deleteAccountRoute(channel: ChannelName, externalId: string, accountId: string): Promise<void> {
  await AccountRouteModel.deleteOne({ _id: accountRouteId(channel, externalId), account_id: accountId }).exec();
}
