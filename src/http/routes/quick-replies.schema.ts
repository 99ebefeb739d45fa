/** Schemas of the Quick Replies group. */
import { z } from 'zod';
import { QuickReplyBody } from '../../presenters/quick-reply.js';
import { Content, Scope, Shortcut, Title } from '../../services/quick-reply-rules.js';
import { BoolQuery, Id, PageQuery, pageOf } from '../schemas/common.js';

const DivisionId = Id.describe('Required for scope division, refused for the others');

/** The filters the list and the export share. */
const Filters = {
  q: z.string().trim().min(1).max(100).optional().describe('Part of the shortcut, title or content, any case'),
  scope: Scope.optional(),
  division_id: Id.optional().describe('Only this division’s replies'),
};

/** GET /api/quick-replies */
export const ListQuickRepliesQuery = PageQuery.extend({
  ...Filters,
  favorites_only: BoolQuery.optional().describe('true: only the caller’s favourites'),
});

/** GET /api/quick-replies/export */
export const ExportQuickRepliesQuery = z.strictObject({
  ...Filters,
  bom: BoolQuery.optional().describe('Start with a UTF-8 byte-order mark so Excel reads the file as UTF-8 (default true)'),
});

const divisionRule = (b: { scope?: string; division_id?: string | null }, ctx: z.RefinementCtx) => {
  if (b.scope === 'division' && !b.division_id) {
    ctx.addIssue({ code: 'custom', path: ['division_id'], message: 'is required when scope is division' });
  }
  if (b.scope && b.scope !== 'division' && b.division_id) {
    ctx.addIssue({ code: 'custom', path: ['division_id'], message: 'is only allowed with scope division' });
  }
};

/** POST /api/quick-replies */
export const CreateQuickReplyBody = z
  .strictObject({
    shortcut: Shortcut,
    title: Title,
    content: Content,
    scope: Scope.default('tenant'),
    division_id: DivisionId.nullable().optional(),
  })
  .superRefine(divisionRule);

/** PATCH /api/quick-replies/{id} */
export const UpdateQuickReplyBody = z
  .strictObject({
    shortcut: Shortcut.optional(),
    title: Title.optional(),
    content: Content.optional(),
    scope: Scope.optional(),
    division_id: DivisionId.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'must change at least one field')
  .superRefine(divisionRule);

/** POST /api/quick-replies/{id}/use */
export const UseQuickReplyBody = z.strictObject({
  conversation_id: Id.optional().describe('Fill the variables for this conversation (one the caller may see)'),
});

/** POST /api/quick-replies/import: the multipart form (read by the route, documented here). */
export const ImportForm = z.strictObject({
  file: z.file().describe('A UTF-8 CSV file with the header shortcut,title,content,scope,division (comma or semicolon separated)'),
});

/** POST /api/quick-replies/import */
export const ImportQuery = z.strictObject({
  dry_run: BoolQuery.optional().describe('true: check every row and report, applying nothing'),
});

/** A page of quick replies. */
export const QuickReplyPage = pageOf(QuickReplyBody);

/** The export's body: CSV text. */
export const CsvText = z.string();
