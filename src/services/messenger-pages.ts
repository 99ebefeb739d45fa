/**
 * A connected Facebook Page's webhooks and Messenger profile, with the Page's own token:
 * subscribing the app to the Page (`POST /{page-id}/subscribed_apps`), disconnecting it
 * (`DELETE` the same, then the account goes or is disabled, the default handed over), and the
 * persistent menu with its Get Started button (`/me/messenger_profile`, where `me` is the Page).
 * https://developers.facebook.com/docs/messenger-platform/webhooks#connect-your-app
 * https://developers.facebook.com/docs/messenger-platform/send-messages/persistent-menu
 */
import { GraphError, callGraph } from '../../channels/meta-graph.js';
import { appContext } from '../context.js';
import { findIntegration } from '../models/integration.js';
import type { IntegrationAccount } from '../models/integration-account.js';
import { getStartedPayload, presentPersistentMenu, type MenuLocale } from '../presenters/meta-profile.js';
import type { Acting } from './agents.js';
import { deleteAccount, updateAccount } from './integration-accounts.js';
import { accountToken, findMetaAccount } from './meta-accounts.js';
import { graph, graphFailure } from './meta-graph.js';

/** One Page's subscription. */
export interface PageSubscriptionJson {
  page_id: string;
  account_id: string;
  subscribed: boolean;
  subscribed_fields: string[];
}

/** Subscribe Pages. */
export interface SubscribePages extends Acting {
  /** Pages of this organization (404 for any other). */
  pageIds: string[];
  fields: string[];
}

/**
 * Subscribes the app to one Page's webhook `fields` with the Page's token; Meta's refusal or
 * absence is an AppError (services/meta-graph.ts), its details naming `field` when given.
 */
export async function subscribeAppToPage(pageId: string, pageToken: string, fields: readonly string[], field?: string): Promise<void> {
  await graph(
    { method: 'POST', path: `/${pageId}/subscribed_apps`, query: { subscribed_fields: fields.join(',') }, token: pageToken },
    { what: `subscribe the app to Page ${pageId}`, ...(field ? { field } : {}) },
  );
}

/** Subscribes the app to each Page's webhooks; every Page is found first, so an unknown one changes nothing. */
export async function subscribePages(cmd: SubscribePages): Promise<{ data: PageSubscriptionJson[] }> {
  const accounts = [];
  for (const id of new Set(cmd.pageIds)) accounts.push(await findMetaAccount(cmd.tenantId, 'messenger', id));
  const data: PageSubscriptionJson[] = [];
  for (const account of accounts) {
    await subscribeAppToPage(account.external_id, accountToken(account), cmd.fields, 'page_ids');
    data.push({ page_id: account.external_id, account_id: account._id, subscribed: true, subscribed_fields: cmd.fields });
  }
  return { data };
}

/** Disconnect a Page. */
export interface DisconnectPage extends Acting {
  pageId: string;
  /** Keep the account, disabled, instead of deleting it. */
  keepAccount: boolean;
}

/**
 * Unsubscribes the app from the Page, then deletes (or disables) its account; a default hands
 * over to the oldest active Page. When Meta refuses the unsubscribe (a token the user revoked),
 * the Page is still disconnected here: Meta no longer sends its webhooks to a revoked app anyway.
 */
export async function disconnectPage(cmd: DisconnectPage) {
  const account = await findMetaAccount(cmd.tenantId, 'messenger', cmd.pageId);
  let unsubscribed = true;
  let reason: string | null = null;
  try {
    await callGraph(appContext().config.meta, { method: 'DELETE', path: `/${account.external_id}/subscribed_apps`, token: accountToken(account) });
  } catch (err) {
    if (!(err instanceof GraphError) || err.kind !== 'refused') throw err instanceof GraphError ? graphFailure(err, { what: `unsubscribe the app from Page ${account.external_id}` }) : err;
    unsubscribed = false;
    reason = err.info.message ?? err.message;
  }
  let message: string;
  if (cmd.keepAccount) {
    await updateAccount({ ...cmd, id: account._id, status: 'disabled' });
    message = `Page ${account.external_id} disconnected; its account is disabled`;
  } else {
    message = (await deleteAccount({ ...cmd, id: account._id })).message;
  }
  const integration = await findIntegration(cmd.tenantId, 'messenger');
  return {
    message,
    page_id: account.external_id,
    account_id: account._id,
    account_deleted: !cmd.keepAccount,
    unsubscribed,
    unsubscribe_error: reason,
    default_account_id: integration?.default_account_id ?? null,
  };
}

/** A Page's persistent menu. */
export interface PersistentMenuCommand extends Acting {
  /** The Page; the default Messenger account when absent. */
  pageId?: string | undefined;
}

/** The Page's Messenger profile fields the menu depends on, as Meta has them. */
async function readMenuProfile(account: IntegrationAccount, token: string): Promise<{ persistent_menu?: unknown; get_started?: unknown }> {
  const answer = await graph(
    { path: '/me/messenger_profile', query: { fields: 'get_started,persistent_menu' }, token },
    { what: `read Page ${account.external_id}’s persistent menu and Get Started button` },
  );
  const [profile] = Array.isArray(answer.data) ? answer.data : [];
  return (profile ?? {}) as { persistent_menu?: unknown; get_started?: unknown };
}

/** The Page's persistent menu and Get Started button as Meta has them (null when not set). */
export async function getPersistentMenu(cmd: PersistentMenuCommand) {
  const account = await findMetaAccount(cmd.tenantId, 'messenger', cmd.pageId);
  const profile = await readMenuProfile(account, accountToken(account));
  return presentPersistentMenu(account, profile.persistent_menu, profile.get_started);
}

/** Set or delete a Page's persistent menu. */
export interface SetPersistentMenu extends PersistentMenuCommand {
  /** null deletes the menu. */
  menu: MenuLocale[] | null;
  /** The Get Started button's postback payload, set with the menu when the Page has no button. */
  getStartedPayload: string;
}

/**
 * Sets the Page's persistent menu, or deletes it (`DELETE /me/messenger_profile` with fields
 * persistent_menu; the Get Started button stays). Meta shows a menu only on a Page with a Get
 * Started button, so the profile is read first and, when the Page has none, the button is set in
 * the same call as the menu; a button the Page has is kept as it is.
 * https://developers.facebook.com/docs/messenger-platform/reference/messenger-profile-api/get-started-button
 */
export async function setPersistentMenu(cmd: SetPersistentMenu) {
  const account = await findMetaAccount(cmd.tenantId, 'messenger', cmd.pageId);
  const token = accountToken(account);
  const profile = await readMenuProfile(account, token);
  if (cmd.menu === null) {
    await graph({ method: 'DELETE', path: '/me/messenger_profile', body: { fields: ['persistent_menu'] }, token }, { what: `delete Page ${account.external_id}’s persistent menu` });
    return presentPersistentMenu(account, null, profile.get_started);
  }
  const getStarted = getStartedPayload(profile.get_started) === null ? { payload: cmd.getStartedPayload } : null;
  await graph(
    { method: 'POST', path: '/me/messenger_profile', body: { ...(getStarted ? { get_started: getStarted } : {}), persistent_menu: cmd.menu }, token },
    { what: `set Page ${account.external_id}’s persistent menu`, field: 'persistent_menu' },
  );
  return presentPersistentMenu(account, cmd.menu, getStarted ?? profile.get_started);
}
