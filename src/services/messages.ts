/**
 * Messages use cases: a conversation's thread (newest page first, each page in reading order),
 * an agent's send (through the shared send path), and search across the conversations the
 * caller may see. Every conversation-scoped read goes through conversation-access, so a
 * conversation the caller may not see is a 404 exactly like another tenant's.
 */
import type { Principal } from '../auth/principal.js';
import type { ChannelName } from '../../channels/types.js';
import { ValidationError } from '../errors.js';
import { conversations } from '../models/conversation.js';
import { MESSAGE_SEARCHED, messages, type Message } from '../models/message.js';
import type { Scoped } from '../models/repo.js';
import { presentMessage } from '../presenters/conversation.js';
import { presentPage } from '../presenters/page.js';
import { findVisibleConversation, visibleConversationsFilter } from './conversation-access.js';
import { searchFilter } from './text-match.js';
import { sendOutbound, type OutgoingContent } from './outbound.js';

/** Who acts, in which organization. */
interface TenantCommand {
  /** The caller's organization. */
  tenantId: string;
  /** The caller; decides which conversations are visible. */
  principal: Principal;
}

/** List one conversation's messages. */
export interface ListMessages extends TenantCommand {
  conversationId: string;
  /** Page number counted from the newest page (1 = the latest messages); ignored with a cursor. */
  page?: number | undefined;
  limit: number;
  /** The messages right before this message (older), for scrolling back. */
  before?: string | undefined;
  /** The messages right after this message (newer), for catching up. */
  after?: string | undefined;
}

/** One page of a thread: `data` in reading order (oldest first) and where more lie. */
export interface MessagePage {
  data: ReturnType<typeof presentMessage>[];
  pagination: { page: number | null; limit: number; total: number; total_pages: number; has_older: boolean; has_newer: boolean };
}

// Conversation order: provider time, ties broken by id (the index on messages serves it).
const NEWEST_FIRST = { sent_at: -1, _id: -1 } as const;
const OLDEST_FIRST = { sent_at: 1, _id: 1 } as const;

/**
 * A page of the thread. Without a cursor, page 1 is the newest `limit` messages, page 2 the
 * ones before them; with `before`/`after` (a message id of this conversation) the `limit`
 * messages just older/newer than it. Each page lists oldest first, ready to render.
 */
export async function listMessages(q: ListMessages): Promise<MessagePage> {
  const c = await findVisibleConversation(q.principal, q.conversationId);
  const scope: Scoped = { tenant_id: q.tenantId, conversation_id: c._id };
  const total = await messages.count(scope);
  const totalPages = Math.ceil(total / q.limit);
  const cursorId = q.before ?? q.after;
  if (!cursorId) {
    const page = q.page ?? 1;
    const found = await messages.page(scope, NEWEST_FIRST, page, q.limit);
    return {
      data: found.items.reverse().map(presentMessage),
      pagination: { page, limit: q.limit, total, total_pages: totalPages, has_older: page * q.limit < total, has_newer: page > 1 },
    };
  }
  const field = q.before ? 'before' : 'after';
  const cursor = await messages.findOwnedOrNull(q.tenantId, cursorId);
  if (!cursor || cursor.conversation_id !== c._id) {
    const message = 'must be the id of a message in this conversation';
    throw ValidationError(`Invalid request query.${field}: ${message}`, [{ in: 'query', field, message }]);
  }
  const op = q.before ? '$lt' : '$gt';
  const filter: Scoped = { ...scope, $or: [{ sent_at: { [op]: cursor.sent_at } }, { sent_at: cursor.sent_at, _id: { [op]: cursor._id } }] };
  const found = await messages.find(filter, q.before ? NEWEST_FIRST : OLDEST_FIRST, q.limit + 1);
  const more = found.length > q.limit;
  const items = found.slice(0, q.limit);
  if (q.before) items.reverse();
  return {
    data: items.map(presentMessage),
    pagination: { page: null, limit: q.limit, total, total_pages: totalPages, has_older: q.before ? more : true, has_newer: q.before ? true : more },
  };
}

/** Send a message into a conversation as the calling agent. */
export interface SendMessage extends TenantCommand {
  conversationId: string;
  content: OutgoingContent;
  /** The client's key: a retry with the same key answers the first message and sends nothing. */
  idempotencyKey: string;
  replyToMessageId?: string | undefined;
}

/** Sends through the shared send path; `replayed` when an earlier request with the key already did. */
export async function sendMessage(cmd: SendMessage): Promise<{ message: ReturnType<typeof presentMessage>; replayed: boolean }> {
  const c = await findVisibleConversation(cmd.principal, cmd.conversationId);
  const outcome = await sendOutbound({
    tenantId: cmd.tenantId,
    conversationId: c._id,
    idempotencyKey: cmd.idempotencyKey,
    sender: { type: 'agent', id: cmd.principal.userId },
    content: cmd.content,
    replyToMessageId: cmd.replyToMessageId,
  });
  return { message: presentMessage(outcome.message), replayed: outcome.replayed };
}

/** Search messages across conversations. */
export interface SearchMessages extends TenantCommand {
  /** Text to find inside message texts, without case or accents (taken literally, not as a pattern). */
  q: string;
  channel?: ChannelName | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Only messages this agent sent. */
  agentId?: string | undefined;
  contactId?: string | undefined;
  conversationId?: string | undefined;
  page: number;
  limit: number;
}


/**
 * Messages whose text contains `q`, newest first, limited to conversations the caller may see:
 * the folded text taken literally (searchFilter: substring search without case or accents, which
 * a text index cannot do) over the tenant's messages in sent_at order; callers without
 * conversations.view_all are limited to their visible conversation ids.
 */
export async function searchMessages(q: SearchMessages) {
  const filter: Scoped = { tenant_id: q.tenantId, ...searchFilter([{ text: q.q, fields: MESSAGE_SEARCHED }]) };
  if (q.channel) filter.channel = q.channel;
  if (q.from || q.to) filter.sent_at = { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lte: q.to } : {}) };
  if (q.agentId) Object.assign(filter, { sender_type: 'agent', sender_id: q.agentId });
  if (q.contactId) filter.contact_id = q.contactId;
  if (q.conversationId) filter.conversation_id = q.conversationId;
  if (!q.principal.permissions.has('conversations.view_all')) {
    const visible = (await conversations.find(await visibleConversationsFilter(q.principal))).map((c) => c._id);
    const allowed = q.conversationId ? visible.filter((id) => id === q.conversationId) : visible;
    // A conversation the caller may not see has no messages for them, like one that does not exist.
    if (allowed.length === 0) return presentPage<Message, ReturnType<typeof presentMessage>>({ items: [], total: 0, page: q.page, limit: q.limit }, presentMessage);
    filter.conversation_id = { $in: allowed };
  }
  return presentPage(await messages.page(filter, NEWEST_FIRST, q.page, q.limit), presentMessage);
}
