/**
 * Reads the HTML form bodies Mailgun posts (`application/x-www-form-urlencoded`, or
 * `multipart/form-data` when the message has attachments) from the raw bytes, synchronously.
 * Before a body is verified only `pickFormFields` runs on it: it locates the parts (indexOf, at
 * most MAX_FORM_PARTS) and decodes just the few fields routing and `verify` need
 * (`recipient`, `timestamp`, `token`, `signature`); the full read waits for verification.
 * https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/receive-http
 *
 * Why not busboy: it decodes a part declared `charset=windows-1252` as Latin-1 (turning “ – €
 * into C1 control characters) and does not expose the declared charset; Node 20's TextDecoder
 * has the same Latin-1 shortcut. Every value is therefore kept as raw bytes (the raw MIME of
 * `body-mime` must stay byte-exact) and text is decoded with iconv-lite by its declared charset.
 */
import iconv from 'iconv-lite';
import type { WebhookHeaders } from '../types.js';

/** One field or file of a form body, bytes as received. */
export interface FormPart {
  name: string;
  /** Set for file parts (Mailgun's `attachment-N`). */
  filename?: string;
  mimeType?: string;
  /** The charset the part (or, for url-encoded bodies, the request) declared. */
  charset?: string;
  data: Buffer;
}

/** A header value split into its main value and lower-cased parameters (RFC 2045 / RFC 7578). */
export interface HeaderValue {
  value: string;
  params: Record<string, string>;
}

/** Index of the next `;` at or after `from`, or the end. */
const nextSemicolon = (text: string, from: number) => {
  const at = text.indexOf(';', from);
  return at < 0 ? text.length : at;
};

const isSpace = (ch: string | undefined) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

/**
 * Splits `type/sub; a=b; c="d"` into value and parameters; `name*=utf-8''...` (RFC 5987) is
 * decoded. A hand-written scan, one step per character: header values arrive before anything is
 * verified, and a regular expression with a quoted-string alternative backtracks quadratically
 * on `;a="` repeated.
 */
export function parseHeaderValue(header: string): HeaderValue {
  const semicolon = header.indexOf(';');
  const value = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const params: Record<string, string> = {};
  let i = semicolon < 0 ? header.length : semicolon;
  while (i < header.length) {
    i++; // past ';'
    while (isSpace(header[i])) i++;
    const keyStart = i;
    while (i < header.length && !isSpace(header[i]) && header[i] !== '=' && header[i] !== ';') i++;
    const key = header.slice(keyStart, i).toLowerCase();
    while (isSpace(header[i])) i++;
    if (key === '' || header[i] !== '=') {
      i = nextSemicolon(header, i);
      continue;
    }
    i++; // past '='
    while (isSpace(header[i])) i++;
    let raw: string | null = null;
    if (header[i] === '"') {
      let j = i + 1;
      let text = '';
      while (j < header.length && header[j] !== '"') {
        if (header[j] === '\\' && j + 1 < header.length) j++;
        text += header[j];
        j++;
      }
      // An unclosed quote is read like an unquoted value.
      if (j < header.length) {
        raw = text;
        i = nextSemicolon(header, j + 1);
      }
    }
    if (raw === null) {
      const end = nextSemicolon(header, i);
      raw = header.slice(i, end).trim();
      i = end;
    }
    if (key.endsWith('*')) {
      const first = raw.indexOf("'");
      const second = first < 0 ? -1 : raw.indexOf("'", first + 1);
      if (second >= 0) params[key.slice(0, -1)] = decodeText(percentDecode(Buffer.from(raw.slice(second + 1), 'latin1')), raw.slice(0, first) || 'utf-8');
    } else if (!(key in params)) {
      params[key] = raw;
    }
  }
  return { value, params };
}

/** Decodes bytes in a declared charset; an unknown charset falls back to UTF-8 rather than failing the message. */
export function decodeText(data: Buffer, charset: string | undefined): string {
  const name = charset?.trim().toLowerCase() || 'utf-8';
  return iconv.encodingExists(name) ? iconv.decode(data, name) : data.toString('utf8');
}

/**
 * The most fields and files one form may carry. Mailgun posts a few dozen fields and one file
 * per attachment; the bound keeps every pass over a form (before and after verification)
 * proportional to its size, whatever `&` or boundary lines it repeats.
 */
export const MAX_FORM_PARTS = 1000;

// A form-data part's own headers (Content-Disposition, Content-Type) fit in far less.
const MAX_PART_HEAD = 4 * 1024;

/** A field or file found in the body, not decoded yet. */
type Located = { rawName: Buffer; rawValue: Buffer; head?: undefined } | { head: Buffer; data: Buffer; rawName?: undefined };

/** The body's fields and files, located in one linear pass; throws a clear Error on anything that is not a well-formed form. */
function locateParts(rawBody: Buffer, headers: WebhookHeaders): { parts: Located[]; charset: string | undefined } {
  const contentType = headers['content-type'];
  if (!contentType) throw new Error('e-mail webhook without a Content-Type header');
  const { value, params } = parseHeaderValue(contentType);
  if (value === 'application/x-www-form-urlencoded') return { parts: locateUrlEncoded(rawBody), charset: params['charset'] };
  if (value === 'multipart/form-data') {
    const boundary = params['boundary'];
    if (!boundary || boundary.length > 70) throw new Error('multipart/form-data body without a valid boundary parameter');
    return { parts: locateMultipart(rawBody, boundary), charset: undefined };
  }
  throw new Error(`e-mail webhook body must be a form (url-encoded or multipart), not ${value || 'untyped'}`);
}

const tooManyParts = () => new Error(`the form has more than ${MAX_FORM_PARTS} fields`);

/** Reads a form body by its Content-Type; throws a clear Error on anything that is not a well-formed form. */
export function readFormBody(rawBody: Buffer, headers: WebhookHeaders): FormPart[] {
  const { parts, charset } = locateParts(rawBody, headers);
  return parts.map((p) => (p.head ? readPart(p.head, p.data) : urlEncodedPart(p.rawName, p.rawValue, charset)));
}

/**
 * Only the fields named (and `_charset_`), each at most `maxBytes` once decoded (longer throws):
 * what a route needs before the body is verified, without decoding anything else. Names match
 * as FormFields matches them (exact, else case-insensitively), so a verified body's full read
 * finds the same values.
 */
export function pickFormFields(rawBody: Buffer, headers: WebhookHeaders, names: readonly string[], maxBytes: number): FormFields {
  const wanted = new Set([...names, '_charset_'].map((n) => n.toLowerCase()));
  const longest = Math.max(...[...wanted].map((n) => n.length));
  const { parts, charset } = locateParts(rawBody, headers);
  const picked: FormPart[] = [];
  for (const p of parts) {
    let part: FormPart;
    if (p.head) {
      const { name, head } = readPartHead(p.head);
      if (!wanted.has(name.toLowerCase())) continue;
      // Base64 is 4 bytes per 3, plus line breaks: anything past twice the limit is too long already.
      if (p.data.length > maxBytes * 2) throw new Error(`form field ${name} is longer than ${maxBytes} bytes`);
      part = partOf(name, head, p.data);
    } else {
      // A percent-encoded name is at most three bytes per character.
      if (p.rawName.length > longest * 3) continue;
      const name = decodeText(percentDecode(p.rawName), charset);
      if (!wanted.has(name.toLowerCase())) continue;
      if (p.rawValue.length > maxBytes * 3) throw new Error(`form field ${name} is longer than ${maxBytes} bytes`);
      part = urlEncodedPart(p.rawName, p.rawValue, charset);
    }
    if (part.data.length > maxBytes) throw new Error(`form field ${part.name} is longer than ${maxBytes} bytes`);
    picked.push(part);
  }
  return new FormFields(picked);
}

/** `a=b&c=d` split at `&` with indexOf, at most MAX_FORM_PARTS pieces (empty ones count). */
function locateUrlEncoded(rawBody: Buffer): Located[] {
  const parts: Located[] = [];
  let pos = 0;
  for (let pieces = 0; pos <= rawBody.length; pieces++) {
    if (pieces >= MAX_FORM_PARTS) throw tooManyParts();
    const amp = rawBody.indexOf(0x26, pos);
    const end = amp < 0 ? rawBody.length : amp;
    if (end > pos) {
      const pair = rawBody.subarray(pos, end);
      const eq = pair.indexOf(0x3d);
      parts.push(eq < 0 ? { rawName: pair, rawValue: Buffer.alloc(0) } : { rawName: pair.subarray(0, eq), rawValue: pair.subarray(eq + 1) });
    }
    if (amp < 0) break;
    pos = amp + 1;
  }
  return parts;
}

/** WHATWG url-encoded parsing (`+` as space, %XX bytes), keeping the value's bytes. */
function urlEncodedPart(rawName: Buffer, rawValue: Buffer, charset: string | undefined): FormPart {
  const name = decodeText(percentDecode(rawName), charset);
  const data = percentDecode(rawValue);
  return charset ? { name, charset, data } : { name, data };
}

const hexValue = (b: number | undefined): number => {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
};

function percentDecode(bytes: Buffer): Buffer {
  const out = Buffer.alloc(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    const hi = b === 0x25 ? hexValue(bytes[i + 1]) : -1;
    const lo = hi >= 0 ? hexValue(bytes[i + 2]) : -1;
    if (lo >= 0) {
      out[length++] = hi * 16 + lo;
      i += 2;
    } else {
      out[length++] = b === 0x2b ? 0x20 : b;
    }
  }
  return out.subarray(0, length);
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** RFC 7578 / RFC 2046 §5.1.1: parts between `--boundary` lines, closed by `--boundary--`. */
function locateMultipart(body: Buffer, boundary: string): Located[] {
  const first = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter opens the body or follows a preamble line.
  let pos: number;
  if (body.subarray(0, first.length).equals(first)) {
    pos = first.length;
  } else {
    const at = body.indexOf(delimiter);
    if (at < 0) throw new Error('multipart body does not contain its boundary');
    pos = at + delimiter.length;
  }
  const parts: Located[] = [];
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    if (parts.length >= MAX_FORM_PARTS) throw tooManyParts();
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (!body.subarray(pos, pos + 2).equals(CRLF)) throw new Error('multipart boundary line is malformed');
    const start = pos + 2;
    const end = body.indexOf(delimiter, start);
    if (end < 0) throw new Error('multipart body is not closed by its final boundary');
    const part = body.subarray(start, end);
    // A part may have no headers at all: then it starts with the empty line.
    const headerEnd = part.subarray(0, 2).equals(CRLF) ? 0 : part.subarray(0, MAX_PART_HEAD + HEADER_END.length).indexOf(HEADER_END);
    if (headerEnd < 0) {
      throw new Error(part.length > MAX_PART_HEAD ? 'multipart part headers are too long' : 'multipart part without a header/body separator');
    }
    parts.push({ head: part.subarray(0, headerEnd), data: part.subarray(headerEnd === 0 ? 2 : headerEnd + HEADER_END.length) });
    pos = end + delimiter.length;
  }
}

/** A part's headers by lower-cased name, and its form-data name. */
function readPartHead(head: Buffer): { name: string; head: Map<string, string> } {
  const headers = new Map<string, string>();
  const lines = head.toString('utf8').replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = parseHeaderValue(headers.get('content-disposition') ?? '');
  const name = disposition.params['name'];
  if (disposition.value !== 'form-data' || name === undefined) {
    throw new Error('multipart part without Content-Disposition: form-data; name=...');
  }
  return { name, head: headers };
}

function readPart(head: Buffer, body: Buffer): FormPart {
  const { name, head: headers } = readPartHead(head);
  return partOf(name, headers, body);
}

/** The part with its data decoded from any transfer encoding, and its file name and type. */
function partOf(name: string, headers: Map<string, string>, body: Buffer): FormPart {
  let data = body;
  // RFC 7578 §4.7 deprecates Content-Transfer-Encoding, but older senders still base64 parts.
  const transfer = headers.get('content-transfer-encoding')?.toLowerCase();
  if (transfer === 'base64') data = Buffer.from(data.toString('latin1'), 'base64');
  const result: FormPart = { name, data };
  const filename = parseHeaderValue(headers.get('content-disposition') ?? '').params['filename'];
  if (filename !== undefined) result.filename = filename;
  const contentType = headers.get('content-type');
  if (contentType) {
    const type = parseHeaderValue(contentType);
    result.mimeType = type.value;
    if (type.params['charset']) result.charset = type.params['charset'];
  }
  return result;
}

/** Named access to form parts: text fields decoded by charset, files and raw bytes by name. */
export class FormFields {
  /** RFC 7578 §4.6: a `_charset_` field names the default charset of text fields that declare none. */
  private readonly defaultCharset: string | undefined;

  constructor(readonly parts: FormPart[]) {
    const charsetField = parts.find((p) => p.name === '_charset_');
    this.defaultCharset = charsetField ? charsetField.data.toString('latin1').trim() : undefined;
  }

  /** Every part with this name, exact name first, else matched case-insensitively (Mailgun posts `Message-Id`). */
  all(name: string): FormPart[] {
    const exact = this.parts.filter((p) => p.name === name);
    if (exact.length > 0) return exact;
    const lower = name.toLowerCase();
    return this.parts.filter((p) => p.name.toLowerCase() === lower);
  }

  /** The first part with this name. */
  part(name: string): FormPart | undefined {
    return this.all(name)[0];
  }

  /** The decoded text of the first field with this name. */
  text(name: string): string | undefined {
    const part = this.part(name);
    return part === undefined ? undefined : this.decode(part);
  }

  /** The decoded text of every field with this name. */
  texts(name: string): string[] {
    return this.all(name).map((p) => this.decode(p));
  }

  private decode(part: FormPart): string {
    return decodeText(part.data, part.charset ?? this.defaultCharset);
  }
}
