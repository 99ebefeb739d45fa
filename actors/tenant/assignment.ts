/**
 * Tenant-actor handlers for auto-assignment (round-robin among online agents under their
 * concurrency limit, first-in-first-out queue when nobody is free). They only decide and book;
 * the caller applies each decision through the conversation's actor, because the tenant actor
 * must never wait on a conversation actor (which itself waits on the tenant actor for events).
 *
 * The book lives in the actor's memory, loaded once when the actor starts, and every change is
 * written as it is made: one small document per holding or waiting conversation
 * (src/models/assignment-state.ts), so a booking costs one or two single-document writes.
 */
import {
  clearQueue,
  deleteHolding,
  deleteWaiting,
  loadBook,
  saveCursor,
  saveEnabled,
  saveHolding,
  saveWaiting,
} from '../../src/models/assignment-state.js';
import { divisionMembers } from '../../src/models/division.js';
import { roles } from '../../src/models/role.js';
import { users, type User } from '../../src/models/user.js';
import type { AssignmentBook, TenantState } from './state.js';

/** One decision for the caller to apply. */
export interface AssignmentDecision {
  conversationId: string;
  agentId: string;
}

const NO_DIVISION = '_none';

/** The book in memory, read from the database the first time this actor needs it. */
async function bookOf(tenantId: string, state: TenantState): Promise<AssignmentBook> {
  if (state.assignment) return state.assignment;
  const stored = await loadBook(tenantId);
  const book: AssignmentBook = {
    enabled: stored.settings.enabled,
    cursors: new Map(Object.entries(stored.settings.cursors)),
    holderOf: new Map(stored.holdings.map((h) => [h.conversation_id, h.agent_id])),
    load: new Map(),
    queue: new Map(),
    waiting: new Map(),
    saturated: new Set(),
  };
  for (const q of stored.queue) queueUp(book, q.conversation_id, q.division_id);
  for (const agent of book.holderOf.values()) book.load.set(agent, (book.load.get(agent) ?? 0) + 1);
  state.assignment = book;
  return book;
}

/** Online, active agents who may answer conversations of this division, in a stable order. */
async function candidates(tenantId: string, divisionId: string | null): Promise<User[]> {
  const [online, members] = await Promise.all([
    users.find({ tenant_id: tenantId, status: 'online', is_active: true, deleted_at: null }, { _id: 1 }),
    divisionId ? divisionMembers.find({ tenant_id: tenantId, division_id: divisionId }) : null,
  ]);
  const memberIds = members ? new Set(members.map((m) => m.user_id)) : null;
  const answering = new Set((await roles.findMany(tenantId, online.map((u) => u.role_id))).filter((r) => r.permissions.includes('conversations.view')).map((r) => r._id));
  return online.filter((u) => answering.has(u.role_id) && (!memberIds || memberIds.has(u._id)));
}

/** The next agent after the division's cursor with room for one more conversation. */
function pick(book: AssignmentBook, divisionId: string | null, agents: User[]): User | null {
  const free = agents.filter((a) => (book.load.get(a._id) ?? 0) < a.max_concurrent_conversations);
  if (free.length === 0) return null;
  const cursor = book.cursors.get(divisionId ?? NO_DIVISION);
  return free.find((a) => cursor !== undefined && a._id > cursor) ?? free[0] ?? null;
}

/** Books the conversation to `agentId` (or to nobody), in memory and in the database. */
async function book(tenantId: string, b: AssignmentBook, conversationId: string, agentId: string | null): Promise<void> {
  const holder = b.holderOf.get(conversationId);
  if (holder === agentId) return;
  if (holder) {
    b.load.set(holder, (b.load.get(holder) ?? 1) - 1);
    // Room freed for an agent who may serve any of their divisions.
    b.saturated.clear();
  }
  if (agentId) {
    b.holderOf.set(conversationId, agentId);
    b.load.set(agentId, (b.load.get(agentId) ?? 0) + 1);
    await saveHolding(tenantId, conversationId, agentId);
  } else {
    b.holderOf.delete(conversationId);
    await deleteHolding(tenantId, conversationId);
  }
}

const keyOf = (divisionId: string | null) => divisionId ?? NO_DIVISION;

/** Adds to the queue in memory (a conversation already waiting keeps its place). */
function queueUp(b: AssignmentBook, conversationId: string, divisionId: string | null): boolean {
  if (b.queue.has(conversationId)) return false;
  b.queue.set(conversationId, divisionId);
  b.waiting.set(keyOf(divisionId), (b.waiting.get(keyOf(divisionId)) ?? 0) + 1);
  return true;
}

async function enqueue(tenantId: string, b: AssignmentBook, conversationId: string, divisionId: string | null): Promise<void> {
  if (queueUp(b, conversationId, divisionId)) await saveWaiting({ tenant_id: tenantId, conversation_id: conversationId, division_id: divisionId, queued_at: new Date() });
}

async function dequeue(tenantId: string, b: AssignmentBook, conversationIds: string[]): Promise<void> {
  const leaving = conversationIds.filter((id) => b.queue.has(id));
  for (const id of leaving) {
    const key = keyOf(b.queue.get(id) ?? null);
    b.queue.delete(id);
    const left = (b.waiting.get(key) ?? 1) - 1;
    if (left > 0) b.waiting.set(key, left);
    else b.waiting.delete(key);
  }
  if (leaving.length > 0) await deleteWaiting(tenantId, leaving);
}

/** Serves waiting conversations, oldest first, while someone has room. */
async function drain(tenantId: string, b: AssignmentBook): Promise<AssignmentDecision[]> {
  const decisions: AssignmentDecision[] = [];
  // Only divisions where someone may have room; a long queue of saturated ones costs nothing.
  const open = () => [...b.waiting.keys()].some((key) => !b.saturated.has(key));
  if (!b.enabled || !open()) return decisions;
  const byDivision = new Map<string, User[]>();
  const movedCursors = new Set<string>();
  for (const [conversationId, divisionId] of b.queue) {
    const key = keyOf(divisionId);
    if (b.saturated.has(key)) {
      if (!open()) break;
      continue;
    }
    if (!byDivision.has(key)) byDivision.set(key, await candidates(tenantId, divisionId));
    const agent = pick(b, divisionId, byDivision.get(key) ?? []);
    if (!agent) {
      b.saturated.add(key);
      continue;
    }
    await book(tenantId, b, conversationId, agent._id);
    b.cursors.set(key, agent._id);
    movedCursors.add(key);
    decisions.push({ conversationId, agentId: agent._id });
  }
  await Promise.all([dequeue(tenantId, b, decisions.map((d) => d.conversationId)), ...[...movedCursors].map((key) => saveCursor(tenantId, key, b.cursors.get(key) ?? ''))]);
  return decisions;
}

/** A new unassigned conversation asks for an agent. */
export interface RequestAssignmentMessage {
  conversationId: string;
  divisionId: string | null;
}

async function requestAssignment(tenantId: string, msg: RequestAssignmentMessage, state: TenantState): Promise<{ decisions: AssignmentDecision[]; queued: boolean }> {
  const b = await bookOf(tenantId, state);
  if (!b.enabled) return { decisions: [], queued: false };
  if (!b.holderOf.has(msg.conversationId)) await enqueue(tenantId, b, msg.conversationId, msg.divisionId);
  const decisions = await drain(tenantId, b);
  return { decisions, queued: b.queue.has(msg.conversationId) };
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

async function trackAssignment(tenantId: string, msg: TrackAssignmentMessage, state: TenantState): Promise<{ decisions: AssignmentDecision[] }> {
  const b = await bookOf(tenantId, state);
  await book(tenantId, b, msg.conversationId, msg.open ? msg.agentId : null);
  await dequeue(tenantId, b, [msg.conversationId]);
  // Unassigned but still open: it waits for the next free agent.
  if (msg.open && !msg.agentId && b.enabled) await enqueue(tenantId, b, msg.conversationId, msg.divisionId);
  return { decisions: await drain(tenantId, b) };
}

/** An agent came online, got more capacity or joined a division: serve the queue. */
async function serveQueue(tenantId: string, _msg: Record<string, never>, state: TenantState): Promise<{ decisions: AssignmentDecision[] }> {
  const b = await bookOf(tenantId, state);
  b.saturated.clear();
  return { decisions: await drain(tenantId, b) };
}

/** Turns auto-assignment on or off for the tenant; off empties the queue. */
async function setAutoAssignment(tenantId: string, msg: { enabled: boolean }, state: TenantState): Promise<{ enabled: boolean; queued: number }> {
  const b = await bookOf(tenantId, state);
  b.enabled = msg.enabled;
  b.saturated.clear();
  await saveEnabled(tenantId, msg.enabled);
  if (!msg.enabled) {
    b.queue.clear();
    b.waiting.clear();
    await clearQueue(tenantId);
  }
  return { enabled: b.enabled, queued: b.queue.size };
}

/** The auto-assignment message types of the tenant actor. */
export const assignmentHandlers = {
  'assignment.request': requestAssignment,
  'assignment.track': trackAssignment,
  'assignment.serve_queue': serveQueue,
  'assignment.set_enabled': setAutoAssignment,
};
