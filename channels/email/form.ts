/**
 * Reads the HTML form bodies Mailgun posts (`application/x-www-form-urlencoded`, or
 * `multipart/form-data` when the message has attachments) from the raw bytes, synchronously, so
 * `verify` can read `timestamp`/`token`/`signature` before anything else runs.
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

/** Splits `type/sub; a=b; c="d"` into value and parameters; `name*=utf-8''...` (RFC 5987) is decoded. */
export function parseHeaderValue(header: string): HeaderValue {
  const semicolon = header.indexOf(';');
  const value = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const params: Record<string, string> = {};
  const pattern = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (const match of header.slice(Math.max(semicolon, 0)).matchAll(pattern)) {
    const key = (match[1] ?? '').toLowerCase();
    const raw = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '').trim();
    if (key.endsWith('*')) {
      const extended = /^([^']*)'[^']*'(.*)$/.exec(raw);
      if (extended) params[key.slice(0, -1)] = decodeText(percentDecode(extended[2] ?? ''), extended[1] || 'utf-8');
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

/** Reads a form body by its Content-Type; throws a clear Error on anything that is not a well-formed form. */
export function readFormBody(rawBody: Buffer, headers: WebhookHeaders): FormPart[] {
  const contentType = headers['content-type'];
  if (!contentType) throw new Error('e-mail webhook without a Content-Type header');
  const { value, params } = parseHeaderValue(contentType);
  if (value === 'application/x-www-form-urlencoded') return readUrlEncoded(rawBody, params['charset']);
  if (value === 'multipart/form-data') {
    const boundary = params['boundary'];
    if (!boundary || boundary.length > 70) throw new Error('multipart/form-data body without a valid boundary parameter');
    return readMultipart(rawBody, boundary);
  }
  throw new Error(`e-mail webhook body must be a form (url-encoded or multipart), not ${value || 'untyped'}`);
}

/** `a=b&c=d` with `+` as space and %XX bytes (WHATWG url-encoded parsing, but keeping bytes). */
function readUrlEncoded(rawBody: Buffer, charset: string | undefined): FormPart[] {
  const parts: FormPart[] = [];
  // latin1 maps bytes 1:1 to code units, so percentDecode gets back the exact bytes.
  for (const pair of rawBody.toString('latin1').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeText(percentDecode(eq < 0 ? pair : pair.slice(0, eq)), charset);
    const data = percentDecode(eq < 0 ? '' : pair.slice(eq + 1));
    parts.push(charset ? { name, charset, data } : { name, data });
  }
  return parts;
}

function percentDecode(text: string): Buffer {
  const out = Buffer.alloc(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const hex = code === 0x25 ? text.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      out[length++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[length++] = code === 0x2b ? 0x20 : code & 0xff;
    }
  }
  return out.subarray(0, length);
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** RFC 7578 / RFC 2046 §5.1.1: parts between `--boundary` lines, closed by `--boundary--`. */
function readMultipart(body: Buffer, boundary: string): FormPart[] {
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
  const parts: FormPart[] = [];
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (!body.subarray(pos, pos + 2).equals(CRLF)) throw new Error('multipart boundary line is malformed');
    const start = pos + 2;
    const end = body.indexOf(delimiter, start);
    if (end < 0) throw new Error('multipart body is not closed by its final boundary');
    parts.push(readPart(body.subarray(start, end)));
    pos = end + delimiter.length;
  }
}

function readPart(part: Buffer): FormPart {
  // A part may have no headers at all: then it starts with the empty line.
  const headerEnd = part.subarray(0, 2).equals(CRLF) ? 0 : part.indexOf(HEADER_END);
  if (headerEnd < 0) throw new Error('multipart part without a header/body separator');
  const headers = new Map<string, string>();
  const lines = part.subarray(0, headerEnd).toString('utf8').replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = parseHeaderValue(headers.get('content-disposition') ?? '');
  const name = disposition.params['name'];
  if (disposition.value !== 'form-data' || name === undefined) {
    throw new Error('multipart part without Content-Disposition: form-data; name=...');
  }
  let data = part.subarray(headerEnd === 0 ? 2 : headerEnd + HEADER_END.length);
  // RFC 7578 §4.7 deprecates Content-Transfer-Encoding, but older senders still base64 parts.
  const transfer = headers.get('content-transfer-encoding')?.toLowerCase();
  if (transfer === 'base64') data = Buffer.from(data.toString('latin1'), 'base64');
  const result: FormPart = { name, data };
  const filename = disposition.params['filename'];
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
