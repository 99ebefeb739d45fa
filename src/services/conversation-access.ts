/**
 * Who may see which conversation, for REST (the realtime gateway applies the same rule through
 * canReceive): holders of conversations.view_all see all; others see conversations assigned
 * to them, in their divisions, or in no division. A conversation the caller may not see is a
 * 404, exactly like another tenant's.
 */
import type { Principal } from '../auth/principal.js';
import { NotFoundError } from '../errors.js';
import { conversations, type Conversation } from '../models/conversation.js';
import type { Scoped } from '../models/repo.js';
import { canReceive } from '../realtime/visibility.js';
import { divisionIdsOf } from './division-members.js';

/** The conversation if the caller may see it, else NotFoundError. */
export async function findVisibleConversation(principal: Principal, id: string): Promise<Conversation> {
  const c = await conversations.findOwned(principal.tenantId, id);
  const divisionIds = principal.permissions.has('conversations.view_all')
    ? new Set<string>()
    : new Set(await divisionIdsOf(principal.tenantId, principal.userId));
  const audience = { scope: 'conversation' as const, conversationId: c._id, divisionId: c.division_id, assigneeId: c.assignee_id };
  if (!canReceive({ principal, divisionIds }, audience)) throw NotFoundError('Conversation');
  return c;
}

/** A list filter limited to the conversations the caller may see. */
export async function visibleConversationsFilter(principal: Principal): Promise<Scoped> {
  if (principal.permissions.has('conversations.view_all')) return { tenant_id: principal.tenantId };
  const divisionIds = await divisionIdsOf(principal.tenantId, principal.userId);
  return {
    tenant_id: principal.tenantId,
    $or: [{ assignee_id: principal.userId }, { division_id: null }, ...(divisionIds.length ? [{ division_id: { $in: divisionIds } }] : [])],
  };
}
