/** Schemas of the Agents group. */
import { z } from 'zod';
import { AgentBody } from '../../presenters/agent.js';
import { BoolQuery, Id, PageQuery, pageOf } from '../schemas/common.js';

const Name = z.string().trim().min(1).max(120);
const Email = z.email({ message: 'must be a valid e-mail address' }).max(254);
const Password = z.string().min(8, 'must be at least 8 characters').max(128);
const DivisionIds = z.array(Id).max(100).describe('Every division the agent belongs to');
const MaxConcurrent = z
  .number()
  .int()
  .min(1)
  .max(100)
  .describe('How many conversations auto-assignment may give the agent at once');
const Status = z.enum(['online', 'offline']);

/** GET /api/agents */
export const ListAgentsQuery = PageQuery.extend({
  status: Status.optional(),
  role_id: Id.optional(),
  division_id: Id.optional().describe('Only members of this division'),
  q: z.string().trim().min(1).max(100).optional().describe('Part of the name or e-mail, any case'),
  include_deleted: BoolQuery.optional().describe('Also list deleted agents (default false)'),
});

/** POST /api/agents */
export const CreateAgentBody = z.strictObject({
  name: Name,
  email: Email,
  password: Password,
  role_id: Id,
  division_ids: DivisionIds.optional(),
  max_concurrent_conversations: MaxConcurrent.default(5),
});

/** PATCH /api/agents/{id} */
export const UpdateAgentBody = z
  .strictObject({
    name: Name.optional(),
    email: Email.optional(),
    password: Password.optional(),
    role_id: Id.optional(),
    division_ids: DivisionIds.optional().describe('Replaces the set of divisions'),
    max_concurrent_conversations: MaxConcurrent.optional(),
    is_active: z.boolean().optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'must change at least one field');

/** PATCH /api/agents/{id}/status */
export const AgentStatusBody = z.strictObject({ status: Status });

/** A page of agents. */
export const AgentPage = pageOf(AgentBody);
