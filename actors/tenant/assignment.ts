/**
 * Tenant-actor handlers for auto-assignment (round-robin among online agents under their
 * concurrency limit, first-in-first-out queue when nobody is free). They only decide and book;
 * the caller applies each decision through the conversation's actor, because the tenant actor
 * must never wait on a conversation actor (which itself waits on the tenant actor for events).
 */
import { divisionMembers } from '../../src/models/division.js';
import { roles } from '../../src/models/role.js';
import { users, type User } from '../../src/models/user.js';
import { loadAssignmentState, saveAssignmentState, type AssignmentState } from '../../src/models/assignment-state.js';

/** One decision for the caller to apply. */
export interface AssignmentDecision {
  conversationId: string;
  agentId: string;
}

const NO_DIVISION = '_none';

/** Online, active agents who may answer conversations of this division, in a stable order. */
async function candidates(tenantId: string, divisionId: string | null): Promise<User[]> {
  const online = await users.find({ tenant_id: tenantId, status: 'online', is_active: true, deleted_at: null }, { _id: 1 });
  const members = divisionId ? new Set((await divisionMembers.find({ tenant_id: tenantId, division_id: divisionId })).map((m) => m.user_id)) : null;
  const roleIds = [...new Set(online.map((u) => u.role_id))];
  const roleList = await Promise.all(roleIds.map((id) => roles.findOwnedOrNull(tenantId, id)));
  const answering = new Set(roleList.filter((r) => r?.permissions.includes('conversations.view')).map((r) => r?._id));
  return online.filter((u) => answering.has(u.role_id) && (!members || members.has(u._id)));
}

const load = (state: AssignmentState, agentId: string) => state.holdings[agentId]?.length ?? 0;

/** The next agent after the division's cursor with room for one more conversation. */
function pick(state: AssignmentState, divisionId: string | null, agents: User[]): User | null {
  const free = agents.filter((a) => load(state, a._id) < a.max_concurrent_conversations);
  if (free.length === 0) return null;
  const cursor = state.cursors[divisionId ?? NO_DIVISION];
  return free.find((a) => cursor !== undefined && a._id > cursor) ?? free[0] ?? null;
}

function book(state: AssignmentState, conversationId: string, agentId: string | null) {
  for (const [agent, held] of Object.entries(state.holdings)) {
    const rest = held.filter((id) => id !== conversationId);
    if (rest.length) state.holdings[agent] = rest;
    else delete state.holdings[agent];
  }
  if (agentId) state.holdings[agentId] = [...(state.holdings[agentId] ?? []), conversationId];
  state.queue = state.queue.filter((q) => q.conversation_id !== conversationId);
}

/** Serves waiting conversations, oldest first, while someone has room. */
async function drain(tenantId: string, state: AssignmentState): Promise<AssignmentDecision[]> {
  const decisions: AssignmentDecision[] = [];
  if (!state.enabled) return decisions;
  const byDivision = new Map<string, User[]>();
  for (const waiting of [...state.queue]) {
    const key = waiting.division_id ?? NO_DIVISION;
    if (!byDivision.has(key)) byDivision.set(key, await candidates(tenantId, waiting.division_id));
    const agent = pick(state, waiting.division_id, byDivision.get(key) ?? []);
    if (!agent) continue;
    book(state, waiting.conversation_id, agent._id);
    state.cursors[key] = agent._id;
    decisions.push({ conversationId: waiting.conversation_id, agentId: agent._id });
  }
  return decisions;
}

/** A new unassigned conversation asks for an agent. */
export interface RequestAssignmentMessage {
  conversationId: string;
  divisionId: string | null;
}

async function requestAssignment(tenantId: string, msg: RequestAssignmentMessage): Promise<{ decisions: AssignmentDecision[]; queued: boolean }> {
  const state = await loadAssignmentState(tenantId);
  if (!state.enabled) return { decisions: [], queued: false };
  const alreadyHeld = Object.values(state.holdings).some((held) => held.includes(msg.conversationId));
  if (!alreadyHeld && !state.queue.some((q) => q.conversation_id === msg.conversationId)) {
    state.queue.push({ conversation_id: msg.conversationId, division_id: msg.divisionId, queued_at: new Date() });
  }
  const decisions = await drain(tenantId, state);
  await saveAssignmentState(state);
  return { decisions, queued: state.queue.some((q) => q.conversation_id === msg.conversationId) };
}

/** A conversation's assignee changed, or it stopped being open: book it, serve the queue. */
export interface TrackAssignmentMessage {
  conversationId: string;
  /** The assignee now, or null. */
  agentId: string | null;
  /** False once the conversation is resolved, closed or expired: it no longer takes capacity. */
  open: boolean;
  divisionId: string | null;
}

async function trackAssignment(tenantId: string, msg: TrackAssignmentMessage): Promise<{ decisions: AssignmentDecision[] }> {
  const state = await loadAssignmentState(tenantId);
  book(state, msg.conversationId, msg.open ? msg.agentId : null);
  // Unassigned but still open: it waits for the next free agent.
  if (msg.open && !msg.agentId && state.enabled) {
    state.queue.push({ conversation_id: msg.conversationId, division_id: msg.divisionId, queued_at: new Date() });
  }
  const decisions = await drain(tenantId, state);
  await saveAssignmentState(state);
  return { decisions };
}

/** An agent came online or got more capacity: serve the queue. */
async function serveQueue(tenantId: string, _msg: Record<string, never>): Promise<{ decisions: AssignmentDecision[] }> {
  const state = await loadAssignmentState(tenantId);
  const decisions = await drain(tenantId, state);
  if (decisions.length) await saveAssignmentState(state);
  return { decisions };
}

/** Turns auto-assignment on or off for the tenant. */
async function setAutoAssignment(tenantId: string, msg: { enabled: boolean }): Promise<{ enabled: boolean; queued: number }> {
  const state = await loadAssignmentState(tenantId);
  state.enabled = msg.enabled;
  if (!msg.enabled) state.queue = [];
  await saveAssignmentState(state);
  return { enabled: state.enabled, queued: state.queue.length };
}

/** The auto-assignment message types of the tenant actor. */
export const assignmentHandlers = {
  'assignment.request': requestAssignment,
  'assignment.track': trackAssignment,
  'assignment.serve_queue': serveQueue,
  'assignment.set_enabled': setAutoAssignment,
};
