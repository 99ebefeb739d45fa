/** The role resource. */
import { z } from 'zod';
import type { Role } from '../models/role.js';
import { iso } from './page.js';

/** The role JSON shape. */
export const RoleBody = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  permissions: z.array(z.string()),
  is_system: z.boolean(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a role. */
export function presentRole(r: Role): z.infer<typeof RoleBody> {
  return {
    id: r._id,
    name: r.name,
    description: r.description,
    permissions: r.permissions,
    is_system: r.is_system,
    created_at: iso(r.created_at) as string,
    updated_at: iso(r.updated_at) as string,
  };
}

/** The role JSON shape of the Roles API: the role plus how many live agents hold it. */
export const RoleWithCountBody = RoleBody.extend({
  agent_count: z.number().int().describe('Agents (not deleted) holding this role'),
});

/** Shapes a role with its holder count. */
export function presentRoleWithCount(r: Role, agentCount: number): z.infer<typeof RoleWithCountBody> {
  return { ...presentRole(r), agent_count: agentCount };
}
