/**
 * Conversation-actor handler for transfers. The state checks (a closed or expired conversation,
 * a transfer that would change nothing) are made here, against the conversation as the mailbox
 * sees it, so a transfer racing a close or an assignment is judged on the current state; the
 * service has already checked the target agent and division.
 *
 * Who hears about it: conversation.transferred goes to the NEW audience (the new division's
 * members and the new assignee) and also to the previous assignee, the previous division's
 * members and the agent who made the transfer, so every inbox the conversation leaves or enters
 * updates live. Afterwards only the new audience receives the conversation's events.
 */
import type { AssignmentDecision } from '../tenant/assignment.js';
import { askTenant } from '../tenant/index.js';
import { StateError } from '../../src/errors.js';
import { audienceOf } from '../../src/events/audience.js';
import { draftEvent, eventIdOf } from '../../src/events/publish.js';
import { EVENTS, type Audience } from '../../src/events/types.js';
import { logger } from '../../src/logger.js';
import type { Conversation } from '../../src/models/conversation.js';
import { transfers } from '../../src/models/transfer.js';
import { presentTransferredConversation } from '../../src/presenters/transfer.js';
import { FINAL_STATUSES } from './lifecycle.js';
import { commitConversation, insertOnce, type ConversationHandler } from './state.js';

/** Where the conversation goes (at least one of the two), why, and who sends it there. */
export interface TransferPayload {
  /** Chosen by the caller (time-ordered), so a retried message finds the record it stored. */
  transferId: string;
  toAgentId: string | null;
  toDivisionId: string | null;
  reason: string;
  transferredBy: string;
}

/** The transfer record written, and what auto-assignment decided after it. */
export interface TransferReply {
  transferId: string;
  /** Queued conversations (this one included, after a division-only transfer) now served, for the caller to apply. */
  decisions: AssignmentDecision[];
}

/**
 * Where the conversation ends up: a division-only transfer unassigns it so the division's agents
 * can pick it up; an agent-only transfer keeps the division (the new assignee sees it as theirs).
 */
function target(c: Conversation, p: TransferPayload): Pick<Conversation, 'division_id' | 'assignee_id'> {
  return { division_id: p.toDivisionId ?? c.division_id, assignee_id: p.toAgentId };
}

/** Moves the conversation, appends the history record, and tells old and new audiences. */
const transferConversation: ConversationHandler<TransferPayload, TransferReply> = async (c, p) => {
  if (FINAL_STATUSES.has(c.status)) throw StateError(`A ${c.status} conversation cannot be transferred`);
  const to = target(c, p);
  if (to.division_id === c.division_id && to.assignee_id === c.assignee_id) {
    throw StateError(
      p.toAgentId ? 'The conversation is already assigned to this agent' : 'The conversation is already waiting, unassigned, in this division',
    );
  }
  const key = `transfer:${p.transferId}`;
  const { stored: transfer, committed } = await insertOnce(
    transfers,
    {
      _id: p.transferId,
      tenant_id: c.tenant_id,
      conversation_id: c._id,
      from_agent_id: c.assignee_id,
      from_division_id: c.division_id,
      to_agent_id: p.toAgentId,
      to_division_id: p.toDivisionId,
      reason: p.reason,
      transferred_by: p.transferredBy,
    },
    eventIdOf(c.tenant_id, key, EVENTS.conversationTransferred),
  );
  if (committed) return { state: c, reply: { transferId: transfer._id, decisions: [] } };
  const next = await commitConversation(c, to, (after) => [
    draftEvent(c.tenant_id, key, EVENTS.conversationTransferred, presentTransferredConversation(after, transfer), transferAudience(c, after, p.transferredBy)),
  ]);
  return { state: next, reply: { transferId: transfer._id, decisions: await book(next) } };
};

/**
 * Books the new holder with auto-assignment: the new assignee's load, or, after a division-only
 * transfer, a place in the new division's queue, so a free agent there picks it up. A failure
 * is logged, not thrown: the transfer is already durable.
 */
async function book(after: Conversation): Promise<AssignmentDecision[]> {
  try {
    const { decisions } = await askTenant(after.tenant_id, 'assignment.track', {
      conversationId: after._id,
      agentId: after.assignee_id,
      open: after.status === 'open' || after.status === 'pending',
      divisionId: after.division_id,
    });
    return decisions;
  } catch (err) {
    logger.error({ err, conversation: after._id }, 'auto-assignment booking after a transfer failed');
    return [];
  }
}

/** The new audience, widened to the previous assignee and division and the transferring agent. */
function transferAudience(before: Conversation, after: Conversation, by: string): Audience {
  const agents = [before.assignee_id, by].filter((a): a is string => a !== null && a !== after.assignee_id);
  const divisions = before.division_id && before.division_id !== after.division_id ? [before.division_id] : [];
  return {
    ...audienceOf(after),
    ...(agents.length ? { alsoAgentIds: [...new Set(agents)] } : {}),
    ...(divisions.length ? { alsoDivisionIds: divisions } : {}),
  };
}

/** The transfer message types of the conversation actor. */
export const transferHandlers = {
  transfer: transferConversation,
};
