/** API Keys: the caller's long-lived credentials for integrations. */
import { ApiKeyBody, CreatedApiKeyBody, presentApiKey, presentCreatedApiKey } from '../../presenters/api-key.js';
import { presentPage } from '../../presenters/page.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../services/api-keys.js';
import { IdParams, pageOf } from '../schemas/common.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { CreateApiKeyBody, ListApiKeysQuery } from './api-keys.schema.js';

/** The API Keys group. */
export const apiKeysRoutes: RouteGroup = {
  group: 'API Keys',
  routes: [
    route({
      method: 'get',
      path: '/api/api-keys',
      summary: "List caller's API keys",
      description:
        'The caller’s keys, newest first, revoked and expired ones included (see `status`). The secret is never shown. Holders of agents.manage may pass `user_id` to see another agent’s keys.',
      access: 'authenticated',
      query: ListApiKeysQuery,
      response: pageOf(ApiKeyBody),
      errors: { 403: 'Listing another agent’s keys requires agents.manage', 404: 'No such agent (user_id) in the caller’s organization' },
      handler: async ({ principal, query }) => {
        const page = await listApiKeys({ tenantId: principal.tenantId, principal, userId: query.user_id, status: query.status, page: query.page, limit: query.limit });
        const now = new Date();
        return presentPage(page, (k) => presentApiKey(k, now));
      },
    }),
    route({
      method: 'post',
      path: '/api/api-keys',
      summary: 'Create a new API key',
      description:
        'The key (`osk_...`) is in this answer only. Use it as `Authorization: Bearer <key>`; it acts as the caller with the intersection of the caller’s current permissions and the key’s `permissions`. Keys cannot create keys (403).',
      access: 'api_keys.manage',
      body: CreateApiKeyBody,
      response: CreatedApiKeyBody,
      status: 201,
      audit: { action: 'api_key.created', resource: 'api_key' },
      handler: async ({ principal, body }) => {
        const { apiKey, key } = await createApiKey({
          tenantId: principal.tenantId,
          principal,
          name: body.name,
          permissions: body.permissions,
          expiresAt: body.expires_at,
        });
        return presentCreatedApiKey(apiKey, key);
      },
    }),
    route({
      method: 'delete',
      path: '/api/api-keys/{id}',
      summary: 'Revoke an API key',
      description:
        'The key stops working at once; it stays listed with `revoked_at` for the audit trail. Another agent’s key needs agents.manage (404 otherwise). Revoking an already revoked key is a 404.',
      access: 'api_keys.manage',
      params: IdParams,
      response: ApiKeyBody,
      audit: { action: 'api_key.revoked', resource: 'api_key' },
      handler: async ({ principal, params }) =>
        presentApiKey(await revokeApiKey({ tenantId: principal.tenantId, principal, apiKeyId: params.id })),
    }),
  ],
};
