/** The agent (user) resource as the API shows it. */
import { z } from 'zod';
import type { User } from '../models/user.js';
import { iso } from './page.js';

/** The agent JSON shape. */
export const AgentBody = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string(),
  role_id: z.uuid(),
  role: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  division_ids: z.array(z.uuid()),
  status: z.enum(['online', 'offline']),
  status_changed_at: z.iso.datetime().nullable(),
  max_concurrent_conversations: z.number().int(),
  is_active: z.boolean(),
  last_login_at: z.iso.datetime().nullable(),
  deleted_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** What presentAgent needs besides the user. */
export interface AgentExtras {
  role: { _id: string; name: string } | null;
  divisionIds: string[];
}

/** Shapes a user as an agent. */
export function presentAgent(user: User, extras: AgentExtras): z.infer<typeof AgentBody> {
  return {
    id: user._id,
    name: user.name,
    email: user.email,
    role_id: user.role_id,
    role: extras.role ? { id: extras.role._id, name: extras.role.name } : null,
    division_ids: extras.divisionIds,
    status: user.status,
    status_changed_at: iso(user.status_changed_at),
    max_concurrent_conversations: user.max_concurrent_conversations,
    is_active: user.is_active,
    last_login_at: iso(user.last_login_at),
    deleted_at: iso(user.deleted_at),
    created_at: iso(user.created_at) as string,
    updated_at: iso(user.updated_at) as string,
  };
}

/** An agent's presence, as members who may not view agents see `agent.status_changed`. */
export const AgentPresenceBody = AgentBody.pick({ id: true, name: true, status: true, status_changed_at: true });

/** Shapes an agent's presence from the full agent shape. */
export function presentAgentPresence(agent: z.infer<typeof AgentBody>): z.infer<typeof AgentPresenceBody> {
  return { id: agent.id, name: agent.name, status: agent.status, status_changed_at: agent.status_changed_at };
}
