/** Quick replies in the composer: the `/shortcut` being typed. */

/** The search after a leading `/` (a single word, possibly empty), or null when the text is not a shortcut. */
export function shortcutQuery(text: string): string | null {
  const m = /^\/([\p{L}\p{N}_-]*)$/u.exec(text);
  return m ? (m[1] ?? '') : null;
}
