/**
 * Divisions (teams such as Sales or Support) and their members. Membership lives in its own
 * documents keyed by (division, agent), so concurrent adds of different agents never overwrite
 * each other and adding the same agent twice is a no-op.
 */
import { askTenant } from '../../actors/tenant/index.js';
import { AppError, ConflictError, isDuplicateKey } from '../errors.js';
import { newId } from '../ids.js';
import { DIVISION_SEARCHED, divisions, type Division } from '../models/division.js';
import type { Page, Scoped } from '../models/repo.js';
import { users } from '../models/user.js';
import { agentViews, listAgents, requireLiveAgents, type Acting, type AgentView } from './agents.js';
import { serveAssignmentQueue } from './auto-assignment.js';
import { announceSessionChange } from './session-changes.js';
import { searchFilter } from './text-match.js';
import { addMemberships, memberCounts, memberIdsOf, removeAllOfDivision, removeMemberships } from './division-members.js';

/** A division with its number of agents. */
export interface DivisionView {
  division: Division;
  agentCount: number;
}

/** A division with its agents. */
export interface DivisionWithAgents extends DivisionView {
  agents: AgentView[];
}

/** Filters of the division list. */
export interface ListDivisions {
  tenantId: string;
  /** Part of the name, any case. */
  q?: string;
  isActive?: boolean;
  page: number;
  limit: number;
}

/** One page of divisions, by name, each with its agent count. */
export async function listDivisions(q: ListDivisions): Promise<Page<DivisionView>> {
  const filter: Scoped = { tenant_id: q.tenantId };
  if (q.q) Object.assign(filter, searchFilter([{ text: q.q, fields: DIVISION_SEARCHED }]));
  if (q.isActive !== undefined) filter.is_active = q.isActive;
  const page = await divisions.page(filter, { name: 1, _id: 1 }, q.page, q.limit);
  const counts = await memberCounts(q.tenantId, page.items.map((d) => d._id));
  return { ...page, items: page.items.map((division) => ({ division, agentCount: counts.get(division._id) ?? 0 })) };
}

/** One division with all its agents, by name. */
export async function getDivision(tenantId: string, id: string): Promise<DivisionWithAgents> {
  const division = await divisions.findOwned(tenantId, id);
  const ids = await memberIdsOf(tenantId, id);
  const members = ids.length === 0 ? [] : await users.find({ tenant_id: tenantId, _id: { $in: ids }, deleted_at: null }, { name: 1, _id: 1 });
  return { division, agentCount: members.length, agents: await agentViews(tenantId, members) };
}

// The divisions repository claims names without case ("Sales" and "sales" side by side would
// confuse everyone who picks a division from a list); a taken name rejects with code 11000.
const nameTaken = (name: string) => ConflictError(`A division named "${name}" already exists`);

/** Create a division. */
export interface CreateDivision extends Acting {
  name: string;
  description: string;
  isActive: boolean;
}

/** Creates the division; 409 when the name is taken in the tenant (any case). */
export async function createDivision(cmd: CreateDivision): Promise<DivisionView> {
  try {
    const division = await divisions.insert({
      _id: newId(),
      tenant_id: cmd.tenantId,
      name: cmd.name,
      description: cmd.description,
      is_active: cmd.isActive,
    });
    return { division, agentCount: 0 };
  } catch (err) {
    if (isDuplicateKey(err)) throw nameTaken(cmd.name);
    throw err;
  }
}

/** Update a division; absent fields stay as they are. */
export interface UpdateDivision extends Acting {
  id: string;
  name?: string;
  description?: string;
  isActive?: boolean;
}

/** Applies the changes; 409 when the new name is taken. */
export async function updateDivision(cmd: UpdateDivision): Promise<DivisionView> {
  await divisions.findOwned(cmd.tenantId, cmd.id);
  const set: Partial<Division> = {};
  if (cmd.name !== undefined) set.name = cmd.name;
  if (cmd.description !== undefined) set.description = cmd.description;
  if (cmd.isActive !== undefined) set.is_active = cmd.isActive;
  try {
    const division = await divisions.update(cmd.tenantId, cmd.id, set);
    const counts = await memberCounts(cmd.tenantId, [division._id]);
    return { division, agentCount: counts.get(division._id) ?? 0 };
  } catch (err) {
    if (isDuplicateKey(err)) throw nameTaken(cmd.name ?? '');
    throw err;
  }
}

/** Delete a division. */
export interface DeleteDivision extends Acting {
  id: string;
}

/**
 * Removes the division, then its memberships and its working-hours override. The division goes
 * first so that a member add running at the same time sees it gone and takes its insert back.
 */
export async function deleteDivision(cmd: DeleteDivision): Promise<Division> {
  const division = await divisions.findOwned(cmd.tenantId, cmd.id);
  await divisions.remove(cmd.tenantId, cmd.id);
  await Promise.all([removeAllOfDivision(cmd.tenantId, cmd.id), removeOverrideIfAny(cmd.tenantId, cmd.id)]);
  // Its members' open sockets stop seeing its conversations.
  await announceSessionChange({ tenantId: cmd.tenantId, divisionId: cmd.id });
  return division;
}

/** Drops the division's working-hours override through the tenant actor, its only writer. */
async function removeOverrideIfAny(tenantId: string, divisionId: string): Promise<void> {
  try {
    await askTenant(tenantId, 'working_hours.override_remove', { divisionId });
  } catch (err) {
    if (!(err instanceof AppError && err.status === 404)) throw err;
  }
}

/** Filters of a division's agent list. */
export interface ListDivisionAgents {
  tenantId: string;
  divisionId: string;
  status?: 'online' | 'offline';
  q?: string;
  page: number;
  limit: number;
}

/** One page of a division's live agents, by name. */
export async function listDivisionAgents(q: ListDivisionAgents): Promise<Page<AgentView>> {
  await divisions.findOwned(q.tenantId, q.divisionId);
  return listAgents({
    tenantId: q.tenantId,
    divisionId: q.divisionId,
    ...(q.status ? { status: q.status } : {}),
    ...(q.q ? { q: q.q } : {}),
    page: q.page,
    limit: q.limit,
  });
}

/** Add or remove agents of a division. */
export interface ChangeDivisionAgents extends Acting {
  divisionId: string;
  agentIds: string[];
}

/** Adds the agents (members already are left alone); 400 listing ids that are not live agents, adding none. */
export async function addDivisionAgents(cmd: ChangeDivisionAgents): Promise<DivisionWithAgents> {
  const division = await divisions.findOwned(cmd.tenantId, cmd.divisionId);
  const ids = [...new Set(cmd.agentIds)];
  await requireLiveAgents(cmd.tenantId, ids, 'agent_ids');
  await addMemberships(cmd.tenantId, ids.map((userId) => ({ divisionId: division._id, userId })));
  await announceSessionChange({ tenantId: cmd.tenantId, userIds: ids });
  // New members may take conversations waiting in this division.
  await serveAssignmentQueue(cmd.tenantId);
  // A division deleted meanwhile had its new memberships taken back; this then answers 404.
  return getDivision(cmd.tenantId, division._id);
}

/** Removes the agents from the division; ids that are not members are ignored. */
export async function removeDivisionAgents(cmd: ChangeDivisionAgents): Promise<DivisionWithAgents> {
  const division = await divisions.findOwned(cmd.tenantId, cmd.divisionId);
  const ids = [...new Set(cmd.agentIds)];
  await removeMemberships(cmd.tenantId, ids.map((userId) => ({ divisionId: division._id, userId })));
  // Their open sockets stop receiving the division's conversations, on every process.
  await announceSessionChange({ tenantId: cmd.tenantId, userIds: ids });
  return getDivision(cmd.tenantId, division._id);
}
