/** Transfers: handing a conversation to another agent or division, with its history. */
import { presentPage } from '../../presenters/page.js';
import { presentTransfer, presentTransferredConversationView, TransferredConversationViewBody } from '../../presenters/transfer.js';
import { listTransfers, transferConversation } from '../../services/transfers.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { ListTransfersQuery, TransferPage, TransferRequestBody } from './transfers.schema.js';

/** The Transfers group. */
export const transfersRoutes: RouteGroup = {
  group: 'Transfers',
  routes: [
    route({
      method: 'post',
      path: '/api/conversations/{id}/transfer',
      summary: 'Transfer a conversation',
      description: [
        'To an agent (`to_agent_id`: the division stays), to a division (`to_division_id`: the conversation is unassigned so',
        "the division's agents can pick it up), or to an agent of a division (both; the agent must be a member).",
        'A target that cannot receive it is a 400 naming the field: the agent must be a live, active agent whose role sees conversations',
        '(the same rule as assigning) and a member of the division when both are given; the division must exist and be active.',
        'With auto-assignment on, a division-only transfer is queued in the new division and may be answered already assigned.',
        '422 for a closed or expired conversation and for a transfer that changes nothing (e.g. to the current assignee).',
        'Answers the conversation as moved (as GET /api/conversations/{id} shows it) with the `transfer` record; conversation.transferred reaches the new and the previous',
        'assignee and division.',
      ].join(' '),
      access: 'conversations.transfer',
      params: IdParams,
      body: TransferRequestBody,
      response: TransferredConversationViewBody,
      errors: { 422: 'The conversation is closed or expired, or already where the transfer would put it' },
      audit: { action: 'conversation.transferred', resource: 'conversation' },
      handler: async ({ params, body, principal }) => {
        const { conversation, contact, transfer } = await transferConversation({
          tenantId: principal.tenantId,
          principal,
          conversationId: params.id,
          toAgentId: body.to_agent_id ?? null,
          toDivisionId: body.to_division_id ?? null,
          reason: body.reason,
        });
        return presentTransferredConversationView(conversation, contact, transfer);
      },
    }),
    route({
      method: 'get',
      path: '/api/conversations/{id}/transfers',
      summary: 'List transfer history for a conversation',
      description: 'Oldest first.',
      access: 'conversations.view',
      params: IdParams,
      query: ListTransfersQuery,
      response: TransferPage,
      handler: async ({ params, query, principal }) =>
        presentPage(
          await listTransfers({ tenantId: principal.tenantId, principal, conversationId: params.id, page: query.page, limit: query.limit }),
          presentTransfer,
        ),
    }),
  ],
};
