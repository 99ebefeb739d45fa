/**
 * Division memberships, shared by the agent and division use cases. A membership's `_id` is
 * naturalId('division-member', tenant, division, user): adding the same member twice is a lost
 * duplicate-key claim (a no-op) and removing one is a lone `_id` delete, both atomic on every
 * engine (ARCHITECTURE invariant 10).
 */
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { divisionMembers, divisions } from '../models/division.js';
import { users } from '../models/user.js';

/** The `_id` of one agent's membership in one division. */
export const memberId = (tenantId: string, divisionId: string, userId: string): string =>
  naturalId('division-member', tenantId, divisionId, userId);

/** One (division, agent) pair. */
export interface Membership {
  divisionId: string;
  userId: string;
}

/**
 * Adds the memberships; ones that already exist are left as they are. A division or agent deleted
 * while this ran would leave an orphan, so afterwards both are read again and the memberships of
 * any that vanished are taken back: deletion marks first and sweeps memberships second, so one of
 * the two sides always sees the other.
 */
export async function addMemberships(tenantId: string, pairs: Membership[]): Promise<void> {
  await Promise.all(
    pairs.map(async ({ divisionId, userId }) => {
      try {
        await divisionMembers.insert({
          _id: memberId(tenantId, divisionId, userId),
          tenant_id: tenantId,
          division_id: divisionId,
          user_id: userId,
        });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }),
  );
  const divisionIds = [...new Set(pairs.map((p) => p.divisionId))];
  const userIds = [...new Set(pairs.map((p) => p.userId))];
  const [liveDivisions, liveUsers] = await Promise.all([divisions.findMany(tenantId, divisionIds), users.findMany(tenantId, userIds)]);
  const divisionLive = new Set(liveDivisions.map((d) => d._id));
  const userLive = new Set(liveUsers.filter((u) => !u.deleted_at).map((u) => u._id));
  const goneDivisions = new Set(divisionIds.filter((id) => !divisionLive.has(id)));
  const goneUsers = new Set(userIds.filter((id) => !userLive.has(id)));
  const orphans = pairs.filter((p) => goneDivisions.has(p.divisionId) || goneUsers.has(p.userId));
  if (orphans.length > 0) await removeMemberships(tenantId, orphans);
}

/** Removes the memberships; pairs that are not members are ignored. */
export async function removeMemberships(tenantId: string, pairs: Membership[]): Promise<void> {
  await Promise.all(pairs.map((p) => divisionMembers.remove(tenantId, memberId(tenantId, p.divisionId, p.userId))));
}

/** The ids of the agents in a division. */
export async function memberIdsOf(tenantId: string, divisionId: string): Promise<string[]> {
  const list = await divisionMembers.find({ tenant_id: tenantId, division_id: divisionId });
  return list.map((m) => m.user_id);
}

/** The ids of the divisions an agent belongs to. */
export async function divisionIdsOf(tenantId: string, userId: string): Promise<string[]> {
  const list = await divisionMembers.find({ tenant_id: tenantId, user_id: userId });
  return list.map((m) => m.division_id);
}

/** How many agents each of the divisions has. */
export async function memberCounts(tenantId: string, divisionIds: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>(divisionIds.map((id) => [id, 0]));
  if (divisionIds.length === 0) return counts;
  const list = await divisionMembers.find({ tenant_id: tenantId, division_id: { $in: divisionIds } });
  for (const m of list) counts.set(m.division_id, (counts.get(m.division_id) ?? 0) + 1);
  return counts;
}

/** Removes every membership of one agent (agent deletion). */
export const removeAllOfAgent = (tenantId: string, userId: string): Promise<number> =>
  divisionMembers.removeMany({ tenant_id: tenantId, user_id: userId });

/** Removes every membership of one division (division deletion). */
export const removeAllOfDivision = (tenantId: string, divisionId: string): Promise<number> =>
  divisionMembers.removeMany({ tenant_id: tenantId, division_id: divisionId });
