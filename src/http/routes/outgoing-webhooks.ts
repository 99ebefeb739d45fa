/** Outgoing Webhooks: a tenant's URLs that receive its events, signed, in order, with retries. */
import { acting } from '../../services/agents.js';
import {
  OutgoingWebhookWithSecretBody,
  presentOutgoingWebhook,
  presentOutgoingWebhookDelivery,
  presentOutgoingWebhookWithSecret,
  UpdatedOutgoingWebhookBody,
  WebhookTestResultBody,
} from '../../presenters/outgoing-webhook.js';
import { presentPage } from '../../presenters/page.js';
import {
  createOutgoingWebhook,
  deleteOutgoingWebhook,
  listEventTypes,
  listOutgoingWebhooks,
  listWebhookDeliveries,
  MAX_OUTGOING_WEBHOOKS,
  testOutgoingWebhook,
  updateOutgoingWebhook,
} from '../../services/outgoing-webhooks.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import { CreateOutgoingWebhookBody, DeliveryPage, EventTypeList, ListDeliveriesQuery, ListOutgoingWebhooksQuery, OutgoingWebhookPage, UpdateOutgoingWebhookBody } from './outgoing-webhooks.schema.js';

const DELIVERY =
  'Each event of a subscribed type is POSTed as JSON `{ id, event, seq, tenant_id, created_at, data }` (data as the realtime event carries it) with headers ' +
  '`x-omnistream-event`, `x-omnistream-delivery` (the id: dedupe on it, delivery is at least once) and `x-omnistream-signature: t=<unix seconds>,v1=<hex>`, ' +
  'where v1 = HMAC-SHA256(secret, "<t>.<raw body>"); reject a t more than 5 minutes old. One webhook’s deliveries go in seq order: a timeout, network error, 5xx, 408 or 429 ' +
  'is retried with backoff (OUTGOING_WEBHOOK_RETRY_MS) and holds the later ones back; another 3xx/4xx fails that delivery at once. After as many failures in a row as a delivery has attempts, ' +
  'the webhook is disabled with the last error as disabled_reason; its pending deliveries wait until it is enabled again.';

const URL_REFUSED = 'The URL’s host is, or resolves to, a loopback, private, link-local or other non-public address outside OUTBOUND_ALLOWED_NETWORKS (code outbound_target_refused)';

/** The Outgoing Webhooks group. */
export const outgoingWebhookRoutes: RouteGroup = {
  group: 'Outgoing Webhooks',
  routes: [
    route({
      method: 'get',
      path: '/api/outgoing-webhooks',
      summary: 'List outgoing webhooks',
      description: 'Oldest first. Secrets are never shown, only `secret_hint`.',
      access: 'webhooks.manage',
      query: ListOutgoingWebhooksQuery,
      response: OutgoingWebhookPage,
      handler: async ({ query, principal }) => presentPage(await listOutgoingWebhooks({ ...acting(principal), page: query.page, limit: query.limit }), presentOutgoingWebhook),
    }),
    route({
      method: 'post',
      path: '/api/outgoing-webhooks',
      summary: 'Create an outgoing webhook',
      description: `The signing secret (\`whsec_...\`) is in this answer only. ${DELIVERY}`,
      access: 'webhooks.manage',
      body: CreateOutgoingWebhookBody,
      response: OutgoingWebhookWithSecretBody,
      status: 201,
      errors: { 422: `${URL_REFUSED}; or the organization already has the most webhooks allowed (${MAX_OUTGOING_WEBHOOKS})` },
      audit: { action: 'outgoing_webhook.created', resource: 'outgoing_webhook' },
      handler: async ({ body, principal }) => {
        const { webhook, secret } = await createOutgoingWebhook({ ...acting(principal), fields: body });
        return presentOutgoingWebhookWithSecret(webhook, secret);
      },
    }),
    route({
      method: 'get',
      path: '/api/outgoing-webhooks/event-types',
      summary: 'List available webhook event types',
      description: 'Every event type a webhook may subscribe to (the same names as the realtime events), each with what it means.',
      access: 'webhooks.manage',
      response: EventTypeList,
      handler: async () => ({ data: listEventTypes() }),
    }),
    route({
      method: 'delete',
      path: '/api/outgoing-webhooks/{id}',
      summary: 'Delete an outgoing webhook',
      description: 'Its deliveries go with it; pending ones are never sent.',
      access: 'webhooks.manage',
      params: IdParams,
      response: MessageBody,
      audit: { action: 'outgoing_webhook.deleted', resource: 'outgoing_webhook' },
      handler: async ({ params, principal }) => {
        const webhook = await deleteOutgoingWebhook({ ...acting(principal), id: params.id });
        return { message: `Outgoing webhook "${webhook.name}" deleted` };
      },
    }),
    route({
      method: 'patch',
      path: '/api/outgoing-webhooks/{id}',
      summary: 'Update an outgoing webhook',
      description:
        'Only the fields given change; the sender uses them from its next batch. `is_active: true` on a disabled webhook clears disabled_reason and consecutive_failures and sends its pending deliveries, oldest first. ' +
        '`rotate_secret: true` answers the new secret in `secret`, this once.',
      access: 'webhooks.manage',
      params: IdParams,
      body: UpdateOutgoingWebhookBody,
      response: UpdatedOutgoingWebhookBody,
      errors: { 422: URL_REFUSED },
      audit: { action: 'outgoing_webhook.updated', resource: 'outgoing_webhook' },
      handler: async ({ params, body, principal }) => {
        const { rotate_secret: rotate, ...fields } = body;
        const { webhook, secret } = await updateOutgoingWebhook({ ...acting(principal), id: params.id, fields, rotateSecret: rotate === true });
        return secret ? presentOutgoingWebhookWithSecret(webhook, secret) : presentOutgoingWebhook(webhook);
      },
    }),
    route({
      method: 'get',
      path: '/api/outgoing-webhooks/{id}/deliveries',
      summary: 'List deliveries for a webhook',
      description: 'Newest first, each with every attempt (status code, latency, error, the first 1,024 characters of the answer). Test sends are listed with `test: true`.',
      access: 'webhooks.manage',
      params: IdParams,
      query: ListDeliveriesQuery,
      response: DeliveryPage,
      handler: async ({ params, query, principal }) =>
        presentPage(await listWebhookDeliveries({ ...acting(principal), webhookId: params.id, status: query.status, page: query.page, limit: query.limit }), presentOutgoingWebhookDelivery),
    }),
    route({
      method: 'post',
      path: '/api/outgoing-webhooks/{id}/test',
      summary: 'Send a test event to the webhook',
      description:
        'POSTs a sample `webhook.test` event now, signed and guarded like every delivery (active or disabled webhook alike), and answers what the receiver said. ' +
        'It is recorded as a test delivery and does not count towards auto-disabling. A refused or unreachable target is `ok: false` with the error, not an error status.',
      access: 'webhooks.manage',
      params: IdParams,
      response: WebhookTestResultBody,
      errors: { 422: 'The webhook’s stored secret cannot be decrypted under the current ENCRYPTION_KEY (rotate it first)' },
      audit: { action: 'outgoing_webhook.tested', resource: 'outgoing_webhook' },
      handler: async ({ params, principal }) => testOutgoingWebhook({ ...acting(principal), id: params.id }),
    }),
  ],
};

