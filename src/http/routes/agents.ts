/** Agents: the organization's human users, their roles, divisions and presence. */
import { AgentBody, presentAgent } from '../../presenters/agent.js';
import { presentPage } from '../../presenters/page.js';
import {
  acting,
  createAgent,
  deleteAgent,
  getAgent,
  listAgents,
  setAgentStatus,
  updateAgent,
  type AgentView,
} from '../../services/agents.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import { AgentPage, AgentStatusBody, CreateAgentBody, ListAgentsQuery, UpdateAgentBody } from './agents.schema.js';

const present = (v: AgentView) => presentAgent(v.user, v.extras);

/** The Agents group. */
export const agentRoutes: RouteGroup = {
  group: 'Agents',
  routes: [
    route({
      method: 'get',
      path: '/api/agents',
      summary: 'List all agents',
      description: 'Sorted by name. Deleted agents are left out unless `include_deleted=true`.',
      access: 'agents.view',
      query: ListAgentsQuery,
      response: AgentPage,
      handler: async ({ query, principal }) =>
        presentPage(
          await listAgents({
            tenantId: principal.tenantId,
            status: query.status,
            roleId: query.role_id,
            divisionId: query.division_id,
            q: query.q,
            includeDeleted: query.include_deleted ?? false,
            page: query.page,
            limit: query.limit,
          }),
          present,
        ),
    }),
    route({
      method: 'post',
      path: '/api/agents',
      summary: 'Create a new agent',
      description:
        'The role may only grant permissions the caller holds (403 otherwise). 409 when the e-mail is already used in the organization; 400 naming `role_id` or `division_ids` when they are not of this organization.',
      access: 'agents.manage',
      body: CreateAgentBody,
      response: AgentBody,
      errors: { 409: 'Another agent of the organization has this e-mail', 422: 'The organization’s plan allows no more agents' },
      status: 201,
      audit: { action: 'agent.created', resource: 'agent' },
      handler: async ({ body, principal }) =>
        present(
          await createAgent({
            ...acting(principal),
            name: body.name,
            email: body.email,
            password: body.password,
            roleId: body.role_id,
            divisionIds: body.division_ids,
            maxConcurrentConversations: body.max_concurrent_conversations,
          }),
        ),
    }),
    route({
      method: 'get',
      path: '/api/agents/{id}',
      summary: 'Get an agent by ID',
      description: 'Deleted agents are still answered, with `deleted_at` set.',
      access: 'agents.view',
      params: IdParams,
      response: AgentBody,
      handler: async ({ params, principal }) => present(await getAgent(principal.tenantId, params.id)),
    }),
    route({
      method: 'delete',
      path: '/api/agents/{id}',
      summary: 'Delete an agent',
      description:
        'Soft delete: the agent stays readable (conversation history keeps their name) but cannot sign in, their sessions and API keys stop working, their divisions are left and their e-mail can be used again. You cannot delete yourself or the last active admin (422).',
      access: 'agents.manage',
      params: IdParams,
      response: MessageBody,
      errors: { 422: 'The agent is the caller, or already deleted' },
      audit: { action: 'agent.deleted', resource: 'agent' },
      handler: async ({ params, principal }) => {
        await deleteAgent({ ...acting(principal), id: params.id });
        return { message: 'Agent deleted' };
      },
    }),
    route({
      method: 'patch',
      path: '/api/agents/{id}',
      summary: 'Update an agent',
      description:
        '`division_ids` replaces the set. A new role may only grant permissions the caller holds, and an agent whose role holds more than the caller cannot be changed (403). The last active admin cannot be demoted or deactivated, and nobody can deactivate themselves (422).',
      access: 'agents.manage',
      params: IdParams,
      body: UpdateAgentBody,
      response: AgentBody,
      errors: { 409: 'Another agent of the organization has this e-mail', 422: 'The agent is deleted, or the caller would deactivate themselves' },
      audit: { action: 'agent.updated', resource: 'agent' },
      handler: async ({ params, body, principal }) =>
        present(
          await updateAgent({
            ...acting(principal),
            id: params.id,
            name: body.name,
            email: body.email,
            password: body.password,
            roleId: body.role_id,
            divisionIds: body.division_ids,
            maxConcurrentConversations: body.max_concurrent_conversations,
            isActive: body.is_active,
          }),
        ),
    }),
    route({
      method: 'patch',
      path: '/api/agents/{id}/status',
      summary: 'Toggle agent online/offline status (self, or agents.manage for others)',
      description: 'Deleted and deactivated agents cannot change status (422).',
      access: 'authenticated',
      params: IdParams,
      body: AgentStatusBody,
      response: AgentBody,
      errors: { 403: 'Changing another agent’s status requires agents.manage', 422: 'The agent is deleted or deactivated' },
      audit: { action: 'agent.status_changed', resource: 'agent' },
      handler: async ({ params, body, principal }) =>
        present(await setAgentStatus({ ...acting(principal), id: params.id, status: body.status })),
    }),
  ],
};
