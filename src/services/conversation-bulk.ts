/**
 * Changes to many conversations at once: bulk actions chosen by an agent, and the expiry of
 * conversations whose customer went quiet (chat-expiration.ts applies it). Each conversation is
 * changed through its own actor and judged on its own, so one closed or invisible conversation
 * never fails the others.
 */
import { AppError, ForbiddenError } from '../errors.js';
import { logger } from '../logger.js';
import type { ConversationStatus } from '../models/conversation.js';
import { closingMessagesOf, expireIdleConversations } from './chat-expiration.js';
import { findVisibleConversation, visibleConversationsFilter } from './conversation-access.js';
import { assignableAgent, changeConversation, type Acting } from './conversations.js';

/** What to do to every listed conversation. */
export type BulkChange =
  | { action: 'assign'; agentId: string }
  | { action: 'unassign' }
  | { action: 'status'; status: ConversationStatus }
  | { action: 'add_tags'; tags: string[] }
  | { action: 'remove_tags'; tags: string[] };

/** A bulk action on listed conversations. */
export interface BulkUpdateConversations extends Acting {
  /** Distinct conversation ids, at most 100. */
  ids: string[];
  change: BulkChange;
}

/** The outcome for one conversation: `status` is the HTTP status its own request would have had. */
export interface BulkResult {
  id: string;
  ok: boolean;
  status: number;
  code?: string;
  error?: string;
}

/** How many conversations a bulk call changes at the same time. */
const PARALLEL = 8;

/** Runs `fn` over `items` with at most PARALLEL at once, answers in input order. */
async function mapLimited<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}

/** Sends the action for one conversation to its actor. */
function applyTo(id: string, change: BulkChange, by: string) {
  switch (change.action) {
    case 'assign':
      return changeConversation(id, 'assign', { agentId: change.agentId, assignedBy: by });
    case 'unassign':
      return changeConversation(id, 'assign', { agentId: null, assignedBy: by });
    case 'status':
      return changeConversation(id, 'set_status', { status: change.status });
    case 'add_tags':
      return changeConversation(id, 'change_tags', { add: change.tags });
    case 'remove_tags':
      return changeConversation(id, 'change_tags', { remove: change.tags });
  }
}

/**
 * Applies one action to each listed conversation and reports per id. Assigning and unassigning
 * also need conversations.assign (403 for the whole call, before anything changes); an invalid
 * target agent is a 400 for the whole call; a conversation of another tenant or hidden from the
 * caller is reported `not_found`, a change its state forbids `state_not_allowed`.
 */
export async function bulkUpdateConversations(cmd: BulkUpdateConversations): Promise<BulkResult[]> {
  const { action } = cmd.change;
  if ((action === 'assign' || action === 'unassign') && !cmd.principal.permissions.has('conversations.assign')) {
    throw ForbiddenError(`Requires the conversations.assign permission to ${action} in bulk`);
  }
  if (cmd.change.action === 'assign') await assignableAgent(cmd.tenantId, cmd.change.agentId);
  return mapLimited(cmd.ids, async (id): Promise<BulkResult> => {
    try {
      await findVisibleConversation(cmd.principal, id);
      await applyTo(id, cmd.change, cmd.principal.userId);
      return { id, ok: true, status: 200 };
    } catch (err) {
      if (err instanceof AppError) return { id, ok: false, status: err.status, code: err.code, error: err.message };
      logger.error({ err, conversation: id }, 'bulk conversation action failed');
      return { id, ok: false, status: 500, code: 'internal_error', error: 'The change could not be applied' };
    }
  });
}

/** An expiry sweep by the caller. */
export interface ExpireConversations extends Acting {
  /** Idle for longer than this many hours. */
  olderThanHours: number;
}

/**
 * Expires the open and pending conversations the caller may see whose customer last wrote (or,
 * with no inbound message, whose last message or creation was) before the cutoff, oldest first,
 * at most 500, sending a channel's closing message first where its chat expiration rule is
 * enabled and has one. The same function as the chat-expiration sweeper's (chat-expiration.ts).
 */
export async function expireStaleConversations(cmd: ExpireConversations): Promise<{ expired: string[]; hasMore: boolean }> {
  const { expired, hasMore } = await expireIdleConversations({
    tenantId: cmd.tenantId,
    cutoff: new Date(Date.now() - cmd.olderThanHours * 3_600_000),
    scope: await visibleConversationsFilter(cmd.principal),
    closingMessages: await closingMessagesOf(cmd.tenantId),
  });
  return { expired, hasMore };
}
