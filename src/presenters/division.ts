/** The division resource as the API shows it. */
import { z } from 'zod';
import type { Division } from '../models/division.js';
import { AgentBody } from './agent.js';
import { iso } from './page.js';

/** The division JSON shape. */
export const DivisionBody = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  is_active: z.boolean(),
  agent_count: z.number().int(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** A division with its agents (GET /api/divisions/{id} and the member changes). */
export const DivisionWithAgentsBody = DivisionBody.extend({ agents: z.array(AgentBody) });

/** Shapes a division with its agent count. */
export function presentDivision(d: Division, agentCount: number): z.infer<typeof DivisionBody> {
  return {
    id: d._id,
    name: d.name,
    description: d.description,
    is_active: d.is_active,
    agent_count: agentCount,
    created_at: iso(d.created_at) as string,
    updated_at: iso(d.updated_at) as string,
  };
}

/** Shapes a division with its already-presented agents. */
export function presentDivisionWithAgents(
  d: Division,
  agents: z.infer<typeof AgentBody>[],
): z.infer<typeof DivisionWithAgentsBody> {
  return { ...presentDivision(d, agents.length), agents };
}
