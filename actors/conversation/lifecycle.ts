/**
 * Conversation-actor handlers for what agents do to a conversation: assign and unassign, take
 * over, change status, mark read, tag. The state rules (allowed status transitions, final
 * statuses, the tag limit) are judged here, against the conversation as the mailbox sees it, so
 * two requests racing on different processes are decided one after the other on current state;
 * services have already checked the caller, the target agent and the input's shape.
 *
 * Who hears about it: each change emits one event to the conversation's audience after the
 * change; an event that takes the conversation away from its assignee (reassign, unassign,
 * takeover) also reaches that former assignee (`alsoAgentIds`), so their inbox drops it live
 * even when they are not in its division.
 *
 * Capacity: a change of assignee, or of whether the conversation still holds an agent's
 * capacity (open or pending), is booked with the tenant actor's auto-assignment; the decisions
 * it answers (queued conversations now served) are returned for the caller to apply, since a
 * conversation actor must not wait on another conversation's actor.
 */
import type { AssignmentDecision } from '../tenant/assignment.js';
import { askTenant } from '../tenant/index.js';
import { StateError } from '../../src/errors.js';
import { audienceOf } from '../../src/events/audience.js';
import { EVENTS, type Audience } from '../../src/events/types.js';
import { logger } from '../../src/logger.js';
import { releaseSlot as freeSlot, type Conversation, type ConversationStatus } from '../../src/models/conversation.js';
import { presentConversation } from '../../src/presenters/conversation.js';
import { presentAssignedConversation, presentTakenOverConversation } from '../../src/presenters/conversation-view.js';
import { slotId } from '../../src/services/conversation-opening.js';
import { changeEvent, commitConversation, type ConversationHandler } from './state.js';

/** Statuses nothing leaves: the conversation is over and its slot released. */
export const FINAL_STATUSES: ReadonlySet<ConversationStatus> = new Set(['closed', 'expired']);

/** Where each status may go (expired only through the expiry sweep). */
export const TRANSITIONS: Record<ConversationStatus, readonly ConversationStatus[]> = {
  open: ['pending', 'resolved', 'closed', 'expired'],
  pending: ['open', 'resolved', 'closed', 'expired'],
  resolved: ['open', 'closed'],
  closed: [],
  expired: [],
};

/** Most tags one conversation holds. */
export const MAX_TAGS = 30;

/** What every lifecycle handler answers. */
export interface ChangeReply {
  /** False when the request changed nothing (same assignee, same status, same tags). */
  changed: boolean;
  /** Queued conversations auto-assignment now serves, for the caller to apply. */
  decisions: AssignmentDecision[];
  /** Assign and takeover: who held the conversation when the change was judged. */
  previousAssigneeId?: string | null;
  /** The conversation as the change left it (dates as ISO strings: replies cross processes). */
  conversation?: Conversation;
}

/** A lifecycle handler whose reply also carries the conversation it left, so callers need not read it again. */
function answering<P>(handler: ConversationHandler<P, ChangeReply>): ConversationHandler<P, ChangeReply> {
  return async (c, p) => {
    const { state, reply } = await handler(c, p);
    // Without the change's events: the caller wants the conversation, the log has those.
    return { state, reply: { ...reply, conversation: { ...state, outbox: [] } } };
  };
}

const holdsCapacity = (c: Conversation) => c.status === 'open' || c.status === 'pending';

/** The audience after a change, widened to the agent who just lost the conversation. */
function audienceLeaving(before: Conversation, after: Conversation): Audience {
  const former = before.assignee_id;
  if (!former || former === after.assignee_id) return audienceOf(after);
  return { scope: 'conversation', conversationId: after._id, divisionId: after.division_id, assigneeId: after.assignee_id, alsoAgentIds: [former] };
}

/** Books a change of assignee or capacity with auto-assignment; a failure is logged, not thrown (the change is durable). */
async function track(before: Conversation, after: Conversation, force = false): Promise<AssignmentDecision[]> {
  if (!force && before.assignee_id === after.assignee_id && holdsCapacity(before) === holdsCapacity(after)) return [];
  try {
    const { decisions } = await askTenant(after.tenant_id, 'assignment.track', {
      conversationId: after._id,
      agentId: after.assignee_id,
      open: holdsCapacity(after),
      divisionId: after.division_id,
    });
    return decisions;
  } catch (err) {
    logger.error({ err, conversation: after._id }, 'auto-assignment booking failed');
    return [];
  }
}

const unchanged = (c: Conversation) => ({ state: c, reply: { changed: false, decisions: [] } });

/** An assignment: an agent, or null to unassign. */
export interface AssignPayload {
  agentId: string | null;
  /** The agent making the change; null for auto-assignment. */
  assignedBy: string | null;
  /** True when auto-assignment has already booked this agent (it is applying its own decision). */
  booked?: boolean;
}

/** Sets or clears the assignee; closed and expired conversations keep theirs. */
const assign: ConversationHandler<AssignPayload, ChangeReply> = async (c, p) => {
  if (p.booked && (!holdsCapacity(c) || (c.assignee_id !== null && c.assignee_id !== p.agentId))) {
    // Someone got there first (a manual assignment, a close): give the booking back.
    return { state: c, reply: { changed: false, decisions: await track(c, c, true), previousAssigneeId: c.assignee_id } };
  }
  if (FINAL_STATUSES.has(c.status)) throw StateError(`A ${c.status} conversation cannot be ${p.agentId ? 'assigned' : 'unassigned'}`);
  if (c.assignee_id === p.agentId) return { state: c, reply: { changed: false, decisions: [], previousAssigneeId: c.assignee_id } };
  const next = await commitConversation(c, { assignee_id: p.agentId }, (after) => [
    changeEvent(after, EVENTS.conversationAssigned, presentAssignedConversation(after, c.assignee_id, p.assignedBy), audienceLeaving(c, after)),
  ]);
  return { state: next, reply: { changed: true, decisions: p.booked ? [] : await track(c, next), previousAssigneeId: c.assignee_id } };
};

/** A takeover by the calling agent. */
export interface TakeoverPayload {
  agentId: string;
  reason: string | null;
}

/** Makes the caller the assignee whoever holds it; the event names who held it before. */
const takeover: ConversationHandler<TakeoverPayload, ChangeReply> = async (c, p) => {
  if (FINAL_STATUSES.has(c.status)) throw StateError(`A ${c.status} conversation cannot be taken over`);
  // A retried takeover by the holder changes nothing.
  if (c.assignee_id === p.agentId) return { state: c, reply: { changed: false, decisions: [], previousAssigneeId: c.assignee_id } };
  const next = await commitConversation(c, { assignee_id: p.agentId }, (after) => [
    changeEvent(after, EVENTS.conversationTakeover, presentTakenOverConversation(after, c.assignee_id, p.agentId, p.reason), audienceLeaving(c, after)),
  ]);
  return { state: next, reply: { changed: true, decisions: await track(c, next), previousAssigneeId: c.assignee_id } };
};

/** A status change. */
export interface StatusPayload {
  status: ConversationStatus;
  /** Expiry only: expire only if the conversation is still open or pending and idle since before this time (ISO). */
  idleSince?: string;
}

/** When the customer (or, failing that, anyone) last wrote. */
export const lastActivityOf = (c: Conversation): Date => new Date(c.last_inbound_at ?? c.last_message_at ?? c.created_at);

function checkTransition(from: ConversationStatus, to: ConversationStatus) {
  if (TRANSITIONS[from].includes(to)) return;
  if (FINAL_STATUSES.has(from)) throw StateError(`The conversation is ${from}; a ${from} conversation cannot change status`);
  const allowed = TRANSITIONS[from].filter((s) => s !== 'expired');
  throw StateError(`A ${from} conversation cannot become ${to}; it can become ${allowed.join(', ')}`);
}

/** Frees the contact's open slot if it still names this conversation, so their next message starts a new one. */
const releaseSlot = (c: Conversation) => freeSlot(slotId(c.tenant_id, c.contact_id), c._id);

/** The change's one event: the conversation as it is after it. */
const updated = (after: Conversation) => [changeEvent(after, EVENTS.conversationUpdated, presentConversation(after))];

/** Moves the status along an allowed transition; closing or expiring releases the slot. */
const setStatus: ConversationHandler<StatusPayload, ChangeReply> = async (c, p) => {
  if (p.idleSince !== undefined && (!holdsCapacity(c) || lastActivityOf(c) >= new Date(p.idleSince))) return unchanged(c);
  if (c.status === p.status) {
    // A retried close finishes what a crash between the write and the release left undone.
    if (FINAL_STATUSES.has(c.status)) await releaseSlot(c);
    return unchanged(c);
  }
  checkTransition(c.status, p.status);
  const final = FINAL_STATUSES.has(p.status);
  const next = await commitConversation(c, { status: p.status, ...(final ? { closed_at: new Date() } : {}) }, updated);
  if (final) await releaseSlot(next);
  return { state: next, reply: { changed: true, decisions: await track(c, next) } };
};

/** An agent read the conversation. */
export interface ReadPayload {
  agentId: string;
}

/**
 * Records the agent's read marker. The unread count is the assignee's: it resets when the
 * assignee reads, or when anyone reads an unassigned conversation; a supervisor looking in on
 * someone else's conversation leaves it unread for its owner.
 */
const markRead: ConversationHandler<ReadPayload, ChangeReply> = async (c, p) => {
  const resets = c.assignee_id === null || c.assignee_id === p.agentId;
  const next = await commitConversation(
    c,
    { read_markers: { ...c.read_markers, [p.agentId]: new Date().toISOString() }, ...(resets ? { unread_count: 0 } : {}) },
    updated,
  );
  return { state: next, reply: { changed: true, decisions: [] } };
};

/** A tag change: `set` replaces the list; otherwise `add` then `remove` edit it. Tags arrive normalized. */
export interface TagsPayload {
  set?: string[];
  add?: string[];
  remove?: string[];
}

/** Applies a tag change on the current tags, so concurrent additions are all kept. */
const changeTags: ConversationHandler<TagsPayload, ChangeReply> = async (c, p) => {
  const removed = new Set(p.remove ?? []);
  const tags = [...new Set([...(p.set ?? c.tags), ...(p.add ?? [])])].filter((t) => !removed.has(t));
  if (tags.length > MAX_TAGS) throw StateError(`A conversation holds at most ${MAX_TAGS} tags; this change would leave ${tags.length}`);
  if (tags.length === c.tags.length && tags.every((t, i) => t === c.tags[i])) return unchanged(c);
  const next = await commitConversation(c, { tags }, updated);
  return { state: next, reply: { changed: true, decisions: [] } };
};

/** The lifecycle message types of the conversation actor. */
export const lifecycleHandlers = {
  assign: answering(assign),
  takeover: answering(takeover),
  set_status: answering(setStatus),
  mark_read: answering(markRead),
  change_tags: answering(changeTags),
};
