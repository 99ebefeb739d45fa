/**
 * Integrations: connecting Meta accounts through Meta's own dialogs (WhatsApp Embedded Signup,
 * Facebook Login for Instagram and Messenger), a Page's webhooks and persistent menu, and a
 * WhatsApp number's health. The generic integration and account rows are in integrations.ts.
 */
import { acting } from '../../services/agents.js';
import { disconnectPage, getPersistentMenu, setPersistentMenu, subscribePages } from '../../services/messenger-pages.js';
import { completeEmbeddedSignup, completeInstagramOAuth, completeMessengerOAuth, embeddedSignupConfig, oauthConfig } from '../../services/meta-onboarding.js';
import { readWhatsAppHealth } from '../../services/whatsapp-health.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import {
  ConnectedAccounts,
  DisconnectedPage,
  DisconnectPageBody,
  EmbeddedSignupBody,
  EmbeddedSignupConfigBody,
  EmbeddedSignupResult,
  InstagramConnected,
  InstagramOAuthBody,
  MessengerOAuthBody,
  OAuthConfigBody,
  PageParams,
  PageSubscriptions,
  PersistentMenuBody,
  PersistentMenuQuery,
  SetPersistentMenuBody,
  SubscribePagesBody,
  WhatsAppHealthBody,
  WhatsAppHealthQuery,
} from './integrations-meta.schema.js';

const GRAPH_NOTE =
  'Graph API calls time out (META_GRAPH_TIMEOUT_MS) and are retried with backoff on 5xx, 429 and network failures (META_GRAPH_RETRIES). ' +
  'When Meta refuses, the answer is a 422 `provider_refused` carrying Meta’s message, code and fbtrace_id; unreachable, still failing or rate limited, a 503 `provider_unavailable`; an unreadable answer, a 502 `provider_error`. ';

const SECRETS_NOTE = 'Tokens are encrypted at rest and never returned (accounts show `has_access_token`). ';

const CLAIM_NOTE =
  'Meta is asked first, then each account is claimed with the same proof of ownership as POST /api/integration-accounts (the token must read that id): ' +
  'an account this organization already has gets the new token and becomes active; one another organization has is a 409. The channel’s integration is created when missing; the first active account becomes the default. ';

const GRAPH_ERRORS = {
  422: 'Meta refused (its message, code and fbtrace_id in the answer), or the account has no token',
  502: 'The Graph API gave an unreadable answer',
  503: 'The Graph API is unreachable, failing or rate limited',
};

const ONBOARDING_ERRORS = {
  ...GRAPH_ERRORS,
  409: 'An account found is already connected to another organization',
  422: 'Meta refused (e.g. an expired or used code, a wrong PIN), the ids asked for were not found, or the token does not control an account',
  503: 'The server has no Meta app configured (code not_configured), or the Graph API is unreachable, failing or rate limited',
};

/** The Integrations group's Meta onboarding and Page rows. */
export const metaIntegrationRoutes: RouteGroup = {
  group: 'Integrations',
  routes: [
    route({
      method: 'get',
      path: '/api/integrations/whatsapp/health',
      summary: 'Fetch WhatsApp account health from Meta Graph API',
      description:
        'Reads the number’s quality_rating, messaging_limit_tier, throughput and health_status live from the Graph API (`GET /{phone-number-id}`) with the account’s token; `checked_at` says when. ' +
        '`account_id` picks the account (404 for another organization’s or a non-WhatsApp one); else the channel’s default (404 when there is none). ' +
        GRAPH_NOTE,
      access: 'integrations.view',
      query: WhatsAppHealthQuery,
      response: WhatsAppHealthBody,
      errors: { 404: 'No such WhatsApp account in the caller’s organization, or no default', ...GRAPH_ERRORS },
      handler: ({ principal, query }) => readWhatsAppHealth({ ...acting(principal), accountId: query.account_id }),
    }),
    route({
      method: 'get',
      path: '/api/integrations/whatsapp/embedded-signup/config',
      summary: 'Get WhatsApp Embedded Signup config',
      description: 'What the front end passes to the Facebook JS SDK (app id, Embedded Signup configuration id, Graph version). Never the app secret.',
      access: 'integrations.manage',
      response: EmbeddedSignupConfigBody,
      handler: async () => embeddedSignupConfig(),
    }),
    route({
      method: 'post',
      path: '/api/integrations/whatsapp/embedded-signup',
      summary: 'Complete WhatsApp Embedded Signup',
      description:
        'Exchanges the code for a business token (`GET /oauth/access_token`), reads the WABA (`waba_id`, else the one the token was granted, from `GET /debug_token`) and its phone numbers, registers each number chosen (`POST /{phone-number-id}/register` with the PIN), ' +
        'subscribes the app to the WABA’s webhooks (`POST /{waba-id}/subscribed_apps`) and connects the numbers. ' +
        CLAIM_NOTE +
        GRAPH_NOTE +
        SECRETS_NOTE,
      access: 'integrations.manage',
      body: EmbeddedSignupBody,
      response: EmbeddedSignupResult,
      errors: ONBOARDING_ERRORS,
      audit: { action: 'integration.whatsapp_signup_completed', resource: 'integration', target: ({ result }) => result.waba_id },
      handler: ({ principal, body }) =>
        completeEmbeddedSignup({ ...acting(principal), code: body.code, wabaId: body.waba_id, phoneNumberIds: body.phone_number_ids, pin: body.pin, businessId: body.business_id }),
    }),
    route({
      method: 'get',
      path: '/api/integrations/instagram/oauth/config',
      summary: 'Get Instagram OAuth app config',
      description: 'What the front end needs to open Facebook Login for Instagram messaging (app id, redirect URI, scopes). Never the app secret.',
      access: 'integrations.manage',
      response: OAuthConfigBody,
      handler: async () => oauthConfig('instagram'),
    }),
    route({
      method: 'post',
      path: '/api/integrations/instagram/oauth',
      summary: 'Connect Instagram account via OAuth',
      description:
        'Exchanges the code for a user token and that for a long-lived one (`fb_exchange_token`), reads your Pages with their Page tokens and linked Instagram professional accounts (`GET /me/accounts`), ' +
        'and connects each Instagram account with its Page’s token (settings.page_id). ' +
        'Meta delivers Instagram messages only while the app is subscribed to the linked Page, so each Page is then subscribed (`POST /{page-id}/subscribed_apps` with the Page token, fields messages, messaging_postbacks, messaging_seen, message_reactions); ' +
        '`subscriptions` says per account whether it was, and when Meta refused or could not be reached, why (the account stays connected; connecting again retries). ' +
        CLAIM_NOTE +
        GRAPH_NOTE +
        SECRETS_NOTE,
      access: 'integrations.manage',
      body: InstagramOAuthBody,
      response: InstagramConnected,
      errors: ONBOARDING_ERRORS,
      audit: { action: 'integration.instagram_connected', resource: 'integration', target: () => null },
      handler: ({ principal, body }) => completeInstagramOAuth({ ...acting(principal), code: body.code, redirectUri: body.redirect_uri, ids: body.account_ids }),
    }),
    route({
      method: 'get',
      path: '/api/integrations/messenger/oauth/config',
      summary: 'Get Messenger OAuth app config',
      description: 'What the front end needs to open Facebook Login for Messenger (app id, redirect URI, scopes). Never the app secret.',
      access: 'integrations.manage',
      response: OAuthConfigBody,
      handler: async () => oauthConfig('messenger'),
    }),
    route({
      method: 'post',
      path: '/api/integrations/messenger/oauth',
      summary: 'Connect Messenger via Facebook Login OAuth',
      description:
        'Exchanges the code for a user token and that for a long-lived one, reads your Pages with their Page tokens (`GET /me/accounts`) and connects them. ' +
        'They receive messages once subscribed (POST /api/integrations/messenger/pages/subscribe). ' +
        CLAIM_NOTE +
        GRAPH_NOTE +
        SECRETS_NOTE,
      access: 'integrations.manage',
      body: MessengerOAuthBody,
      response: ConnectedAccounts,
      errors: ONBOARDING_ERRORS,
      audit: { action: 'integration.messenger_connected', resource: 'integration', target: () => null },
      handler: ({ principal, body }) => completeMessengerOAuth({ ...acting(principal), code: body.code, redirectUri: body.redirect_uri, ids: body.page_ids }),
    }),
    route({
      method: 'post',
      path: '/api/integrations/messenger/pages/subscribe',
      summary: 'Subscribe selected Facebook Pages to Messenger webhooks',
      description:
        'Subscribes the app to each Page’s webhook fields (`POST /{page-id}/subscribed_apps`) with the Page’s token. Every Page must be a connected Page of this organization (404 otherwise, before anything is asked of Meta). ' +
        GRAPH_NOTE,
      access: 'integrations.manage',
      body: SubscribePagesBody,
      response: PageSubscriptions,
      errors: { 404: 'A Page is not connected to the caller’s organization', ...GRAPH_ERRORS },
      audit: { action: 'integration_account.pages_subscribed', resource: 'integration_account', target: () => null },
      handler: ({ principal, body }) => subscribePages({ ...acting(principal), pageIds: body.page_ids, fields: body.subscribed_fields }),
    }),
    route({
      method: 'post',
      path: '/api/integrations/messenger/pages/{pageId}/disconnect',
      summary: 'Disconnect a Messenger page',
      description:
        'Unsubscribes the app from the Page (`DELETE /{page-id}/subscribed_apps`), then deletes its account (or, with `keep_account`, disables it) and releases the Page id; a default hands over to the oldest active Page. ' +
        'When Meta refuses the unsubscribe (a revoked token), the Page is disconnected here all the same and `unsubscribed` is false; when Meta cannot be reached, nothing changes (503). ' +
        GRAPH_NOTE,
      access: 'integrations.manage',
      params: PageParams,
      body: DisconnectPageBody,
      response: DisconnectedPage,
      errors: { 502: GRAPH_ERRORS[502], 503: GRAPH_ERRORS[503], 422: 'The account has no token' },
      audit: { action: 'integration_account.page_disconnected', resource: 'integration_account', target: ({ result }) => result.account_id },
      handler: ({ principal, params, body }) => disconnectPage({ ...acting(principal), pageId: params.pageId, keepAccount: body.keep_account }),
    }),
    route({
      method: 'get',
      path: '/api/integrations/messenger/persistent-menu',
      summary: 'Get Messenger persistent menu',
      description:
        'The Page’s persistent menu and Get Started button as Meta has them (`GET /me/messenger_profile?fields=get_started,persistent_menu` with the Page token); each null when not set (Meta shows no menu without the button). ' +
        GRAPH_NOTE,
      access: 'integrations.view',
      query: PersistentMenuQuery,
      response: PersistentMenuBody,
      errors: { 404: 'The Page is not connected to the caller’s organization, or there is no default Messenger account', ...GRAPH_ERRORS },
      handler: ({ principal, query }) => getPersistentMenu({ ...acting(principal), pageId: query.page_id }),
    }),
    route({
      method: 'post',
      path: '/api/integrations/messenger/persistent-menu',
      summary: 'Set or delete Messenger persistent menu',
      description:
        'Sets the Page’s persistent menu (`POST /me/messenger_profile`), one per locale with one for `default`, up to 20 items of type postback or web_url each; `persistent_menu: null` deletes it (`DELETE /me/messenger_profile`). ' +
        'Meta shows a menu only on Pages with a Get Started button, so the profile is read first (`GET /me/messenger_profile?fields=get_started,persistent_menu`) and a Page without one gets it in the same call as the menu, with payload `get_started_payload` (default GET_STARTED); a button the Page has is kept, and deleting the menu keeps it too. ' +
        GRAPH_NOTE,
      access: 'integrations.manage',
      body: SetPersistentMenuBody,
      response: PersistentMenuBody,
      errors: { 404: 'The Page is not connected to the caller’s organization, or there is no default Messenger account', ...GRAPH_ERRORS },
      audit: { action: 'integration_account.persistent_menu_set', resource: 'integration_account', target: ({ result }) => result.account_id },
      handler: ({ principal, body }) => setPersistentMenu({ ...acting(principal), pageId: body.page_id, menu: body.persistent_menu, getStartedPayload: body.get_started_payload }),
    }),
  ],
};
