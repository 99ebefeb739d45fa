/**
 * Auto-assignment: new conversations go round-robin to online agents of their division under
 * their concurrency limit, or wait first-in-first-out until one frees up. The tenant actor
 * decides (actors/tenant/assignment.ts); each decision is applied through the conversation's
 * actor here, outside the tenant actor.
 */
import { askTenant } from '../../actors/tenant/index.js';
import { assignmentSummary } from '../models/assignment-state.js';
import { applyAssignmentDecisions } from './conversations.js';

/** Asks for an agent for a new conversation and applies the answer. */
export async function requestAutoAssignment(tenantId: string, conversationId: string, divisionId: string | null): Promise<void> {
  const { decisions } = await askTenant(tenantId, 'assignment.request', { conversationId, divisionId });
  await applyAssignmentDecisions(decisions);
}

/** Serves waiting conversations (an agent came online). */
export async function serveAssignmentQueue(tenantId: string): Promise<void> {
  const { decisions } = await askTenant(tenantId, 'assignment.serve_queue', {});
  await applyAssignmentDecisions(decisions);
}

/** The tenant's auto-assignment switch and queue length. */
export async function setAutoAssignment(tenantId: string, enabled: boolean): Promise<{ enabled: boolean; queued: number }> {
  return askTenant(tenantId, 'assignment.set_enabled', { enabled });
}

/** The tenant's switch and how many conversations wait. */
export async function getAutoAssignment(tenantId: string): Promise<{ enabled: boolean; queued: number }> {
  return assignmentSummary(tenantId);
}
