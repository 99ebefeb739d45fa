/** A conversation's thread as data: messages and private notes in one time line. */
import type { Message, Note, Transfer } from '../types';

/** A line about the conversation itself: a transfer (from its history or live) or a takeover (live). */
export interface ThreadEvent {
  /** The transfer's id, or the takeover event's seq. */
  id: string;
  at: string;
  kind: 'transfer' | 'takeover';
  /** Who transferred it, or who took it over. */
  by: string;
  toAgentId: string | null;
  toDivisionId: string | null;
  reason: string | null;
}

/** The line of a transfer record. */
export const transferEvent = (tr: Transfer): ThreadEvent => ({
  id: tr.id,
  at: tr.created_at,
  kind: 'transfer',
  by: tr.transferred_by,
  toAgentId: tr.to_agent_id,
  toDivisionId: tr.to_division_id,
  reason: tr.reason,
});

/** `list` with `e` added in time order, unless it holds it already. */
export const withEvent = (list: ThreadEvent[], e: ThreadEvent) => (list.some((x) => x.id === e.id) ? list : [...list, e].sort((a, b) => a.at.localeCompare(b.at)));

/** One line of the thread. */
export type ThreadItem = { kind: 'message'; at: string; message: Message } | { kind: 'note'; at: string; note: Note } | { kind: 'event'; at: string; event: ThreadEvent };

/** Messages, notes and events in time order (messages keep the API's order among themselves). */
export function timeline(messages: Message[], notes: Note[], events: ThreadEvent[] = []): ThreadItem[] {
  const items: ThreadItem[] = [
    ...messages.map((m) => ({ kind: 'message' as const, at: m.sent_at, message: m })),
    ...notes.map((n) => ({ kind: 'note' as const, at: n.created_at, note: n })),
    ...events.map((e) => ({ kind: 'event' as const, at: e.at, event: e })),
  ];
  return items.sort((a, b) => a.at.localeCompare(b.at));
}

/** `list` with `m` added at its place by send time, or replacing the copy with its id. */
export function withMessage(list: Message[], m: Message): Message[] {
  if (list.some((x) => x.id === m.id)) return list.map((x) => (x.id === m.id ? m : x));
  return [...list, m].sort((a, b) => a.sent_at.localeCompare(b.sent_at) || a.id.localeCompare(b.id));
}

/** The tick a delivery status shows (WhatsApp's convention). */
export const TICKS: Record<string, string> = { pending: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '⚠' };

/** How long WhatsApp's customer-service window stays open after the customer's last message. */
export const WINDOW_MS = 24 * 3600 * 1000;

/** Whether WhatsApp's customer-service window is closed: no customer message in the last 24 hours (only templates go then). */
export function waWindowClosed(channel: string, lastInboundAt: string | null, now = Date.now()): boolean {
  return channel === 'whatsapp' && (!lastInboundAt || now - Date.parse(lastInboundAt) >= WINDOW_MS);
}
