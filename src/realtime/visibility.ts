/** Who may receive which event: the one place realtime decides it (audit tenant leaks here). */
import type { Principal } from '../auth/principal.js';
import type { Audience } from '../events/types.js';

/** What a connection knows about its user. */
export interface Viewer {
  principal: Principal;
  divisionIds: ReadonlySet<string>;
}

/**
 * Tenant-wide events reach every member. Conversation events reach holders of
 * conversations.view_all, the assignee, members of the conversation's division, and, for a
 * conversation in no division, every holder of conversations.view; an event may name extra
 * agents and divisions (`alsoAgentIds`, `alsoDivisionIds`) who receive that event as well.
 */
export function canReceive(viewer: Viewer, audience: Audience): boolean {
  if (audience.scope === 'tenant') return true;
  const { permissions, userId } = viewer.principal;
  if (permissions.has('conversations.view_all')) return true;
  if (!permissions.has('conversations.view')) return false;
  if (audience.assigneeId === userId) return true;
  if (audience.alsoAgentIds?.includes(userId)) return true;
  if (audience.alsoDivisionIds?.some((d) => viewer.divisionIds.has(d))) return true;
  return audience.divisionId === null ? true : viewer.divisionIds.has(audience.divisionId);
}
