/** SLA: policies with first-response and resolution targets, their breaches, and a conversation's SLA status. */
import { acting } from '../../services/agents.js';
import { presentPage } from '../../presenters/page.js';
import { ConversationSlaBody, presentConversationSla, presentSlaBreach, presentSlaPolicy, SlaPolicyBody } from '../../presenters/sla.js';
import { getConversationSla } from '../../services/sla-clock.js';
import { createSlaPolicy, deleteSlaPolicy, listSlaBreaches, listSlaPolicies, updateSlaPolicy } from '../../services/sla-policies.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import { CreateSlaPolicyBody, ListSlaBreachesQuery, ListSlaPoliciesQuery, SlaBreachPage, SlaPolicyPage, UpdateSlaPolicyBody } from './sla.schema.js';

const CHOICE =
  'When several active policies match a conversation (its channel, division and tags), the lowest `priority` applies, ties going to the oldest policy. ' +
  'The choice is made again at every change of the conversation until one of its targets is met or breached; then the policy stays.';

const CLOCKS =
  'Both clocks start when the conversation is created. First response is met by the first message an agent or AI agent sends (system messages such as ' +
  'a CSAT link do not count); resolution by resolved or closed. While the conversation is pending the clocks are paused. With business_hours_only, ' +
  'only working hours count (tenant time zone, the division override if there is one). A target passed unmet is recorded once as a breach by the ' +
  'sweeper (SLA_SWEEP_MS) or at the late reply, and emits sla.breached to those who may see the conversation.';

const TARGETS_REQUIRED = 'Bad input, an unknown division, or a policy without any target';

/** The SLA group. */
export const slaRoutes: RouteGroup = {
  group: 'SLA',
  routes: [
    route({
      method: 'get',
      path: '/api/sla-policies',
      summary: 'List SLA policies',
      description: `By priority, then age. ${CHOICE}`,
      access: 'sla.view',
      query: ListSlaPoliciesQuery,
      response: SlaPolicyPage,
      handler: async ({ query, principal }) => presentPage(await listSlaPolicies({ ...acting(principal), page: query.page, limit: query.limit }), presentSlaPolicy),
    }),
    route({
      method: 'post',
      path: '/api/sla-policies',
      summary: 'Create an SLA policy',
      description: `${CHOICE} ${CLOCKS}`,
      access: 'sla.manage',
      body: CreateSlaPolicyBody,
      response: SlaPolicyBody,
      status: 201,
      errors: { 400: TARGETS_REQUIRED, 422: 'The organization already has the most policies allowed (100)' },
      audit: { action: 'sla_policy.created', resource: 'sla_policy' },
      handler: async ({ body, principal }) => presentSlaPolicy(await createSlaPolicy({ ...acting(principal), fields: body })),
    }),
    route({
      method: 'delete',
      path: '/api/sla-policies/{id}',
      summary: 'Delete an SLA policy',
      description: 'Conversations it applied to are matched again at their next change; breaches it recorded stay recorded.',
      access: 'sla.manage',
      params: IdParams,
      response: MessageBody,
      audit: { action: 'sla_policy.deleted', resource: 'sla_policy' },
      handler: async ({ params, principal }) => {
        const policy = await deleteSlaPolicy({ ...acting(principal), id: params.id });
        return { message: `SLA policy "${policy.name}" deleted` };
      },
    }),
    route({
      method: 'patch',
      path: '/api/sla-policies/{id}',
      summary: 'Update an SLA policy',
      description: 'Only the fields given change. Open conversations see the change at their next change; targets already met or breached keep the values they were judged by.',
      access: 'sla.manage',
      params: IdParams,
      body: UpdateSlaPolicyBody,
      response: SlaPolicyBody,
      errors: { 400: TARGETS_REQUIRED },
      audit: { action: 'sla_policy.updated', resource: 'sla_policy' },
      handler: async ({ params, body, principal }) => presentSlaPolicy(await updateSlaPolicy({ ...acting(principal), id: params.id, fields: body })),
    }),
    route({
      method: 'get',
      path: '/api/sla-policies/{id}/breaches',
      summary: 'List SLA breaches for a policy',
      description: 'Newest first; one per conversation and target at most.',
      access: 'sla.view',
      params: IdParams,
      query: ListSlaBreachesQuery,
      response: SlaBreachPage,
      handler: async ({ params, query, principal }) =>
        presentPage(await listSlaBreaches({ ...acting(principal), policyId: params.id, target: query.target, page: query.page, limit: query.limit }), presentSlaBreach),
    }),
    route({
      method: 'get',
      path: '/api/conversations/{id}/sla',
      summary: 'Get SLA status for a conversation',
      description: `The policy in force, each target’s due time and outcome. ${CLOCKS} A conversation no policy applies to answers policy null and state none.`,
      access: 'conversations.view',
      params: IdParams,
      response: ConversationSlaBody,
      handler: async ({ params, principal }) => presentConversationSla(params.id, await getConversationSla({ ...acting(principal), conversationId: params.id }), new Date()),
    }),
  ],
};
