/** Schemas of the Transfers group. */
import { z } from 'zod';
import { TransferBody } from '../../presenters/transfer.js';
import { Id, PageQuery, pageOf } from '../schemas/common.js';

/** POST /api/conversations/{id}/transfer */
export const TransferRequestBody = z
  .strictObject({
    to_agent_id: Id.optional().describe('The agent who takes the conversation over'),
    to_division_id: Id.optional().describe('The division it moves to; with to_agent_id, the agent must be a member'),
    reason: z.string().trim().min(1, 'must not be empty').max(500),
  })
  .refine((b) => b.to_agent_id !== undefined || b.to_division_id !== undefined, {
    message: 'give to_agent_id, to_division_id, or both',
    path: ['to_agent_id'],
  });

/** GET /api/conversations/{id}/transfers */
export const ListTransfersQuery = PageQuery;

/** A page of transfers. */
export const TransferPage = pageOf(TransferBody);
