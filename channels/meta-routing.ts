/**
 * What a Meta webhook names before its signature is checked: the `object`, the `entry[].id`s
 * (Page, Instagram account or WhatsApp Business Account) and WhatsApp's
 * `entry[].changes[].value.metadata.phone_number_id`s — only what choosing the secrets to try
 * needs. Unauthenticated bytes get this one pass and nothing more: no JSON.parse, no objects
 * built, no regular expression; string contents are skipped with indexOf, nesting is tracked
 * to a fixed depth, and the pass pauses every PAUSE_BYTES so that a multi-megabyte body cannot
 * hold the event loop. A misreading costs nothing but a wasted try: it only picks secrets, and
 * every event is authorized again once the verified body is parsed (src/services/inbound.ts).
 */
import { setImmediate as pause } from 'node:timers/promises';
import type { ChannelName } from './types.js';

/** The routing facts of a Meta webhook body. */
export interface MetaRouting {
  /** The top-level `object` (`whatsapp_business_account`, `page`, `instagram`), or null. */
  object: string | null;
  /** Distinct `entry[].id` values (digit strings). */
  entryIds: string[];
  /** Distinct WhatsApp `phone_number_id` values (digit strings). */
  phoneNumberIds: string[];
}

// One callback may serve apps that subscribe several products: `object` names the channel.
const CHANNEL_OF_OBJECT = new Map<string, ChannelName>([
  ['whatsapp_business_account', 'whatsapp'],
  ['instagram', 'instagram'],
  ['page', 'messenger'],
]);

/** The channel a webhook `object` belongs to, or null for one we do not speak. */
export const metaChannelOf = (object: string | null): ChannelName | null => (object === null ? null : (CHANNEL_OF_OBJECT.get(object) ?? null));

/**
 * The accounts a body names on `channel`: WhatsApp's phone_number_ids plus the WABA ids that
 * stand in for a change without metadata; Messenger's Page and Instagram's account ids.
 */
export function accountsNamed(channel: ChannelName, routing: MetaRouting): string[] {
  return channel === 'whatsapp' ? [...new Set([...routing.phoneNumberIds, ...routing.entryIds])] : routing.entryIds;
}

/** More provider accounts than any real delivery names: past it the body is refused unread. */
export const MAX_ROUTED_ACCOUNTS = 100;

// Meta nests its payloads about eight deep; deeper containers are counted, not tracked.
const TRACKED_DEPTH = 8;
// Deeper than this is no Meta payload: refused unverified, before any parser recurses into it.
export const MAX_DEPTH = 64;
// Keys longer than this are none of the ones we look for.
const MAX_KEY = 32;
// Provider ids are at most a few dozen digits.
const MAX_ID = 64;
// A slice this long takes a few milliseconds even at its slowest (a string or bracket every
// few bytes), so other requests wait at most that long while a multi-megabyte body is read.
const PAUSE_BYTES = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OTHER_KEY = '\u0000';

const ENTRY_ID = ['entry', '[]', 'id'];
const PHONE_NUMBER_ID = ['entry', '[]', 'changes', '[]', 'value', 'metadata', 'phone_number_id'];

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isNumberPart = (c: number | undefined) => isDigit(c) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65;

/** The text of an id when `bytes` are 1 to MAX_ID digits, else null. */
function digitsOf(bytes: Buffer): string | null {
  if (bytes.length === 0 || bytes.length > MAX_ID) return null;
  for (const b of bytes) if (!isDigit(b)) return null;
  return bytes.toString('latin1');
}

/** Index of the quote closing the string that opens at `open`, or -1 when it never closes. */
function closingQuote(raw: Buffer, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = raw.indexOf(QUOTE, from);
    if (q < 0) return -1;
    // Escaped when an odd run of backslashes precedes it; each run is counted once, so linear.
    let run = 0;
    while (q - 1 - run > open && raw[q - 1 - run] === BACKSLASH) run++;
    if (run % 2 === 0) return q;
    from = q + 1;
  }
}

/** Reads the routing facts of a Meta webhook body in one bounded, linear pass. */
export async function readMetaRouting(raw: Buffer): Promise<MetaRouting> {
  const entryIds = new Set<string>();
  const phoneNumberIds = new Set<string>();
  let object: string | null = null;
  // The key under which each tracked container sits ('[]' for array items), outermost first.
  const path: string[] = [];
  const arrays: boolean[] = [];
  let depth = 0;
  let expectKey = false;
  let nextPause = PAUSE_BYTES;

  const atPath = (want: string[]) => depth === want.length && path.length === want.length && want.every((k, i) => path[i] === k);
  const onValue = (value: Buffer) => {
    if (depth === 1 && path[0] === 'object' && value.length <= MAX_KEY) object = value.toString('latin1');
    const id = depth >= 3 ? digitsOf(value) : null;
    if (id === null) return;
    if (atPath(ENTRY_ID)) entryIds.add(id);
    else if (atPath(PHONE_NUMBER_ID)) phoneNumberIds.add(id);
    if (entryIds.size + phoneNumberIds.size > MAX_ROUTED_ACCOUNTS) throw new Error(`the webhook names more than ${MAX_ROUTED_ACCOUNTS} accounts`);
  };
  // The key a value at the current depth sits under, kept while the depth is tracked.
  const setKey = (key: string) => {
    if (depth >= 1 && depth <= TRACKED_DEPTH) path[depth - 1] = key;
  };
  const open = (array: boolean) => {
    depth++;
    if (depth > MAX_DEPTH) throw new Error(`the body nests deeper than ${MAX_DEPTH} levels`);
    if (depth <= TRACKED_DEPTH) {
      arrays[depth - 1] = array;
      path.length = depth;
      if (array) path[depth - 1] = '[]';
    }
    expectKey = !array;
  };

  for (let i = 0; i < raw.length; i++) {
    if (i >= nextPause) {
      await pause();
      nextPause = i + PAUSE_BYTES;
    }
    const c = raw[i];
    if (c === QUOTE) {
      const end = closingQuote(raw, i);
      if (end < 0) break;
      if (depth > TRACKED_DEPTH) {
        // Nothing we look for sits this deep: skip the string without building anything.
        i = end;
        continue;
      }
      const text = raw.subarray(i + 1, end);
      if (expectKey) {
        setKey(text.length <= MAX_KEY && !text.includes(BACKSLASH) ? text.toString('latin1') : OTHER_KEY);
        expectKey = false;
      } else {
        onValue(text);
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      open(false);
    } else if (c === 0x5b /* [ */) {
      open(true);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth > 0) depth--;
      path.length = Math.min(depth, TRACKED_DEPTH);
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      // Inside an object a key comes next; inside an array another item.
      expectKey = depth >= 1 && depth <= TRACKED_DEPTH ? !arrays[depth - 1] : false;
      if (depth >= 1 && depth <= TRACKED_DEPTH && arrays[depth - 1]) path[depth - 1] = '[]';
    } else if (isDigit(c) || c === 0x2d) {
      let j = i + 1;
      while (j < raw.length && isNumberPart(raw[j])) j++;
      if (depth <= TRACKED_DEPTH) onValue(raw.subarray(i, j));
      i = j - 1;
    }
  }
  return { object, entryIds: [...entryIds], phoneNumberIds: [...phoneNumberIds] };
}
