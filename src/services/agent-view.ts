/** Loads what an agent's presentation needs (role, divisions) for many agents in two queries. */
import { divisionMembers } from '../models/division.js';
import type { Role } from '../models/role.js';
import { roles } from '../models/role.js';
import type { User } from '../models/user.js';
import type { AgentExtras } from '../presenters/agent.js';

/** Role and division ids for each user, keyed by user id. */
export async function agentExtras(tenantId: string, list: User[]): Promise<Map<string, AgentExtras>> {
  const ids = list.map((u) => u._id);
  const [roleList, memberships] = await Promise.all([
    roles.findMany(tenantId, list.map((u) => u.role_id)),
    divisionMembers.find({ tenant_id: tenantId, user_id: { $in: ids } }),
  ]);
  const roleById = new Map<string, Role>(roleList.map((r) => [r._id, r]));
  const divisionsOf = new Map<string, string[]>();
  for (const m of memberships) divisionsOf.set(m.user_id, [...(divisionsOf.get(m.user_id) ?? []), m.division_id]);
  return new Map(
    list.map((u) => [u._id, { role: roleById.get(u.role_id) ?? null, divisionIds: (divisionsOf.get(u._id) ?? []).sort() }]),
  );
}

/** Extras for one user. */
export async function agentExtrasOf(user: User): Promise<AgentExtras> {
  return (await agentExtras(user.tenant_id, [user])).get(user._id) as AgentExtras;
}
