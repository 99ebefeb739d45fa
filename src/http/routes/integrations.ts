/** Integrations: each channel's integration (settings and secrets) and the accounts connected to it. */
import { acting } from '../../services/agents.js';
import { IntegrationAccountBody, IntegrationBody, IntegrationListBody } from '../../presenters/integration.js';
import {
  createAccount,
  deleteAccount,
  getAccount,
  listAccounts,
  setDefaultAccount,
  updateAccount,
} from '../../services/integration-accounts.js';
import { deleteIntegration, getIntegration, listIntegrations, upsertIntegration } from '../../services/integrations.js';
import type { RouteGroup } from '../mount.js';
import { HttpResult } from '../result.js';
import { route } from '../route.js';
import { Id, IdParams, MessageBody } from '../schemas/common.js';
import {
  AccountPage,
  ChannelParams,
  CreateAccountBody,
  ListAccountsQuery,
  UpdateAccountBody,
  UpsertIntegrationBody,
} from './integrations.schema.js';

const SECRETS_NOTE =
  'Secrets (app_secret, verify_token, webhook_signing_secret, access_token, SMTP password) are encrypted at rest and never returned: responses show `has_*` flags instead.';

const OWNERSHIP_NOTE =
  'Proof of ownership comes before the claim, so a refused claim takes nothing: a Meta id is checked with the Graph API ' +
  '(`GET /{id}?fields=id,display_phone_number` for a WhatsApp phone_number_id, `?fields=id,name` for a Page, `?fields=id,username` for an Instagram account, with `access_token` as bearer); ' +
  'Graph must answer that very id, else 422 naming `access_token`. 503 when the Graph API cannot be reached, times out or answers 5xx/429; 502 when it answers something that is not a Graph object (try again later: nothing was claimed). ' +
  'An inbound e-mail address must be at the organization’s own inbound domain, the email integration’s `settings.inbound_domain` ' +
  '(one organization per domain, like a help desk’s forwarding domain; PUT /api/integrations/email answers 409 for a domain another organization has), else 422 naming `external_id`. ';

const CLAIM_ERRORS = {
  409: 'The provider account is already connected, here or in another organization',
  422:
    'The channel is not set up, the access token does not control the Meta id, the address is not at the organization’s inbound domain, ' +
    'the SMTP host is or resolves to a non-public address (settings.smtp.host), or SMTP credentials would travel without TLS (settings.smtp.starttls)',
  502: 'The Graph API answered the ownership check with something unreadable; nothing was claimed',
  503: 'The Graph API could not be reached for the ownership check; nothing was claimed',
};

/** The Integrations group (generic rows; Meta onboarding flows are separate). */
export const integrationRoutes: RouteGroup = {
  group: 'Integrations',
  routes: [
    route({
      method: 'get',
      path: '/api/integrations',
      summary: 'List all channel integrations',
      description:
        'Every channel (whatsapp, messenger, instagram, email, webchat) in that order, configured or not: an unconfigured one has `configured: false` and null id, so a client can render them all. ' +
        SECRETS_NOTE,
      access: 'integrations.view',
      response: IntegrationListBody,
      handler: ({ principal }) => listIntegrations(acting(principal)),
    }),
    route({
      method: 'get',
      path: '/api/integrations/{channel}',
      summary: 'Get a single integration by channel',
      description: '404 when the channel is not configured. ' + SECRETS_NOTE,
      access: 'integrations.view',
      params: ChannelParams,
      response: IntegrationBody,
      handler: ({ principal, params }) => getIntegration({ ...acting(principal), channel: params.channel }),
    }),
    route({
      method: 'put',
      path: '/api/integrations/{channel}',
      summary: 'Create or update an integration (upsert)',
      description:
        'Creates the channel’s integration (201, enabled unless `is_enabled: false`) or changes it (200). Only the fields given change: ' +
        'an absent setting or secret keeps its stored value, null clears it. Fields of another channel are a 400 ' +
        '(Meta channels: settings app_id, waba_id and business_id (WhatsApp), secrets app_secret and verify_token; ' +
        'email: settings provider, inbound_domain, from_name, secret webhook_signing_secret). ' +
        'A stored app_secret verifies this organization’s Meta webhooks instead of META_APP_SECRET. ' +
        'An e-mail `inbound_domain` belongs to one organization: 409 when another one has it. Inbound addresses (e-mail accounts) can only be claimed at it. ' +
        SECRETS_NOTE,
      access: 'integrations.manage',
      params: ChannelParams,
      body: UpsertIntegrationBody,
      response: IntegrationBody,
      alsoSucceeds: { 201: 'The integration was created' },
      errors: { 409: 'The inbound domain is already another organization’s' },
      audit: { action: 'integration.updated', resource: 'integration' },
      handler: async ({ principal, params, body }) => {
        const { created, integration } = await upsertIntegration({
          ...acting(principal),
          channel: params.channel,
          isEnabled: body.is_enabled,
          settings: body.settings ?? {},
          secrets: { app_secret: body.app_secret, verify_token: body.verify_token, webhook_signing_secret: body.webhook_signing_secret },
        });
        return new HttpResult(created ? 201 : 200, integration);
      },
    }),
    route({
      method: 'delete',
      path: '/api/integrations/{channel}',
      summary: 'Delete an integration',
      description:
        'Deletes the integration, its secrets and all of the channel’s accounts; their provider ids are released at once, so webhooks for them are no longer routed to this organization. 404 when not configured.',
      access: 'integrations.manage',
      params: ChannelParams,
      response: MessageBody.extend({ id: Id }),
      audit: { action: 'integration.deleted', resource: 'integration' },
      handler: ({ principal, params }) => deleteIntegration({ ...acting(principal), channel: params.channel }),
    }),
    route({
      method: 'get',
      path: '/api/integration-accounts',
      summary: 'List integration accounts',
      description: 'Oldest first (created_at, then id). Filter by `channel` and `status`. ' + SECRETS_NOTE,
      access: 'integrations.view',
      query: ListAccountsQuery,
      response: AccountPage,
      handler: ({ principal, query }) =>
        listAccounts({ ...acting(principal), channel: query.channel, status: query.status, page: query.page, limit: query.limit }),
    }),
    route({
      method: 'post',
      path: '/api/integration-accounts',
      summary: 'Create an integration account',
      description:
        'Connects a provider account to a configured channel: 422 when the channel’s integration does not exist yet (PUT /api/integrations/{channel} first). ' +
        '`external_id` is the WhatsApp phone_number_id, Facebook Page id or Instagram account id as a string of digits, or the inbound e-mail address. ' +
        'A provider account belongs to one organization: 409 when it is already connected, here or elsewhere. ' +
        'Meta accounts need `access_token`. The first active account of a channel becomes its default. ' +
        OWNERSHIP_NOTE +
        SECRETS_NOTE,
      access: 'integrations.manage',
      body: CreateAccountBody,
      response: IntegrationAccountBody,
      status: 201,
      errors: CLAIM_ERRORS,
      audit: { action: 'integration_account.created', resource: 'integration_account' },
      handler: ({ principal, body }) =>
        createAccount({
          ...acting(principal),
          channel: body.channel,
          externalId: body.external_id,
          name: body.name,
          display: body.display,
          accessToken: body.access_token,
          status: body.status,
          settings: body.settings,
        }),
    }),
    route({
      method: 'get',
      path: '/api/integration-accounts/{id}',
      summary: 'Get an integration account by ID',
      description: SECRETS_NOTE,
      access: 'integrations.view',
      params: IdParams,
      response: IntegrationAccountBody,
      handler: ({ principal, params }) => getAccount({ ...acting(principal), id: params.id }),
    }),
    route({
      method: 'delete',
      path: '/api/integration-accounts/{id}',
      summary: 'Delete an integration account',
      description:
        'Releases its provider id. When it was the channel’s default, the oldest remaining active account becomes the default (or none).',
      access: 'integrations.manage',
      params: IdParams,
      response: MessageBody,
      audit: { action: 'integration_account.deleted', resource: 'integration_account' },
      handler: ({ principal, params }) => deleteAccount({ ...acting(principal), id: params.id }),
    }),
    route({
      method: 'patch',
      path: '/api/integration-accounts/{id}',
      summary: 'Update an integration account',
      description:
        'Only the fields given change. A new `external_id` moves the account to another provider id (409 when taken), which is a claim: ' +
        'it takes the same proof of ownership as creating, with the `access_token` given or else the stored one. ' +
        'Disabling the default hands the default to the oldest active account; enabling an account of a channel without a default makes it the default. ' +
        OWNERSHIP_NOTE +
        SECRETS_NOTE,
      access: 'integrations.manage',
      params: IdParams,
      body: UpdateAccountBody,
      response: IntegrationAccountBody,
      errors: CLAIM_ERRORS,
      audit: { action: 'integration_account.updated', resource: 'integration_account' },
      handler: ({ principal, params, body }) =>
        updateAccount({
          ...acting(principal),
          id: params.id,
          externalId: body.external_id,
          name: body.name,
          display: body.display,
          accessToken: body.access_token,
          status: body.status,
          settings: body.settings,
        }),
    }),
    route({
      method: 'post',
      path: '/api/integration-accounts/{id}/default',
      summary: 'Set an integration account as the default for its channel',
      description: 'The previous default stops being one in the same write. 422 for a disabled account.',
      access: 'integrations.manage',
      params: IdParams,
      response: IntegrationAccountBody,
      errors: { 422: 'A disabled account cannot be the default' },
      audit: { action: 'integration_account.default_set', resource: 'integration_account' },
      handler: ({ principal, params }) => setDefaultAccount({ ...acting(principal), id: params.id }),
    }),
  ],
};
