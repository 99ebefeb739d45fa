/**
 * JSON parsing that keeps long provider ids exact. Meta sends some ids (page-scoped user ids,
 * Instagram ids, timestamps in ms) as JSON numbers that can exceed 2^53; JSON.parse would
 * round them. Integer literals of 16+ digits outside strings are quoted before parsing, so
 * they arrive as the exact digits the provider sent.
 */

const LONG_INTEGER = 16;

/** Parses JSON text, turning integer literals of 16+ digits into strings. */
export function parseJsonKeepingIds(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      // Copy the whole string literal, escapes included.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j] as string)) j++;
      const literal = text.slice(i, j);
      out += /^-?\d+$/.test(literal) && literal.replace('-', '').length >= LONG_INTEGER ? `"${literal}"` : literal;
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return JSON.parse(out);
}

/** A provider id as a string, whether it arrived as a string or a (kept-exact) number. */
export function idString(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}
