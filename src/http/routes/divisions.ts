/** Divisions: teams of agents (Sales, Support, ...) that conversations are routed to. */
import { presentAgent } from '../../presenters/agent.js';
import { DivisionBody, DivisionWithAgentsBody, presentDivision, presentDivisionWithAgents } from '../../presenters/division.js';
import { presentPage } from '../../presenters/page.js';
import { acting, type AgentView } from '../../services/agents.js';
import {
  addDivisionAgents,
  createDivision,
  deleteDivision,
  getDivision,
  listDivisionAgents,
  listDivisions,
  removeDivisionAgents,
  updateDivision,
  type DivisionView,
  type DivisionWithAgents,
} from '../../services/divisions.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import {
  CreateDivisionBody,
  DivisionAgentPage,
  DivisionAgentsBody,
  DivisionPage,
  ListDivisionAgentsQuery,
  ListDivisionsQuery,
  UpdateDivisionBody,
} from './divisions.schema.js';

const presentMember = (v: AgentView) => presentAgent(v.user, v.extras);
const present = (v: DivisionView) => presentDivision(v.division, v.agentCount);
const presentWithAgents = (v: DivisionWithAgents) => presentDivisionWithAgents(v.division, v.agents.map(presentMember));

/** The Divisions group. */
export const divisionRoutes: RouteGroup = {
  group: 'Divisions',
  routes: [
    route({
      method: 'get',
      path: '/api/divisions',
      summary: 'List divisions',
      description: 'Sorted by name, each with its `agent_count`.',
      access: 'divisions.view',
      query: ListDivisionsQuery,
      response: DivisionPage,
      handler: async ({ query, principal }) =>
        presentPage(
          await listDivisions({
            tenantId: principal.tenantId,
            q: query.q,
            isActive: query.is_active,
            page: query.page,
            limit: query.limit,
          }),
          present,
        ),
    }),
    route({
      method: 'post',
      path: '/api/divisions',
      summary: 'Create a division',
      description: '409 when the organization already has a division of that name (in any letter case).',
      access: 'divisions.manage',
      body: CreateDivisionBody,
      response: DivisionBody,
      errors: { 409: 'Another division has this name' },
      status: 201,
      audit: { action: 'division.created', resource: 'division' },
      handler: async ({ body, principal }) =>
        present(
          await createDivision({ ...acting(principal), name: body.name, description: body.description, isActive: body.is_active }),
        ),
    }),
    route({
      method: 'get',
      path: '/api/divisions/{id}',
      summary: 'Get a division with agents',
      description: 'All of its agents, by name; page through large divisions with GET /api/divisions/{id}/agents.',
      access: 'divisions.view',
      params: IdParams,
      response: DivisionWithAgentsBody,
      handler: async ({ params, principal }) => presentWithAgents(await getDivision(principal.tenantId, params.id)),
    }),
    route({
      method: 'delete',
      path: '/api/divisions/{id}',
      summary: 'Delete a division',
      description: 'Also removes its memberships (the agents stay) and its working-hours override.',
      access: 'divisions.manage',
      params: IdParams,
      response: MessageBody,
      audit: { action: 'division.deleted', resource: 'division' },
      handler: async ({ params, principal }) => {
        const division = await deleteDivision({ ...acting(principal), id: params.id });
        return { message: `Division "${division.name}" deleted` };
      },
    }),
    route({
      method: 'patch',
      path: '/api/divisions/{id}',
      summary: 'Update a division',
      access: 'divisions.manage',
      params: IdParams,
      body: UpdateDivisionBody,
      response: DivisionBody,
      errors: { 409: 'Another division has this name' },
      audit: { action: 'division.updated', resource: 'division' },
      handler: async ({ params, body, principal }) =>
        present(
          await updateDivision({
            ...acting(principal),
            id: params.id,
            name: body.name,
            description: body.description,
            isActive: body.is_active,
          }),
        ),
    }),
    route({
      method: 'get',
      path: '/api/divisions/{id}/agents',
      summary: 'List agents in a division',
      description: 'Sorted by name.',
      access: 'divisions.view',
      params: IdParams,
      query: ListDivisionAgentsQuery,
      response: DivisionAgentPage,
      handler: async ({ params, query, principal }) =>
        presentPage(
          await listDivisionAgents({
            tenantId: principal.tenantId,
            divisionId: params.id,
            status: query.status,
            q: query.q,
            page: query.page,
            limit: query.limit,
          }),
          presentMember,
        ),
    }),
    route({
      method: 'post',
      path: '/api/divisions/{id}/agents',
      summary: 'Assign agents to a division',
      description:
        'Agents already in the division are left as they are. When any id is not a live agent of the organization, nothing is added and the answer (400) lists those ids. Answers the division with all its agents.',
      access: 'divisions.manage',
      params: IdParams,
      body: DivisionAgentsBody,
      response: DivisionWithAgentsBody,
      audit: { action: 'division.agents_added', resource: 'division' },
      handler: async ({ params, body, principal }) =>
        presentWithAgents(await addDivisionAgents({ ...acting(principal), divisionId: params.id, agentIds: body.agent_ids })),
    }),
    route({
      method: 'delete',
      path: '/api/divisions/{id}/agents',
      summary: 'Remove agents from a division',
      description: 'Ids that are not members are ignored. Answers the division with its remaining agents.',
      access: 'divisions.manage',
      params: IdParams,
      body: DivisionAgentsBody,
      response: DivisionWithAgentsBody,
      audit: { action: 'division.agents_removed', resource: 'division' },
      handler: async ({ params, body, principal }) =>
        presentWithAgents(await removeDivisionAgents({ ...acting(principal), divisionId: params.id, agentIds: body.agent_ids })),
    }),
  ],
};
