/** Loads what an agent's presentation needs (role, divisions) for many agents in two queries. */
import { divisionMembers } from '../models/division.js';
import type { Role } from '../models/role.js';
import { roles } from '../models/role.js';
import type { User } from '../models/user.js';
import type { AgentExtras } from '../presenters/agent.js';

/** Role and division ids for each user, keyed by user id. */
export async function agentExtras(tenantId: string, list: User[]): Promise<Map<string, AgentExtras>> {
  const ids = list.map((u) => u._id);
  // Roles by `_id`, one lookup per distinct role: on FerretDB any other filter scans every
  // tenant's roles.
  const roleIds = [...new Set(list.map((u) => u.role_id))];
  const [roleList, memberships] = await Promise.all([
    Promise.all(roleIds.map((id) => roles.findOwnedOrNull(tenantId, id))),
    list.length === 1
      ? divisionMembers.find({ tenant_id: tenantId, user_id: ids[0] })
      : divisionMembers.find({ tenant_id: tenantId, user_id: { $in: ids } }),
  ]);
  const roleById = new Map<string, Role>(roleList.filter((r): r is Role => r !== null).map((r) => [r._id, r]));
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
