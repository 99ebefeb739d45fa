/**
 * Transfers: handing a conversation to another agent, to a division, or to a given agent of a
 * division, with a reason kept in its history. A target that cannot receive conversations is a
 * 400 naming the field (the agent must be live, active and able to see conversations, like an
 * assignee, and a member of the division when one is given; the division must exist and be
 * active). The conversation's actor then judges the conversation's own state (closed or
 * expired, or a transfer that would change nothing: 422), moves it and records the history in
 * one step; auto-assignment's answer (a free agent of the new division) is applied after.
 */
import { v7 as orderedId } from 'uuid';
import { askConversation } from '../../actors/conversation/index.js';
import type { Principal } from '../auth/principal.js';
import { BodyFieldError } from '../errors.js';
import { contacts, type Contact } from '../models/contact.js';
import { conversations, type Conversation } from '../models/conversation.js';
import { divisionMembers, divisions } from '../models/division.js';
import type { Page } from '../models/repo.js';
import { roles } from '../models/role.js';
import { transfers, type Transfer } from '../models/transfer.js';
import { users } from '../models/user.js';
import { findVisibleConversation } from './conversation-access.js';
import { applyAssignmentDecisions } from './conversations.js';
import { memberId } from './division-members.js';

/** Who is acting on which conversation. */
export interface OnConversation {
  /** The caller's tenant; every read and write is scoped to it. */
  tenantId: string;
  /** The caller: who may see the conversation, and who the history names as transferring. */
  principal: Principal;
  /** The conversation being transferred or read. */
  conversationId: string;
}

/** A transfer request: an agent, a division, or an agent of that division. */
export interface TransferConversation extends OnConversation {
  toAgentId: string | null;
  toDivisionId: string | null;
  /** Why, for the history and the receiving agents. */
  reason: string;
}

/** A conversation after its transfer, with its contact and the record of the transfer. */
export interface TransferResult {
  conversation: Conversation;
  /** Null only when the contact no longer exists. */
  contact: Contact | null;
  transfer: Transfer;
}

/** A page of a conversation's history. */
export interface ListTransfers extends OnConversation {
  page: number;
  limit: number;
}

const badTarget = (field: string, message: string, value: string) => BodyFieldError(field, message, { value });

/** 400 (field to_division_id) unless the division is the tenant's and active; AI handoff rules check their target with it too. */
export async function checkDivision(tenantId: string, divisionId: string): Promise<void> {
  const division = await divisions.findOwnedOrNull(tenantId, divisionId);
  if (!division) throw badTarget('to_division_id', 'no such division in this organization', divisionId);
  if (!division.is_active) throw badTarget('to_division_id', `division "${division.name}" is inactive`, divisionId);
}

/** The same rule as assigning (a live, active agent whose role sees conversations), plus membership (400, field to_agent_id). */
export async function checkAgent(tenantId: string, agentId: string, divisionId: string | null): Promise<void> {
  const agent = await users.findOwnedOrNull(tenantId, agentId);
  if (!agent || agent.deleted_at) throw badTarget('to_agent_id', 'no such agent in this organization', agentId);
  if (!agent.is_active) throw badTarget('to_agent_id', `agent "${agent.name}" is deactivated`, agentId);
  const role = await roles.findOwnedOrNull(tenantId, agent.role_id);
  if (!role?.permissions.includes('conversations.view')) {
    throw badTarget('to_agent_id', `agent "${agent.name}" cannot see conversations (their role lacks conversations.view)`, agentId);
  }
  if (divisionId && !(await divisionMembers.findOwnedOrNull(tenantId, memberId(tenantId, divisionId, agentId)))) {
    throw badTarget('to_agent_id', `agent "${agent.name}" is not a member of the target division`, agentId);
  }
}

/** Transfers a conversation the caller can see; answers it as moved, with the record. */
export async function transferConversation(cmd: TransferConversation): Promise<TransferResult> {
  await findVisibleConversation(cmd.principal, cmd.conversationId);
  if (cmd.toDivisionId) await checkDivision(cmd.tenantId, cmd.toDivisionId);
  if (cmd.toAgentId) await checkAgent(cmd.tenantId, cmd.toAgentId, cmd.toDivisionId);
  const { transferId, decisions } = await askConversation(cmd.conversationId, 'transfer', {
    // Time-ordered: the history lists in the order transfers happened.
    transferId: orderedId(),
    toAgentId: cmd.toAgentId,
    toDivisionId: cmd.toDivisionId,
    reason: cmd.reason,
    transferredBy: cmd.principal.userId,
  });
  await applyAssignmentDecisions(decisions);
  const [conversation, transfer] = await Promise.all([
    conversations.findOwned(cmd.tenantId, cmd.conversationId),
    transfers.findOwned(cmd.tenantId, transferId),
  ]);
  return { conversation, contact: await contacts.findOwnedOrNull(cmd.tenantId, conversation.contact_id), transfer };
}

/** One page of a conversation's transfers, oldest first. */
export async function listTransfers(q: ListTransfers): Promise<Page<Transfer>> {
  await findVisibleConversation(q.principal, q.conversationId);
  return transfers.page({ tenant_id: q.tenantId, conversation_id: q.conversationId }, { created_at: 1, _id: 1 }, q.page, q.limit);
}
