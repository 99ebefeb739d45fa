/** Schemas of the Divisions group. */
import { z } from 'zod';
import { AgentBody } from '../../presenters/agent.js';
import { DivisionBody } from '../../presenters/division.js';
import { BoolQuery, Id, PageQuery, pageOf } from '../schemas/common.js';

const Name = z.string().trim().min(1).max(100);
const Description = z.string().trim().max(1000);

/** GET /api/divisions */
export const ListDivisionsQuery = PageQuery.extend({
  q: z.string().trim().min(1).max(100).optional().describe('Part of the name, any case'),
  is_active: BoolQuery.optional(),
});

/** POST /api/divisions */
export const CreateDivisionBody = z.strictObject({
  name: Name,
  description: Description.default(''),
  is_active: z.boolean().default(true),
});

/** PATCH /api/divisions/{id} */
export const UpdateDivisionBody = z
  .strictObject({
    name: Name.optional(),
    description: Description.optional(),
    is_active: z.boolean().optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'must change at least one field');

/** GET /api/divisions/{id}/agents */
export const ListDivisionAgentsQuery = PageQuery.extend({
  status: z.enum(['online', 'offline']).optional(),
  q: z.string().trim().min(1).max(100).optional().describe('Part of the name or e-mail, any case'),
});

/** POST and DELETE /api/divisions/{id}/agents */
export const DivisionAgentsBody = z.strictObject({
  agent_ids: z.array(Id).min(1).max(100),
});

/** A page of divisions. */
export const DivisionPage = pageOf(DivisionBody);

/** A page of a division's agents. */
export const DivisionAgentPage = pageOf(AgentBody);
