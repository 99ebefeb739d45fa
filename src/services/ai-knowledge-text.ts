/**
 * The text of a knowledge source and its chunks. A URL is fetched once through the outbound
 * guard (services/ai-http.ts) within a time and size limit, and HTML becomes text; a file is an
 * uploaded media document read from media storage: PDF (pdf-parse), DOCX (mammoth), plain text
 * and CSV (each row a line of "header: value" pairs, so a row is a passage on its own).
 *
 * Chunks are passages of about CHUNK_CHARS characters cut at paragraph, then sentence, then word
 * boundaries, so a passage answers on its own; each repeats the source's title, which names what
 * the passage is about.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { convert as htmlToText } from 'html-to-text';
import mammoth from 'mammoth';
import { PDFParse } from 'pdf-parse';
import type { KnowledgeSource } from '../models/knowledge.js';
import { GuardedRequestError, guardedRequest } from './ai-http.js';
import { getMediaFile } from './media.js';

/** The most bytes a URL or file source may have. */
export const SOURCE_MAX_BYTES = 5 * 1024 * 1024;
/** How long fetching a URL may take. */
export const URL_TIMEOUT_MS = 10_000;
/** The most characters of text kept from one source. */
export const SOURCE_MAX_CHARS = 2_000_000;
/** The size a chunk is cut to. */
export const CHUNK_CHARS = 800;

/** A source whose text cannot be read; the message becomes its failure reason. */
export class SourceReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceReadError';
  }
}

const PDF = 'application/pdf';
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const CSV = 'text/csv';
const TEXT = 'text/plain';
/** File types a knowledge source may be. */
export const SOURCE_FILE_TYPES = [PDF, DOCX, TEXT, CSV] as const;

/** The knowledge file type a media content type is (parameters such as charset dropped), or null. */
export function sourceFileType(contentType: string | null): string | null {
  const base = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return (SOURCE_FILE_TYPES as readonly string[]).includes(base) ? base : null;
}

/** Squeezes the white space a conversion leaves. */
const tidy = (text: string) =>
  text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

/** The text of an HTML page, without scripts, styles, navigation or link targets. */
export function textOfHtml(html: string): string {
  return htmlToText(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'header', format: 'skip' },
      { selector: 'footer', format: 'skip' },
    ],
  });
}

/** CSV rows as lines of "header: value" pairs. */
export function textOfCsv(csv: string): string {
  let rows: string[][];
  try {
    rows = parseCsv(csv, { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (err) {
    throw new SourceReadError(`the CSV cannot be read: ${(err as Error).message}`);
  }
  const [header, ...body] = rows;
  if (!header) return '';
  return body.map((row) => row.map((v, i) => (v.trim() ? `${header[i] ?? `column ${i + 1}`}: ${v.trim()}` : '')).filter(Boolean).join('; ')).join('\n\n');
}

/** The text of a file's bytes of a given type. */
export async function textOfFile(bytes: Buffer, contentType: string): Promise<string> {
  if (contentType === PDF) {
    const parser = new PDFParse({ data: new Uint8Array(bytes) });
    try {
      return (await parser.getText()).text;
    } catch (err) {
      throw new SourceReadError(`the PDF cannot be read: ${(err as Error).message}`);
    } finally {
      await parser.destroy();
    }
  }
  if (contentType === DOCX) {
    try {
      return (await mammoth.extractRawText({ buffer: bytes })).value;
    } catch (err) {
      throw new SourceReadError(`the DOCX cannot be read: ${(err as Error).message}`);
    }
  }
  if (contentType === CSV) return textOfCsv(bytes.toString('utf8'));
  if (contentType === TEXT) return bytes.toString('utf8');
  throw new SourceReadError(`a ${contentType} file is not a knowledge source (PDF, DOCX, TXT or CSV)`);
}

/** Fetches a page once and answers its text. */
async function textOfUrl(address: string): Promise<string> {
  let res;
  try {
    res = await guardedRequest(new URL(address), { method: 'GET', headers: { accept: 'text/html, text/plain;q=0.9, */*;q=0.1', 'user-agent': 'OmniStream-Knowledge/1' }, timeoutMs: URL_TIMEOUT_MS, maxBytes: SOURCE_MAX_BYTES });
  } catch (err) {
    if (err instanceof GuardedRequestError) throw new SourceReadError(`the page could not be fetched: ${err.message}`);
    // The guard refuses private and unresolvable addresses with its own error.
    throw new SourceReadError(`the page could not be fetched: ${(err as Error).message}`);
  }
  if (res.status >= 300 && res.status < 400) throw new SourceReadError(`the page answered HTTP ${res.status} (redirects are not followed)`);
  if (res.status < 200 || res.status >= 300) throw new SourceReadError(`the page answered HTTP ${res.status}`);
  const type = String(res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const body = res.body.toString('utf8');
  if (type === 'text/html' || type === 'application/xhtml+xml' || (!type && /<html[\s>]/i.test(body))) return textOfHtml(body);
  if (type.startsWith('text/')) return type === CSV ? textOfCsv(body) : body;
  if (type === PDF || type === DOCX) return textOfFile(res.body, type);
  throw new SourceReadError(`the page is ${type || 'of no stated type'}, not HTML or text`);
}

/** Reads an uploaded media file. */
async function textOfMedia(tenantId: string, mediaId: string): Promise<string> {
  const file = await getMediaFile(tenantId, mediaId);
  const type = sourceFileType(file.media.content_type);
  if (!type) throw new SourceReadError(`a ${file.media.content_type ?? 'file of unknown type'} is not a knowledge source (PDF, DOCX, TXT or CSV)`);
  if ((file.media.size ?? 0) > SOURCE_MAX_BYTES) throw new SourceReadError(`the file is larger than ${SOURCE_MAX_BYTES} bytes`);
  const { stream } = await file.open();
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > SOURCE_MAX_BYTES) throw new SourceReadError(`the file is larger than ${SOURCE_MAX_BYTES} bytes`);
    parts.push(chunk);
  }
  return textOfFile(Buffer.concat(parts), type);
}

/** The text of a source as it is now (a URL fetched, a file read). */
export async function sourceText(s: KnowledgeSource): Promise<string> {
  const raw = s.kind === 'text' ? (s.text ?? '') : s.kind === 'url' ? await textOfUrl(s.url as string) : await textOfMedia(s.tenant_id, s.media_id as string);
  const text = tidy(raw);
  if (!text) throw new SourceReadError('the source has no text');
  return text.slice(0, SOURCE_MAX_CHARS);
}

/** Splits `piece` at the widest boundary that brings its parts under `max` characters. */
function split(piece: string, max: number): string[] {
  if (piece.length <= max) return [piece];
  for (const boundary of [/\n\n+/, /\n/, /(?<=[.!?])\s+/, /\s+/]) {
    const parts = piece.split(boundary).filter((p) => p.trim());
    if (parts.length > 1) return parts.flatMap((p) => split(p.trim(), max));
  }
  // One word longer than a chunk: cut it.
  const out: string[] = [];
  for (let i = 0; i < piece.length; i += max) out.push(piece.slice(i, i + max));
  return out;
}

/** A text in passages of at most `max` characters, small neighbours packed together. */
export function chunkText(text: string, max = CHUNK_CHARS): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const part of split(text, max)) {
    if (current && current.length + part.length + 1 > max) {
      chunks.push(current);
      current = part;
    } else current = current ? `${current}\n${part}` : part;
  }
  if (current) chunks.push(current);
  return chunks;
}
