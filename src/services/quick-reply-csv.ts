/**
 * Quick replies as CSV: export and import, round-tripping exactly. The columns are
 * `shortcut,title,content,scope,division` (division by name). Files are RFC 4180: fields with a
 * comma, a quote or a line break are quoted, quotes doubled, records end with CRLF.
 *
 * - The export starts with a UTF-8 byte-order mark unless asked not to: Excel, where support
 *   teams open these files, reads a CSV without one in the machine's legacy code page and
 *   garbles emoji and accented text. The import drops a leading BOM, so either way round-trips.
 * - Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a CR) are
 *   written with a leading `'` (OWASP "CSV injection"); the import removes exactly that one `'`,
 *   so content such as `+62 812...` or `=)` comes back unchanged.
 * - Import: a file that cannot be read as a whole (not UTF-8, unbalanced quotes, a row with the
 *   wrong number of fields, a wrong header, too many rows) is refused with a 400 and nothing is
 *   applied. Otherwise each row stands alone: valid rows are applied, invalid ones are reported
 *   with their row number and reasons, as spreadsheet-based imports in help-desk products do, so
 *   one typo does not block a hundred good rows; `dry_run` shows the report without applying.
 *   A row updates the reply with the same shortcut in the same scope owner (title and content),
 *   or creates one; personal rows are the importer's own.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { AppError, ValidationError } from '../errors.js';
import { divisions, type Division } from '../models/division.js';
import { quickReplies, quickReplyClaimValue, quickReplySearchText, type QuickReply, type QuickReplyScope } from '../models/quick-reply.js';
import type { Acting } from './agents.js';
import { CSV_OPTIONS, guardCell } from './csv-export.js';
import { createQuickReply, quickReplyFilter, QUICK_REPLY_ORDER, type QuickReplyFilters } from './quick-replies.js';
import { Content, Scope, Shortcut, Title } from './quick-reply-rules.js';

/** The file's columns, in export order. */
export const CSV_COLUMNS = ['shortcut', 'title', 'content', 'scope', 'division'] as const;

/** Largest import, in bytes and in rows. */
export const IMPORT_MAX_BYTES = 2 * 1024 * 1024;
export const IMPORT_MAX_ROWS = 5000;

// Rows written at once: enough to overlap round trips, few enough to leave the database to others.
const APPLY_CONCURRENCY = 16;

const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell as read: the one `'` guardCell added taken off. */
const unguardCell = (v: string): string => (v.startsWith("'") && FORMULA_START.test(v.replace(/^'+/, '')) ? v.slice(1) : v);

const SCOPE_ORDER: Record<QuickReplyScope, number> = { tenant: 0, division: 1, personal: 2 };

/** What to export. */
export interface ExportQuickReplies extends Acting, QuickReplyFilters {
  /** Start with a UTF-8 byte-order mark (for Excel). */
  bom: boolean;
}

/** The caller's visible replies (narrowed by the filters) as CSV: tenant, then by division, then personal; by shortcut. */
export async function exportQuickReplies(cmd: ExportQuickReplies): Promise<string> {
  const replies = await quickReplies.find(await quickReplyFilter(cmd.principal, cmd), QUICK_REPLY_ORDER);
  const names = new Map(
    (await divisions.findMany(cmd.tenantId, replies.flatMap((r) => (r.division_id ? [r.division_id] : [])))).map((d) => [d._id, d.name]),
  );
  // A division deleted since is written by id; importing that row then reports it as unknown.
  const divisionOf = (r: QuickReply) => (r.division_id ? (names.get(r.division_id) ?? r.division_id) : '');
  replies.sort(
    (a, b) =>
      SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] ||
      divisionOf(a).localeCompare(divisionOf(b)) ||
      a.shortcut_key.localeCompare(b.shortcut_key) ||
      a._id.localeCompare(b._id),
  );
  return stringify(
    replies.map((r) => [r.shortcut, r.title, r.content, r.scope, divisionOf(r)].map(guardCell)),
    {
      bom: cmd.bom,
      header: true,
      columns: [...CSV_COLUMNS],
      ...CSV_OPTIONS,
    },
  );
}

/** One row's outcome. */
export interface ImportRow {
  /** The record's number as a spreadsheet shows it: the header is row 1. */
  row: number;
  /** The file line the row starts on. */
  line: number;
  shortcut: string;
  status: 'created' | 'updated' | 'unchanged' | 'rejected';
  /** The reply created or updated (null when rejected, or created in a dry run). */
  id: string | null;
  errors: { field: string | null; message: string }[];
}

/** What an import did (or would do, in a dry run). */
export interface ImportReport {
  dryRun: boolean;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  rows: ImportRow[];
}

/** Import a file. */
export interface ImportQuickReplies extends Acting {
  /** The file's bytes. */
  bytes: Buffer;
  /** Report only; change nothing. */
  dryRun: boolean;
}

const fileError = (message: string) =>
  ValidationError(`Invalid request body.file: ${message}`, [{ in: 'body', field: 'file', message }]);

const RowSchema = z.object({ shortcut: Shortcut, title: Title, content: Content, scope: Scope });

interface ParsedRow {
  row: number;
  line: number;
  cells: Record<(typeof CSV_COLUMNS)[number], string>;
}

/** Decodes and parses the whole file, or throws the 400 that says why it cannot be read. */
function readRows(bytes: Buffer): ParsedRow[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fileError('is not UTF-8 text (save it as "CSV UTF-8")');
  }
  text = text.replace(/^\uFEFF/, '');
  // Excel in locales with a decimal comma (Indonesia's among them) separates with `;`.
  const headerLine = text.split(/\r\n|\n|\r/, 1)[0] ?? '';
  const delimiter = headerLine.includes(';') && !headerLine.includes(',') ? ';' : ',';
  let records: { record: string[]; info: { lines: number } }[];
  // The line the last whole record ended on: an unclosed quote is only noticed at the end of the file.
  let lastLine = 0;
  try {
    // With `info`, each record comes with its position (csv-parse's types do not follow the option).
    records = parse(text, {
      delimiter,
      info: true,
      skip_empty_lines: true,
      on_record: (record, context) => {
        lastLine = context.lines;
        return record;
      },
    }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError) throw fileError(describeCsvError(err, lastLine + 1));
    throw err;
  }
  const [header, ...rows] = records;
  if (!header) throw fileError('is empty: it needs the header row shortcut,title,content,scope,division');
  const names = header.record.map((h) => h.trim().toLowerCase());
  const missing = CSV_COLUMNS.filter((c) => !names.includes(c));
  const unknown = names.filter((n) => !(CSV_COLUMNS as readonly string[]).includes(n));
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (missing.length || unknown.length || repeated.length) {
    const why = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      unknown.length ? `unknown ${unknown.map((u) => `"${u}"`).join(', ')}` : '',
      repeated.length ? `repeated ${repeated.join(', ')}` : '',
    ].filter(Boolean);
    throw fileError(`has the header "${header.record.join(delimiter)}"; it must name the columns ${CSV_COLUMNS.join(',')} (${why.join('; ')})`);
  }
  if (rows.length > IMPORT_MAX_ROWS) throw fileError(`has ${rows.length} rows; at most ${IMPORT_MAX_ROWS} are imported at once`);
  return rows.map(({ record, info }, i) => {
    const breaks = record.reduce((n, cell) => n + (cell.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
    const cells = Object.fromEntries(CSV_COLUMNS.map((c) => [c, unguardCell(record[names.indexOf(c)] ?? '')]));
    return { row: i + 2, line: info.lines - breaks, cells: cells as ParsedRow['cells'] };
  });
}

function describeCsvError(err: CsvError, rowStart: number): string {
  const { lines } = err as CsvError & { lines?: number };
  const at = lines ? `line ${lines}: ` : '';
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `line ${rowStart}: a quoted field in the row starting here is never closed (unbalanced ")`;
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return `${at}the row has a different number of fields than the header (${CSV_COLUMNS.length} expected)`;
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `${at}a " inside a field must be inside a quoted field and doubled ("")`;
    default:
      return `${at}${err.message}`;
  }
}

/** A row checked and resolved: what it would write, or why not. */
interface CheckedRow {
  parsed: ParsedRow;
  errors: ImportRow['errors'];
  value?: { shortcut: string; title: string; content: string; scope: QuickReplyScope; divisionId: string | null };
}

function checkRow(parsed: ParsedRow, byName: Map<string, Division>, byId: Map<string, Division>): CheckedRow {
  const { cells } = parsed;
  const scope = cells.scope.trim().toLowerCase() || 'tenant';
  const result = RowSchema.safeParse({ shortcut: cells.shortcut, title: cells.title, content: cells.content, scope });
  const errors: ImportRow['errors'] = result.success ? [] : result.error.issues.map((i) => ({ field: String(i.path[0] ?? '') || null, message: i.message }));
  const division = cells.division.trim();
  let divisionId: string | null = null;
  if (scope === 'division') {
    const found = byName.get(division.toLowerCase()) ?? byId.get(division);
    if (!division) errors.push({ field: 'division', message: 'is required when scope is division' });
    else if (!found) errors.push({ field: 'division', message: `"${division}" is not a division of this organization` });
    else divisionId = found._id;
  } else if (division) {
    errors.push({ field: 'division', message: 'must be empty unless scope is division' });
  }
  if (!result.success || errors.length) return { parsed, errors };
  return { parsed, errors, value: { ...result.data, divisionId } };
}

/** Checks every row, then (unless a dry run) applies the valid ones; the report is in file order. */
export async function importQuickReplies(cmd: ImportQuickReplies): Promise<ImportReport> {
  const rows = readRows(cmd.bytes);
  const all = await divisions.find({ tenant_id: cmd.tenantId });
  const byName = new Map(all.map((d) => [d.name.toLowerCase(), d]));
  const byId = new Map(all.map((d) => [d._id, d]));
  const checked = rows.map((r) => checkRow(r, byName, byId));

  const ownerKey = (v: NonNullable<CheckedRow['value']>) =>
    quickReplyClaimValue({ ...v, division_id: v.divisionId, owner_id: v.scope === 'personal' ? cmd.principal.userId : null }).toLowerCase();
  const firstRow = new Map<string, number>();
  for (const c of checked) {
    if (!c.value) continue;
    const key = ownerKey(c.value);
    const first = firstRow.get(key);
    if (first === undefined) firstRow.set(key, c.parsed.row);
    else c.errors.push({ field: 'shortcut', message: `repeats row ${first} (the same shortcut in the same scope)` });
  }

  const keys = [...new Set(checked.flatMap((c) => (c.value ? [c.value.shortcut.toLowerCase()] : [])))];
  const existing = keys.length ? await quickReplies.find({ tenant_id: cmd.tenantId, shortcut_key: { $in: keys } }) : [];
  const existingByKey = new Map(existing.map((r) => [quickReplyClaimValue(r).toLowerCase(), r]));

  // Rows are independent by now (repeats were refused above), so they apply a few at a time.
  const outcomes: (Pick<ImportRow, 'status' | 'id' | 'errors'> | null)[] = [];
  for (let i = 0; i < checked.length; i += APPLY_CONCURRENCY) {
    const batch = checked.slice(i, i + APPLY_CONCURRENCY);
    outcomes.push(
      ...(await Promise.all(
        batch.map((c) => (c.value && c.errors.length === 0 ? applyRow(cmd, c.value, existingByKey.get(ownerKey(c.value))) : null)),
      )),
    );
  }
  const report: ImportReport = { dryRun: cmd.dryRun, created: 0, updated: 0, unchanged: 0, rejected: 0, rows: [] };
  for (const [i, c] of checked.entries()) {
    const outcome = outcomes[i] ?? null;
    const row: ImportRow = {
      row: c.parsed.row,
      line: c.parsed.line,
      shortcut: c.value?.shortcut ?? c.parsed.cells.shortcut,
      status: outcome?.status ?? 'rejected',
      id: outcome?.id ?? null,
      errors: outcome?.errors ?? c.errors,
    };
    report[row.status] += 1;
    report.rows.push(row);
  }
  return report;
}

async function applyRow(
  cmd: ImportQuickReplies,
  v: NonNullable<CheckedRow['value']>,
  current: QuickReply | undefined,
): Promise<Pick<ImportRow, 'status' | 'id' | 'errors'>> {
  if (current) {
    if (current.title === v.title && current.content === v.content) return { status: 'unchanged', id: current._id, errors: [] };
    if (!cmd.dryRun) {
      const search_text = quickReplySearchText({ shortcut: current.shortcut, title: v.title, content: v.content });
      await quickReplies.update(cmd.tenantId, current._id, { title: v.title, content: v.content, search_text });
    }
    return { status: 'updated', id: current._id, errors: [] };
  }
  if (cmd.dryRun) return { status: 'created', id: null, errors: [] };
  try {
    const { reply } = await createQuickReply({ tenantId: cmd.tenantId, principal: cmd.principal, ...v });
    return { status: 'created', id: reply._id, errors: [] };
  } catch (err) {
    // Taken meanwhile by someone else's write: this row alone is refused.
    if (err instanceof AppError && err.status < 500) return { status: 'rejected', id: null, errors: [{ field: 'shortcut', message: err.message }] };
    throw err;
  }
}
