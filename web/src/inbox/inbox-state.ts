/** The inbox list as data: which conversations a filter shows, and how a live change moves them. */
import type { Conversation } from '../types';

/** Whose conversations a list shows. */
export type AssigneeFilter = 'mine' | 'unassigned' | 'all';

/** A list's filter, sent as GET /api/conversations query fields. */
export interface InboxFilter {
  status: string;
  assignee: AssigneeFilter;
  /** A division id, `none`, or '' for any. */
  division: string;
  /** A channel, or '' for any. */
  channel: string;
  /** A tag, or '' for any. */
  tag: string;
}

/** The filter a new inbox starts with. */
export const FIRST_FILTER: InboxFilter = { status: 'open', assignee: 'all', division: '', channel: '', tag: '' };

/** A key that changes when any field of `filter` does. */
export const filterKey = (f: InboxFilter) => [f.status, f.assignee, f.division, f.channel, f.tag].join('|');

/** The query of one page of `filter`. */
export function listQuery(filter: InboxFilter, page: number) {
  const assignee = { mine: 'me', unassigned: 'unassigned', all: undefined }[filter.assignee];
  return { status: filter.status, assignee_id: assignee, division_id: filter.division, channel: filter.channel, tag: filter.tag, page, limit: 20 };
}

/** Whether `c` belongs in a list of `filter` for the agent `meId`. */
export function matches(filter: InboxFilter, c: Conversation, meId: string): boolean {
  if (!filter.status.split(',').includes(c.status)) return false;
  if (filter.division && (c.division_id ?? 'none') !== filter.division) return false;
  if (filter.channel && c.channel !== filter.channel) return false;
  if (filter.tag && !c.tags.includes(filter.tag.toLowerCase())) return false;
  if (filter.assignee === 'mine') return c.assignee_id === meId;
  if (filter.assignee === 'unassigned') return c.assignee_id === null;
  return true;
}

const newestFirst = (a: Conversation, b: Conversation) =>
  (b.last_message_at ?? b.updated_at).localeCompare(a.last_message_at ?? a.updated_at) || b.id.localeCompare(a.id);

/** `list` with `c` put in (or replaced, keeping the contact it had), in list order. */
export function upsert(list: Conversation[], c: Conversation): Conversation[] {
  const old = list.find((x) => x.id === c.id);
  // Events can arrive out of REST's order: never let an older copy replace a newer one.
  if (old && old.updated_at > c.updated_at) return list;
  const merged = { ...c, contact: c.contact ?? old?.contact ?? null };
  return [...list.filter((x) => x.id !== c.id), merged].sort(newestFirst);
}

/** `list` followed by the items of `page` it does not hold yet (pages shift as conversations move). */
export function appendPage(list: Conversation[], page: Conversation[]): Conversation[] {
  const seen = new Set(list.map((c) => c.id));
  return [...list, ...page.filter((c) => !seen.has(c.id))];
}
