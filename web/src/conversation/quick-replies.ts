/** Quick replies in the composer: the `/shortcut` being typed, and a reply's content filled for a conversation. */
import type { Conversation } from '../types';

/** The search after a leading `/` (a single word, possibly empty), or null when the text is not a shortcut. */
export function shortcutQuery(text: string): string | null {
  const m = /^\/([\p{L}\p{N}_-]*)$/u.exec(text);
  return m ? (m[1] ?? '') : null;
}

/** `content` with the `{{contact.*}}` variables the console knows filled (unknown ones stay, for the agent to edit). */
export function fillQuickReply(content: string, c: Conversation): string {
  const values: Record<string, string | null | undefined> = {
    'contact.name': c.contact?.name,
    'contact.phone': c.contact?.phone,
    'contact.email': c.contact?.email,
  };
  return content.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}
