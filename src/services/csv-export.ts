/**
 * CSV as the exports write it: RFC 4180 (fields with a comma, a quote or a line break quoted,
 * quotes doubled, CRLF record ends), UTF-8, optionally opened by a byte-order mark (Excel reads
 * a CSV without one in the machine's legacy code page and garbles emoji and accented text), and
 * cells a spreadsheet would run as a formula written with a leading `'` (OWASP "CSV injection").
 *
 * `streamCsv` writes rows as they come from an async source (a database cursor): csv-stringify's
 * transform stream holds at most its highWaterMark, and `pipeline` pauses the source while the
 * client is slow to read, so an export of any size keeps a bounded amount of it in memory.
 */
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify, type Options } from 'csv-stringify';

/** csv-stringify options shared by every export: CRLF, and quoted line breaks. */
export const CSV_OPTIONS = {
  record_delimiter: 'windows',
  // RFC 4180: a field holding a line break is quoted (csv-stringify quotes only the record delimiter itself).
  quoted_match: /[\r\n]/,
} as const satisfies Options;

/** A cell as written: a `'` before what a spreadsheet would run as a formula (and before `'`s leading one). */
export const guardCell = (v: string): string => (/^'*[=+\-@\t\r]/.test(v) ? `'${v}` : v);

/** A value as one CSV cell: dates in RFC 3339 UTC, objects as JSON, null and undefined empty. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return guardCell(JSON.stringify(v));
  return guardCell(String(v));
}

/** A streamed export: its columns, and how one source item becomes one row. */
export interface CsvExport<T> {
  columns: readonly string[];
  row(item: T): unknown[];
  /** Start with a UTF-8 byte-order mark. */
  bom: boolean;
}

/**
 * The items of `source` as a CSV byte stream, written as the reader takes them. A failure of the
 * source mid-way destroys the stream (the client sees a cut answer, never a complete-looking file).
 */
export function streamCsv<T>(source: AsyncIterable<T>, spec: CsvExport<T>): Readable {
  const toRow = new Transform({
    objectMode: true,
    transform(item: T, _enc: BufferEncoding, done: TransformCallback) {
      done(null, spec.row(item).map(csvCell));
    },
  });
  const csv = stringify({ ...CSV_OPTIONS, bom: spec.bom, header: true, columns: [...spec.columns] });
  // The stream handed to Koa; pipeline destroys every stage on an error or an early close.
  const out = new PassThrough();
  pipeline(Readable.from(source), toRow, csv, out).catch(() => undefined);
  return out;
}
