/**
 * JSON parsing that keeps long provider ids exact. Meta sends some ids (page-scoped user ids,
 * Instagram ids, timestamps in ms) as JSON numbers that can exceed 2^53; JSON.parse would
 * round them. Integer literals of 16+ digits outside strings are quoted before parsing, so
 * they arrive as the exact digits the provider sent.
 */

const LONG_INTEGER = 16;
// Linear: a fixed-length class run, no alternation or nesting to backtrack into.
const LONG_DIGIT_RUN = /\d{16}/;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
// Characters a JSON number literal is made of: digits, '.', 'e', 'E', '+', '-'.
const isNumberPart = (c: number) => isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;

/**
 * Parses JSON text, turning integer literals of 16+ digits into strings. One pass that copies
 * untouched stretches as slices (strings are skipped with indexOf), so it stays linear and fast
 * on multi-megabyte bodies.
 */
export function parseJsonKeepingIds(text: string): unknown {
  // Most bodies carry no run of 16 digits at all (WhatsApp sends ids as strings): parse as is.
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  const out: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the whole string literal, escapes included.
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          j = text.length;
          break;
        }
        let run = 0;
        while (text.charCodeAt(q - 1 - run) === 0x5c && q - 1 - run > i) run++;
        j = q + 1;
        if (run % 2 === 0) break;
      }
      i = j;
    } else if (c === 0x2d || isDigit(c)) {
      let j = i + 1;
      while (j < text.length && isNumberPart(text.charCodeAt(j))) j++;
      const negative = c === 0x2d;
      let integer = j - i - (negative ? 1 : 0) >= LONG_INTEGER;
      for (let k = negative ? i + 1 : i; integer && k < j; k++) integer = isDigit(text.charCodeAt(k));
      if (integer) {
        out.push(text.slice(copied, i), '"', text.slice(i, j), '"');
        copied = j;
      }
      i = j;
    } else {
      i++;
    }
  }
  out.push(text.slice(copied));
  return JSON.parse(out.join(''));
}

/** A provider's answer body parsed (ids kept exact), or null when it is empty or not JSON (an HTML error page). */
export function parseJsonOrNull(text: string): unknown {
  if (!text) return null;
  try {
    return parseJsonKeepingIds(text);
  } catch {
    return null;
  }
}

/** A provider id as a string, whether it arrived as a string or a (kept-exact) number. */
export function idString(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}
