/**
 * The Conversations use cases: list and read what the caller may see, and change one
 * conversation (assign, take over, status, read, tags). Every change is a message to the
 * conversation's actor, which judges it on the current state; this module checks the caller's
 * visibility and the target agent first, and answers the conversation as stored afterwards.
 */
import { askConversation, type ConversationPayload } from '../../actors/conversation/index.js';
import type { ChangeReply, TagsPayload } from '../../actors/conversation/lifecycle.js';
import type { AssignmentDecision } from '../../actors/tenant/assignment.js';
import type { ChannelName } from '../../channels/types.js';
import type { Principal } from '../auth/principal.js';
import { ValidationError } from '../errors.js';
import { logger } from '../logger.js';
import { contacts, type Contact } from '../models/contact.js';
import { conversations, reviveConversation, type Conversation, type ConversationStatus } from '../models/conversation.js';
import type { Page } from '../models/repo.js';
import { roles } from '../models/role.js';
import { users, type User } from '../models/user.js';
import { findVisibleConversation, visibleConversationsFilter } from './conversation-access.js';
import { sendReadReceipt } from './outbound.js';

/** A conversation with its contact, as the Conversations API answers it. */
export interface ConversationView {
  conversation: Conversation;
  /** Null only when the contact no longer exists. */
  contact: Contact | null;
}

/** Who is acting. */
export interface Acting {
  /** The caller's tenant. */
  tenantId: string;
  /** The caller. */
  principal: Principal;
}

/** A change to one conversation by the caller. */
export interface OnConversation extends Acting {
  /** The conversation's id. */
  id: string;
}

/** The inbox filters of the conversation list. */
export interface ListConversations extends Acting {
  /** One or several statuses. */
  statuses?: ConversationStatus[];
  /** An agent's id, 'me' for the caller, or 'unassigned'. */
  assignee?: string;
  /** A division's id, or 'none' for conversations in no division. */
  division?: string;
  contactId?: string;
  channel?: ChannelName;
  /** Conversations carrying this (normalized) tag. */
  tag?: string;
  /** Only conversations with (true) or without (false) unread customer messages. */
  unread?: boolean;
  page: number;
  limit: number;
}

/** Attaches contacts, in one `_id` query for the page. */
async function withContacts(tenantId: string, list: Conversation[]): Promise<ConversationView[]> {
  const found = await contacts.findMany(tenantId, list.map((c) => c.contact_id));
  const byId = new Map(found.map((c) => [c._id, c]));
  return list.map((conversation) => ({ conversation, contact: byId.get(conversation.contact_id) ?? null }));
}

/** The conversations the caller may see, newest activity first, filtered. */
export async function listConversations(cmd: ListConversations): Promise<Page<ConversationView>> {
  const filter: Record<string, unknown> = { ...(await visibleConversationsFilter(cmd.principal)) };
  if (cmd.statuses?.length) filter.status = cmd.statuses.length === 1 ? cmd.statuses[0] : { $in: cmd.statuses };
  if (cmd.assignee) filter.assignee_id = cmd.assignee === 'unassigned' ? null : cmd.assignee === 'me' ? cmd.principal.userId : cmd.assignee;
  if (cmd.division) filter.division_id = cmd.division === 'none' ? null : cmd.division;
  if (cmd.contactId) filter.contact_id = cmd.contactId;
  if (cmd.channel) filter.channel = cmd.channel;
  if (cmd.tag) filter.tags = cmd.tag;
  if (cmd.unread !== undefined) filter.unread_count = cmd.unread ? { $gt: 0 } : 0;
  const page = await conversations.page({ ...filter, tenant_id: cmd.tenantId }, { last_message_at: -1, _id: -1 }, cmd.page, cmd.limit);
  return { ...page, items: await withContacts(cmd.tenantId, page.items) };
}

/** One conversation the caller may see (404 otherwise), with its contact. */
export async function getConversation(cmd: OnConversation): Promise<ConversationView> {
  const conversation = await findVisibleConversation(cmd.principal, cmd.id);
  const [view] = await withContacts(cmd.tenantId, [conversation]);
  return view as ConversationView;
}

/**
 * The conversation as a change left it, with its contact: as the actor answered it, or read again
 * when auto-assignment's decisions after the change moved it on (a conversation the change put
 * back in the queue, served at once).
 */
async function viewAfter(tenantId: string, id: string, reply: ChangeReply): Promise<ConversationView> {
  const movedOn = reply.decisions.some((d) => d.conversationId === id);
  const conversation = reply.conversation && !movedOn ? reviveConversation(reply.conversation) : await conversations.findOwned(tenantId, id);
  const [view] = await withContacts(tenantId, [conversation]);
  return view as ConversationView;
}

/**
 * Applies auto-assignment's decisions (queued conversations served because capacity freed up),
 * each through its conversation's actor. A failure is logged: the booking stays with the tenant
 * actor, and the conversation is handed back to the queue on its next change.
 */
export async function applyAssignmentDecisions(decisions: AssignmentDecision[]): Promise<void> {
  let pending = decisions;
  // Bounded: a refused decision can free capacity for another, but never loops for long.
  for (let round = 0; pending.length > 0 && round < 5; round++) {
    const replies = await Promise.all(
      pending.map((d) =>
        askConversation(d.conversationId, 'assign', { agentId: d.agentId, assignedBy: null, booked: true }).catch((err: unknown) => {
          logger.error({ err, conversation: d.conversationId }, 'auto-assignment decision not applied');
          return null;
        }),
      ),
    );
    pending = replies.flatMap((r) => r?.decisions ?? []);
  }
}

/** Sends one change to a visible conversation's actor and applies what it freed up. */
export async function changeConversation<T extends 'assign' | 'takeover' | 'set_status' | 'mark_read' | 'change_tags'>(
  id: string,
  type: T,
  payload: ConversationPayload<T>,
): Promise<ChangeReply> {
  const reply = (await askConversation(id, type, payload)) as ChangeReply;
  await applyAssignmentDecisions(reply.decisions);
  return reply;
}

const agentError = (message: string) => ValidationError(message, [{ in: 'body', field: 'agent_id', message }]);

/** A live, active agent of the tenant whose role can see conversations; 400 otherwise (another tenant's id is "unknown agent"). */
export async function assignableAgent(tenantId: string, agentId: string): Promise<User> {
  const agent = await users.findOwnedOrNull(tenantId, agentId);
  if (!agent) throw agentError('unknown agent');
  if (agent.deleted_at) throw agentError('the agent was deleted');
  if (!agent.is_active) throw agentError('the agent is deactivated');
  const role = await roles.findOwnedOrNull(tenantId, agent.role_id);
  if (!role?.permissions.includes('conversations.view')) throw agentError('the agent’s role cannot see conversations');
  return agent;
}

/** Assigns to an agent, or unassigns (agentId null). */
export interface AssignConversation extends OnConversation {
  agentId: string | null;
}

/** Assigns or unassigns a conversation the caller may see; 422 for a closed or expired one. */
export async function assignConversation(cmd: AssignConversation): Promise<ConversationView> {
  await findVisibleConversation(cmd.principal, cmd.id);
  if (cmd.agentId) await assignableAgent(cmd.tenantId, cmd.agentId);
  const reply = await changeConversation(cmd.id, 'assign', { agentId: cmd.agentId, assignedBy: cmd.principal.userId });
  return viewAfter(cmd.tenantId, cmd.id, reply);
}

/** A takeover by the caller. */
export interface TakeOverConversation extends OnConversation {
  reason: string | null;
}

/** The caller becomes the assignee whoever holds it; answers who held it before. */
export async function takeOverConversation(cmd: TakeOverConversation): Promise<ConversationView & { previousAssigneeId: string | null }> {
  await findVisibleConversation(cmd.principal, cmd.id);
  const reply = await changeConversation(cmd.id, 'takeover', { agentId: cmd.principal.userId, reason: cmd.reason });
  return { ...(await viewAfter(cmd.tenantId, cmd.id, reply)), previousAssigneeId: reply.previousAssigneeId ?? null };
}

/** A status change by the caller. */
export interface SetConversationStatus extends OnConversation {
  status: ConversationStatus;
}

/** Moves a conversation along an allowed transition (422 otherwise; the same status changes nothing). */
export async function setConversationStatus(cmd: SetConversationStatus): Promise<ConversationView> {
  await findVisibleConversation(cmd.principal, cmd.id);
  const reply = await changeConversation(cmd.id, 'set_status', { status: cmd.status });
  return viewAfter(cmd.tenantId, cmd.id, reply);
}

/** Records that the caller read the conversation (and clears its unread count when it is theirs or nobody's). */
export async function markConversationRead(cmd: OnConversation): Promise<ConversationView> {
  const before = await findVisibleConversation(cmd.principal, cmd.id);
  const reply = await changeConversation(cmd.id, 'mark_read', { agentId: cmd.principal.userId });
  const after = await viewAfter(cmd.tenantId, cmd.id, reply);
  // The customer sees "read" once the unread messages are read by whoever owns them.
  if (before.unread_count > 0 && after.conversation.unread_count === 0) void sendReadReceipt(after.conversation);
  return after;
}

/** A tag change: `set` replaces the list, or `add`/`remove` edit it (tags already normalized). */
export interface ChangeConversationTags extends OnConversation, TagsPayload {}

/** Replaces or edits a conversation's tags through its actor, so concurrent edits are all kept. */
export async function changeConversationTags(cmd: ChangeConversationTags): Promise<ConversationView> {
  await findVisibleConversation(cmd.principal, cmd.id);
  const reply = await changeConversation(cmd.id, 'change_tags', { set: cmd.set, add: cmd.add, remove: cmd.remove });
  return viewAfter(cmd.tenantId, cmd.id, reply);
}
