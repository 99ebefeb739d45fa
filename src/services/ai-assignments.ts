/**
 * AI agent assignments: which channels, integration accounts and divisions an AI agent answers,
 * and when (always, inside the tenant's working hours, or outside them). The accounts and
 * divisions must be the tenant's (400 naming the field). Which agent answers a message is
 * decided in services/ai-routing.ts.
 */
import { v7 as orderedId } from 'uuid';
import type { ChannelName } from '../../channels/types.js';
import { aiAssignments, type AiAssignment, type AssignmentHours } from '../models/ai-assignment.js';
import { agentChildren, checkAccounts, checkDivisions } from './ai-agent-children.js';
import type { Acting } from './agents.js';

const children = agentChildren(aiAssignments, 'AI agent assignment', true);

/** On one AI agent's assignments. */
export interface OnAssignments extends Acting {
  aiAgentId: string;
}

/** The fields of an assignment a caller sets (absent in an update: unchanged). */
export interface AssignmentFields {
  channels: ChannelName[];
  accountIds: string[];
  divisionIds: string[];
  hours: AssignmentHours;
  priority: number;
  isActive: boolean;
}

/** An agent's assignments, highest priority first. */
export const listAssignments = (q: OnAssignments): Promise<AiAssignment[]> => children.all(q.tenantId, q.aiAgentId, { priority: -1, created_at: 1, _id: 1 });

async function checkRefs(tenantId: string, f: Partial<AssignmentFields>): Promise<void> {
  if (f.accountIds?.length) await checkAccounts(tenantId, 'account_ids', f.accountIds);
  if (f.divisionIds?.length) await checkDivisions(tenantId, 'division_ids', f.divisionIds);
}

const stored = (f: Partial<AssignmentFields>): Partial<AiAssignment> => ({
  ...(f.channels ? { channels: [...new Set(f.channels)] } : {}),
  ...(f.accountIds ? { account_ids: [...new Set(f.accountIds)] } : {}),
  ...(f.divisionIds ? { division_ids: [...new Set(f.divisionIds)] } : {}),
  ...(f.hours ? { hours: f.hours } : {}),
  ...(f.priority !== undefined ? { priority: f.priority } : {}),
  ...(f.isActive !== undefined ? { is_active: f.isActive } : {}),
});

/** Creates an assignment of a live AI agent. */
export async function createAssignment(cmd: OnAssignments & AssignmentFields): Promise<AiAssignment> {
  await checkRefs(cmd.tenantId, cmd);
  return children.create({ _id: orderedId(), tenant_id: cmd.tenantId, ai_agent_id: cmd.aiAgentId, channels: [], account_ids: [], division_ids: [], ...stored(cmd) } as AiAssignment);
}

/** Changes the given fields of an assignment. */
export async function updateAssignment(cmd: OnAssignments & Partial<AssignmentFields> & { id: string }): Promise<AiAssignment> {
  await children.find(cmd.tenantId, cmd.aiAgentId, cmd.id);
  await checkRefs(cmd.tenantId, cmd);
  return children.update(cmd.tenantId, cmd.aiAgentId, cmd.id, stored(cmd));
}

/** Deletes an assignment; answers it as it was. */
export const deleteAssignment = (cmd: OnAssignments & { id: string }): Promise<AiAssignment> => children.remove(cmd.tenantId, cmd.aiAgentId, cmd.id);
