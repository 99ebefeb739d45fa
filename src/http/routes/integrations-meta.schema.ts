/**
 * Schemas of the Integrations group's Meta onboarding and Page tools: Embedded Signup, Facebook
 * Login for Instagram and Messenger, Page subscriptions, persistent menu and WhatsApp health.
 * Meta ids are digit strings (as JSON numbers they lose precision).
 */
import { z } from 'zod';
import { IntegrationAccountBody } from '../../presenters/integration.js';
import { Id } from '../schemas/common.js';
import { MetaId } from './integrations.schema.js';

/** An authorization code as Meta hands it to the front end (write-only, never stored). */
const AuthCode = z
  .string()
  .min(8)
  .max(4096)
  .regex(/^[A-Za-z0-9_#.\-=+/]+$/, 'must be the authorization code exactly as Meta returned it')
  .describe('The authorization code Meta returned to the front end; exchanged once, never stored or shown');

/** The Page webhook fields OmniStream reads (messages, postbacks, delivery and read receipts, echoes, reactions). */
const PAGE_FIELDS = ['messages', 'messaging_postbacks', 'message_deliveries', 'message_reads', 'message_echoes', 'message_reactions'] as const;

const MetaIds = (what: string) => z.array(MetaId).min(1).max(50).describe(what);

/** GET /api/integrations/whatsapp/embedded-signup/config */
export const EmbeddedSignupConfigBody = z.object({
  configured: z.boolean().describe('false: the server has no META_APP_ID, META_APP_SECRET or META_WHATSAPP_CONFIG_ID, and completing answers 503'),
  app_id: z.string().nullable().describe('For FB.init({ appId })'),
  config_id: z.string().nullable().describe('For FB.login({ config_id, response_type: "code", override_default_response_type: true })'),
  graph_version: z.string().describe('For FB.init({ version })'),
});

/** POST /api/integrations/whatsapp/embedded-signup */
export const EmbeddedSignupBody = z.strictObject({
  code: AuthCode,
  waba_id: MetaId.optional().describe('The WhatsApp Business Account id from the signup’s session-info message event; when absent, the one the signup shared (422 when it shared several)'),
  phone_number_ids: MetaIds('Only these numbers of the WABA (from the session-info event); every number of the WABA when absent').optional(),
  pin: z.string().regex(/^[0-9]{6}$/, 'must be 6 digits').describe('The two-step verification PIN to register the numbers with (set now if the number has none)'),
  business_id: MetaId.optional().describe('The business portfolio id from the session-info event, kept in the integration’s settings'),
});

/** The answer of a completed Embedded Signup. */
export const EmbeddedSignupResult = z.object({
  waba_id: z.string(),
  waba_name: z.string().nullable(),
  business_id: z.string().nullable(),
  subscribed: z.boolean().describe('The app is subscribed to the WABA’s webhooks'),
  accounts: z.array(IntegrationAccountBody).describe('The numbers connected (registered with Cloud API), in Meta’s order'),
});

/** GET /api/integrations/{instagram|messenger}/oauth/config */
export const OAuthConfigBody = z.object({
  configured: z.boolean().describe('false: the server has no META_APP_ID or META_APP_SECRET, and connecting answers 503'),
  app_id: z.string().nullable().describe('The dialog’s client_id'),
  graph_version: z.string(),
  redirect_uri: z.string().nullable().describe('META_OAUTH_REDIRECT_URI: the dialog’s redirect_uri (null: the front end passes its own in the connect call)'),
  scopes: z.array(z.string()).describe('The dialog’s scope, comma-joined'),
  dialog_url: z.string().describe('Facebook Login’s dialog: open it with client_id, redirect_uri, scope, response_type=code and a state of your own'),
});

const RedirectUri = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048).describe('The redirect_uri the dialog was opened with (Meta checks they match); META_OAUTH_REDIRECT_URI when absent');

/** POST /api/integrations/instagram/oauth */
export const InstagramOAuthBody = z.strictObject({
  code: AuthCode,
  redirect_uri: RedirectUri.optional(),
  account_ids: MetaIds('Only these Instagram account ids; every Instagram professional account linked to your Pages when absent').optional(),
});

/** POST /api/integrations/messenger/oauth */
export const MessengerOAuthBody = z.strictObject({
  code: AuthCode,
  redirect_uri: RedirectUri.optional(),
  page_ids: MetaIds('Only these Page ids; every Page the login gave access to when absent').optional(),
});

/** The accounts an OAuth connect connected. */
export const ConnectedAccounts = z.object({ accounts: z.array(IntegrationAccountBody) });

/** The Instagram accounts connected, and whether each one's linked Page is subscribed to the app's webhooks. */
export const InstagramConnected = z.object({
  accounts: z.array(IntegrationAccountBody),
  subscriptions: z
    .array(
      z.object({
        account_id: Id,
        instagram_account_id: z.string(),
        page_id: z.string().describe('The Facebook Page linked to the Instagram account'),
        subscribed: z.boolean().describe('false: Meta refused or could not be reached; the account is connected but receives no messages until it is connected again'),
        subscribed_fields: z.array(z.string()),
        error: z
          .object({ code: z.string().describe('provider_refused, provider_unavailable or provider_error, as the API’s Graph failures'), message: z.string().describe('Meta’s message, code and fbtrace_id') })
          .nullable()
          .describe('Why the Page is not subscribed; null when it is'),
      }),
    )
    .describe('One per account connected, in the same order'),
});

/** POST /api/integrations/messenger/pages/subscribe */
export const SubscribePagesBody = z.strictObject({
  page_ids: MetaIds('Connected Pages of this organization'),
  subscribed_fields: z
    .array(z.enum(PAGE_FIELDS))
    .min(1)
    .default([...PAGE_FIELDS])
    .describe('Webhook fields to subscribe to; every field OmniStream reads when absent'),
});

/** The subscriptions made. */
export const PageSubscriptions = z.object({
  data: z.array(z.object({ page_id: z.string(), account_id: Id, subscribed: z.boolean(), subscribed_fields: z.array(z.string()) })),
});

/** `/pages/{pageId}` path parameters. */
export const PageParams = z.strictObject({ pageId: MetaId });

/** POST /api/integrations/messenger/pages/{pageId}/disconnect */
export const DisconnectPageBody = z.strictObject({
  keep_account: z.boolean().default(false).describe('true: disable the account instead of deleting it (its conversations keep their account)'),
});

/** The answer of a disconnect. */
export const DisconnectedPage = z.object({
  message: z.string(),
  page_id: z.string(),
  account_id: Id,
  account_deleted: z.boolean(),
  unsubscribed: z.boolean().describe('false: Meta refused the unsubscribe (e.g. the user revoked the app); the Page is disconnected here all the same'),
  unsubscribe_error: z.string().nullable(),
  default_account_id: Id.nullable().describe('The Messenger default account after the change'),
});

const MenuTitle = z.string().trim().min(1).max(30);

/** One menu item: a postback (payload to the webhook) or a web URL. https://developers.facebook.com/docs/messenger-platform/send-messages/persistent-menu */
const MenuItemInput = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('postback'), title: MenuTitle, payload: z.string().min(1).max(1000) }),
  z.strictObject({
    type: z.literal('web_url'),
    title: MenuTitle,
    url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048),
    webview_height_ratio: z.enum(['compact', 'tall', 'full']).optional(),
  }),
]);

const MenuLocaleInput = z.strictObject({
  locale: z
    .string()
    .regex(/^(default|[a-z]{2}_[A-Z]{2})$/, 'must be default or a locale such as en_US')
    .default('default'),
  composer_input_disabled: z.boolean().default(false),
  call_to_actions: z.array(MenuItemInput).min(1).max(20),
});

/** POST /api/integrations/messenger/persistent-menu */
export const SetPersistentMenuBody = z.strictObject({
  page_id: MetaId.optional().describe('The Page; the default Messenger account when absent'),
  persistent_menu: z
    .array(MenuLocaleInput)
    .min(1)
    .max(50)
    .nullable()
    .superRefine((menu, ctx) => {
      if (!menu) return;
      if (!menu.some((m) => m.locale === 'default')) ctx.addIssue({ code: 'custom', message: 'must include a menu for the default locale (Meta requires one)' });
      const seen = new Set<string>();
      menu.forEach((m, i) => {
        if (seen.has(m.locale)) ctx.addIssue({ code: 'custom', path: [i, 'locale'], message: `repeats locale ${m.locale}` });
        seen.add(m.locale);
      });
    })
    .describe('The menu per locale (one for default required); null deletes the menu'),
  get_started_payload: z
    .string()
    .min(1)
    .max(1000)
    .default('GET_STARTED')
    .describe('The postback payload of the Get Started button set with the menu when the Page has none (Meta shows a menu only with one); a button the Page has is kept'),
});

/** GET /api/integrations/messenger/persistent-menu */
export const PersistentMenuQuery = z.strictObject({ page_id: MetaId.optional().describe('The Page; the default Messenger account when absent') });

const MenuItemBody = z.object({
  type: z.enum(['postback', 'web_url']),
  title: z.string(),
  payload: z.string().optional(),
  url: z.string().optional(),
  webview_height_ratio: z.enum(['compact', 'tall', 'full']).optional(),
});

/** A Page's persistent menu. */
export const PersistentMenuBody = z.object({
  page_id: z.string(),
  account_id: Id,
  persistent_menu: z
    .array(z.object({ locale: z.string(), composer_input_disabled: z.boolean(), call_to_actions: z.array(MenuItemBody) }))
    .nullable()
    .describe('null: the Page has no persistent menu'),
  get_started: z
    .object({ payload: z.string().describe('The postback payload the webhook receives when a person taps Get Started') })
    .nullable()
    .describe('The Page’s Get Started button; null: it has none, and Meta shows no persistent menu'),
});

/** GET /api/integrations/whatsapp/health */
export const WhatsAppHealthQuery = z.strictObject({ account_id: Id.optional().describe('The WhatsApp account; the channel’s default when absent') });

/** A number's health as Meta reported it. */
export const WhatsAppHealthBody = z.object({
  account_id: Id,
  phone_number_id: z.string(),
  waba_id: z.string().nullable(),
  display_phone_number: z.string().nullable(),
  verified_name: z.string().nullable(),
  quality_rating: z.string().nullable().describe('GREEN, YELLOW, RED or UNKNOWN'),
  messaging_limit_tier: z.string().nullable().describe('TIER_250, TIER_1K, TIER_10K, TIER_100K, TIER_UNLIMITED'),
  throughput_level: z.string().nullable().describe('STANDARD or HIGH (messages per second the number may send)'),
  health_status: z
    .object({
      can_send_message: z.string().nullable().describe('AVAILABLE, LIMITED or BLOCKED'),
      entities: z.array(
        z.object({
          entity_type: z.string().nullable().describe('PHONE_NUMBER, WABA, BUSINESS or APP'),
          id: z.string().nullable(),
          can_send_message: z.string().nullable(),
          errors: z.array(z.object({ error_code: z.number().nullable(), error_description: z.string().nullable(), possible_solution: z.string().nullable() })),
        }),
      ),
    })
    .nullable(),
  checked_at: z.iso.datetime().describe('When Meta was asked (now: nothing is cached)'),
});
