/**
 * Meta onboarding: what a front end needs to open Meta's dialogs (never the app secret), and
 * completing them. WhatsApp Embedded Signup: code -> business token, the WABA and its numbers,
 * each number registered, the app subscribed to the WABA's webhooks, the numbers connected.
 * Instagram and Messenger (Facebook Login): code -> user token -> long-lived token -> the
 * user's Pages with their Page tokens (and the Instagram accounts linked to them), connected;
 * for Instagram, the linked Pages subscribed to the app's webhooks too.
 * Meta is asked first and only then is anything claimed, so a refused signup takes nothing.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/embedded-signup/implementation
 * https://developers.facebook.com/docs/messenger-platform/instagram/get-started
 */
import { AppError, BodyFieldError, FieldStateError } from '../errors.js';
import { appContext } from '../context.js';
import type { Acting } from './agents.js';
import { connectMetaAccount, ensureIntegration, labelOf, type FoundAccount, type MetaChannel } from './meta-accounts.js';
import type { IntegrationAccountJson } from './integration-views.js';
import { exchangeCode, graph, graphText, longLivedToken, metaApp, readEdge } from './meta-graph.js';
import { subscribeAppToPage } from './messenger-pages.js';

/** Facebook Login permissions each flow asks for. https://developers.facebook.com/docs/permissions */
const SCOPES: Record<'instagram' | 'messenger', string[]> = {
  instagram: ['instagram_basic', 'instagram_manage_messages', 'pages_show_list', 'pages_manage_metadata', 'business_management'],
  messenger: ['pages_show_list', 'pages_messaging', 'pages_manage_metadata', 'business_management'],
};

/** What the Embedded Signup front end needs (FB.init and FB.login with config_id). */
export function embeddedSignupConfig() {
  const { appId, appSecret, whatsappConfigId, graphVersion } = appContext().config.meta;
  return { configured: Boolean(appId && appSecret && whatsappConfigId), app_id: appId, config_id: whatsappConfigId, graph_version: graphVersion };
}

/** What a Facebook Login front end needs for the Instagram or Messenger dialog. */
export function oauthConfig(channel: 'instagram' | 'messenger') {
  const { appId, appSecret, oauthRedirectUri, graphVersion } = appContext().config.meta;
  return {
    configured: Boolean(appId && appSecret),
    app_id: appId,
    graph_version: graphVersion,
    redirect_uri: oauthRedirectUri,
    scopes: SCOPES[channel],
    dialog_url: `https://www.facebook.com/${graphVersion}/dialog/oauth`,
  };
}

/** Complete Embedded Signup. */
export interface CompleteEmbeddedSignup extends Acting {
  /** The code FB.login answered. */
  code: string;
  /** The WABA the session-info event named; else the one the token was granted (debug_token). */
  wabaId?: string | undefined;
  /** Only these of the WABA's numbers; all of them when absent. */
  phoneNumberIds?: string[] | undefined;
  /** The two-step verification PIN to register the numbers with. */
  pin: string;
  /** The business portfolio, when the session-info event named it. */
  businessId?: string | undefined;
}

/**
 * The WABA a business token was granted, when the front end did not pass the session-info
 * event's: `GET /debug_token` (app token as bearer) lists it under the whatsapp_business_management
 * scope's target_ids. More than one is ambiguous: the caller must name it.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/embedded-signup/manage-accounts
 */
async function grantedWaba(token: string): Promise<string> {
  const { appId, appSecret } = metaApp('WhatsApp Embedded Signup');
  const answer = await graph({ path: '/debug_token', query: { input_token: token }, token: `${appId}|${appSecret}` }, { what: 'read which WhatsApp Business Account the signup shared' });
  const scopes = (answer.data as { granular_scopes?: unknown } | undefined)?.granular_scopes;
  const ids = new Set<string>();
  for (const s of Array.isArray(scopes) ? scopes : []) {
    const { scope, target_ids: targets } = (s ?? {}) as { scope?: unknown; target_ids?: unknown };
    if (scope !== 'whatsapp_business_management' || !Array.isArray(targets)) continue;
    for (const id of targets) if (graphText(id)) ids.add(graphText(id) as string);
  }
  const [only, ...more] = [...ids];
  if (!only) throw FieldStateError('waba_id', 'is needed: the signup shared no WhatsApp Business Account');
  if (more.length > 0) throw FieldStateError('waba_id', `is needed: the signup shared ${ids.size} WhatsApp Business Accounts (${[...ids].join(', ')})`);
  return only;
}

/**
 * Exchanges the code, reads the WABA and its numbers, registers each number, subscribes the app
 * to the WABA and connects the numbers (the first becomes the default of a channel without one).
 */
export async function completeEmbeddedSignup(cmd: CompleteEmbeddedSignup) {
  if (!appContext().config.meta.whatsappConfigId) throw new AppError(503, 'not_configured', 'WhatsApp Embedded Signup is not set up on this server (the operator must set META_WHATSAPP_CONFIG_ID)');
  const token = await exchangeCode('WhatsApp Embedded Signup', cmd.code, null);
  const wabaId = cmd.wabaId ?? (await grantedWaba(token));
  const waba = await graph({ path: `/${wabaId}`, query: { fields: 'id,name' }, token }, { what: 'read the WhatsApp Business Account', field: 'waba_id' });
  if (graphText(waba.id) !== wabaId) throw FieldStateError('waba_id', 'is not a WhatsApp Business Account this signup gave access to', 'ownership_not_proven');
  const numbers = (
    await readEdge(
      { path: `/${wabaId}/phone_numbers`, query: { fields: 'id,display_phone_number,verified_name' }, token },
      { what: 'list the WhatsApp Business Account’s phone numbers', field: 'waba_id' },
    )
  ).filter((n) => graphText(n.id) !== null);
  const wanted = cmd.phoneNumberIds ? numbers.filter((n) => cmd.phoneNumberIds?.includes(graphText(n.id) as string)) : numbers;
  const missing = (cmd.phoneNumberIds ?? []).filter((id) => !numbers.some((n) => graphText(n.id) === id));
  if (missing.length > 0) throw FieldStateError('phone_number_ids', `are not numbers of WhatsApp Business Account ${wabaId}: ${missing.join(', ')}`, 'ownership_not_proven');
  if (wanted.length === 0) throw FieldStateError('waba_id', `has no phone numbers yet; add one in WhatsApp Manager first`);
  for (const n of wanted) {
    // https://developers.facebook.com/documentation/business-messaging/whatsapp/registration
    await graph({ method: 'POST', path: `/${graphText(n.id)}/register`, body: { messaging_product: 'whatsapp', pin: cmd.pin }, token }, { what: `register phone number ${graphText(n.id)}`, field: 'pin' });
  }
  // https://developers.facebook.com/documentation/business-messaging/whatsapp/embedded-signup/webhooks
  await graph({ method: 'POST', path: `/${wabaId}/subscribed_apps`, token }, { what: 'subscribe the app to the WhatsApp Business Account' });
  await ensureIntegration(cmd, 'whatsapp', { waba_id: wabaId, ...(cmd.businessId ? { business_id: cmd.businessId } : {}) });
  const found = wanted.map(
    (n): FoundAccount => ({
      externalId: graphText(n.id) as string,
      name: labelOf(graphText(n.verified_name) ?? graphText(n.display_phone_number), `WhatsApp ${graphText(n.id)}`),
      display: graphText(n.display_phone_number),
      accessToken: token,
      settings: { waba_id: wabaId },
    }),
  );
  const accounts = await connectAll(cmd, 'whatsapp', found);
  return { waba_id: wabaId, waba_name: graphText(waba.name), business_id: cmd.businessId ?? null, subscribed: true, accounts };
}

/** Complete a Facebook Login for Instagram or Messenger. */
export interface CompleteOAuth extends Acting {
  /** The code the dialog redirected with. */
  code: string;
  /** The redirect_uri the dialog was opened with; META_OAUTH_REDIRECT_URI when absent. */
  redirectUri?: string | undefined;
  /** Only these Pages (Messenger) or Instagram accounts; all found when absent. */
  ids?: string[] | undefined;
}

/** The user's Pages with their Page tokens (and linked Instagram accounts), read with a long-lived token. */
async function pagesOf(feature: string, cmd: CompleteOAuth, fields: string): Promise<{ page: { id: string; name: string | null; token: string }; raw: Record<string, unknown> }[]> {
  const redirectUri = cmd.redirectUri ?? appContext().config.meta.oauthRedirectUri;
  if (!redirectUri) throw BodyFieldError('redirect_uri', 'is required: this server has no META_OAUTH_REDIRECT_URI');
  const shortLived = await exchangeCode(feature, cmd.code, redirectUri);
  const token = await longLivedToken(feature, shortLived);
  // https://developers.facebook.com/docs/pages-api/getting-started#get-page-access-token
  const pages = await readEdge({ path: '/me/accounts', query: { fields }, token }, { what: 'list your Facebook Pages' });
  return pages.flatMap((raw) => {
    const id = graphText(raw.id);
    const pageToken = graphText(raw.access_token);
    return id && pageToken ? [{ page: { id, name: graphText(raw.name), token: pageToken }, raw }] : [];
  });
}

function pick<T extends { externalId: string }>(found: T[], ids: string[] | undefined, field: string, what: string): T[] {
  const missing = (ids ?? []).filter((id) => !found.some((f) => f.externalId === id));
  if (missing.length > 0) throw FieldStateError(field, `were not found among the ${what} this login gave access to: ${missing.join(', ')}`, 'ownership_not_proven');
  const chosen = ids ? found.filter((f) => ids.includes(f.externalId)) : found;
  if (chosen.length === 0) throw FieldStateError('code', `gave access to no ${what}`);
  return chosen;
}

async function connectAll(cmd: Acting, channel: MetaChannel, found: FoundAccount[]): Promise<IntegrationAccountJson[]> {
  const accounts: IntegrationAccountJson[] = [];
  for (const f of found) accounts.push(await connectMetaAccount(cmd, channel, f));
  return accounts;
}

/**
 * The Page webhook fields Instagram messaging needs: Meta delivers an Instagram account's
 * messages only while the app is subscribed to the Facebook Page linked to it.
 * https://developers.facebook.com/docs/messenger-platform/instagram/get-started
 */
export const INSTAGRAM_PAGE_FIELDS = ['messages', 'messaging_postbacks', 'messaging_seen', 'message_reactions'] as const;

/** Whether the Page linked to a connected Instagram account is subscribed to the app's webhooks. */
export interface InstagramSubscriptionJson {
  account_id: string;
  instagram_account_id: string;
  page_id: string;
  subscribed: boolean;
  subscribed_fields: string[];
  /** Why not, as the API answers Graph failures (provider_refused, provider_unavailable, provider_error); null when subscribed. */
  error: { code: string; message: string } | null;
}

/**
 * Subscribes the app to the Page of each connected Instagram account, with the Page's token
 * (the same call as POST /api/integrations/messenger/pages/subscribe). The accounts are
 * connected already, so a failure is reported for that account rather than undoing the others;
 * connecting again retries it.
 */
async function subscribeLinkedPages(connected: IntegrationAccountJson[], found: FoundAccount[]): Promise<InstagramSubscriptionJson[]> {
  const out: InstagramSubscriptionJson[] = [];
  for (const account of connected) {
    const f = found.find((x) => x.externalId === account.external_id);
    const pageId = f?.settings?.page_id;
    if (!f || !pageId) continue;
    const row = { account_id: account.id, instagram_account_id: account.external_id, page_id: pageId, subscribed_fields: [...INSTAGRAM_PAGE_FIELDS] };
    try {
      await subscribeAppToPage(pageId, f.accessToken, INSTAGRAM_PAGE_FIELDS);
      out.push({ ...row, subscribed: true, error: null });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      out.push({ ...row, subscribed: false, error: { code: err.code, message: err.message } });
    }
  }
  return out;
}

/**
 * Connects the Instagram professional accounts linked to the user's Pages, each with its Page's
 * token, and subscribes the app to those Pages' webhooks (answering, per account, whether it did).
 */
export async function completeInstagramOAuth(cmd: CompleteOAuth): Promise<{ accounts: IntegrationAccountJson[]; subscriptions: InstagramSubscriptionJson[] }> {
  const pages = await pagesOf('Instagram login', cmd, 'id,name,access_token,instagram_business_account{id,username,name}');
  const found = pages.flatMap(({ page, raw }): FoundAccount[] => {
    const ig = raw.instagram_business_account as Record<string, unknown> | undefined;
    const id = graphText(ig?.id);
    if (!id) return [];
    const username = graphText(ig?.username);
    return [{ externalId: id, name: labelOf(graphText(ig?.name) ?? username, `Instagram ${id}`), display: username ? labelOf(`@${username}`, id) : null, accessToken: page.token, settings: { page_id: page.id } }];
  });
  const chosen = pick(found, cmd.ids, 'account_ids', 'Instagram professional accounts');
  await ensureIntegration(cmd, 'instagram');
  const accounts = await connectAll(cmd, 'instagram', chosen);
  return { accounts, subscriptions: await subscribeLinkedPages(accounts, chosen) };
}

/** Connects the user's Pages, each with its Page token; subscribing them to webhooks is the next step. */
export async function completeMessengerOAuth(cmd: CompleteOAuth): Promise<{ accounts: IntegrationAccountJson[] }> {
  const pages = await pagesOf('Messenger login', cmd, 'id,name,access_token');
  const found = pages.map(({ page }): FoundAccount => ({ externalId: page.id, name: labelOf(page.name, `Page ${page.id}`), display: page.name ? labelOf(page.name, page.id) : null, accessToken: page.token }));
  const chosen = pick(found, cmd.ids, 'page_ids', 'Facebook Pages');
  await ensureIntegration(cmd, 'messenger');
  return { accounts: await connectAll(cmd, 'messenger', chosen) };
}
