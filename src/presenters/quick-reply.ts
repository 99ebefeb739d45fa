/** Quick replies, their recorded uses and CSV import reports, as the API shows them. */
import { z } from 'zod';
import type { QuickReplyUse, QuickReplyView } from '../services/quick-replies.js';
import type { ImportReport } from '../services/quick-reply-csv.js';
import { variablesOf } from '../services/quick-reply-rules.js';
import { iso } from './page.js';

/** The quick reply JSON shape. */
export const QuickReplyBody = z.object({
  id: z.uuid(),
  shortcut: z.string().describe('Typed after `/`; unique per scope owner, without case'),
  title: z.string(),
  content: z.string().describe('The text, with `{{variable}}` placeholders'),
  variables: z.array(z.string()).describe('The variables the content uses, in order of first use'),
  scope: z.enum(['tenant', 'division', 'personal']),
  division_id: z.uuid().nullable().describe('Set for scope division'),
  owner_id: z.uuid().nullable().describe('The agent a personal reply belongs to (always the caller); null otherwise'),
  created_by: z.uuid().nullable(),
  usage_count: z.number().int(),
  last_used_at: z.iso.datetime().nullable(),
  favorited: z.boolean().describe('Among the caller’s favourites'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** A recorded use (POST /api/quick-replies/{id}/use). */
export const QuickReplyUseBody = QuickReplyBody.extend({
  rendered_content: z.string().nullable().describe('The content with variables filled for conversation_id; null when none was given'),
  unfilled_variables: z.array(z.string()).describe('Variables that had no value for that conversation (rendered empty)'),
});

/** Shapes a quick reply for its caller. */
export function presentQuickReply(v: QuickReplyView): z.infer<typeof QuickReplyBody> {
  const r = v.reply;
  return {
    id: r._id,
    shortcut: r.shortcut,
    title: r.title,
    content: r.content,
    variables: variablesOf(r.content),
    scope: r.scope,
    division_id: r.division_id,
    owner_id: r.owner_id,
    created_by: r.created_by,
    usage_count: r.usage_count,
    last_used_at: iso(r.last_used_at),
    favorited: v.favorited,
    created_at: iso(r.created_at) as string,
    updated_at: iso(r.updated_at) as string,
  };
}

/** Shapes a recorded use. */
export function presentQuickReplyUse(u: QuickReplyUse): z.infer<typeof QuickReplyUseBody> {
  return { ...presentQuickReply(u), rendered_content: u.rendered, unfilled_variables: u.unfilled };
}

/** One imported row's outcome. */
const ImportRowBody = z.object({
  row: z.number().int().describe('The row number a spreadsheet shows (the header is row 1)'),
  line: z.number().int().describe('The file line the row starts on (differs from row after multi-line cells)'),
  shortcut: z.string(),
  status: z.enum(['created', 'updated', 'unchanged', 'rejected']),
  id: z.uuid().nullable().describe('The reply created or updated; null when rejected or in a dry run'),
  errors: z.array(z.object({ field: z.string().nullable(), message: z.string() })).describe('Why a rejected row was refused'),
});

/** The import report. */
export const ImportReportBody = z.object({
  dry_run: z.boolean(),
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  rejected: z.number().int(),
  rows: z.array(ImportRowBody).describe('Every data row, in file order'),
});

/** Shapes an import report. */
export function presentImportReport(r: ImportReport): z.infer<typeof ImportReportBody> {
  return {
    dry_run: r.dryRun,
    created: r.created,
    updated: r.updated,
    unchanged: r.unchanged,
    rejected: r.rejected,
    rows: r.rows.map((row) => ({ row: row.row, line: row.line, shortcut: row.shortcut, status: row.status, id: row.id, errors: row.errors })),
  };
}
