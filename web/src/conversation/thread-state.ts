/** A conversation's thread as data: messages and private notes in one time line. */
import type { Message, Note } from '../types';

/** A line about the conversation itself (a transfer, a takeover) seen live. */
export interface ThreadEvent {
  id: string;
  at: string;
  text: string;
}

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

const DAY_MS = 24 * 3600 * 1000;

/** Whether WhatsApp's customer-service window is closed: no customer message in the last 24 hours (only templates go then). */
export function waWindowClosed(channel: string, lastInboundAt: string | null, now = Date.now()): boolean {
  return channel === 'whatsapp' && (!lastInboundAt || now - Date.parse(lastInboundAt) >= DAY_MS);
}
