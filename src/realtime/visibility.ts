/** Who may receive which event, and in which shape: the one place realtime decides it (audit tenant leaks here). */
import type { Principal } from '../auth/principal.js';
import type { Audience, DomainEvent } from '../events/types.js';

/** What a connection knows about its user. */
export interface Viewer {
  principal: Principal;
  divisionIds: ReadonlySet<string>;
}

/** How much of an event a viewer receives: its data, or the audience's reduced shape of it. */
export type View = 'full' | 'reduced';

/**
 * Tenant-wide events reach every member holding the audience's permission (every member when it
 * names none); members without it receive the reduced shape when the audience has one, else
 * nothing. Conversation events reach holders of conversations.view_all, the assignee, members
 * of the conversation's division, and, for a conversation in no division, every holder of
 * conversations.view; an event may name extra agents and divisions (`alsoAgentIds`,
 * `alsoDivisionIds`) who receive that event as well.
 */
export function viewOf(viewer: Viewer, audience: Audience): View | null {
  const { permissions, userId } = viewer.principal;
  if (audience.scope === 'tenant') {
    if (!audience.permission || permissions.has(audience.permission)) return 'full';
    return audience.reduced === undefined ? null : 'reduced';
  }
  if (permissions.has('conversations.view_all')) return 'full';
  if (!permissions.has('conversations.view')) return null;
  if (audience.assigneeId === userId) return 'full';
  if (audience.alsoAgentIds?.includes(userId)) return 'full';
  if (audience.alsoDivisionIds?.some((d) => viewer.divisionIds.has(d))) return 'full';
  const sees = audience.divisionId === null ? true : viewer.divisionIds.has(audience.divisionId);
  return sees ? 'full' : null;
}

/** True when the viewer receives the event in any shape. */
export const canReceive = (viewer: Viewer, audience: Audience): boolean => viewOf(viewer, audience) !== null;

/** The data a view of the event shows. */
export function dataFor(e: Pick<DomainEvent, 'data' | 'audience'>, view: View): unknown {
  return view === 'reduced' && e.audience.scope === 'tenant' ? e.audience.reduced : e.data;
}
