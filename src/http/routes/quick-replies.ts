/** Quick Replies: canned responses agents insert with `/shortcut`, per tenant, division or agent. */
import { acting } from '../../services/agents.js';
import { readFile } from 'node:fs/promises';
import { presentPage } from '../../presenters/page.js';
import {
  ImportReportBody,
  presentImportReport,
  presentQuickReply,
  presentQuickReplyUse,
  QuickReplyBody,
  QuickReplyUseBody,
} from '../../presenters/quick-reply.js';
import {
  createQuickReply,
  deleteQuickReply,
  favoriteQuickReply,
  listQuickReplies,
  unfavoriteQuickReply,
  updateQuickReply,
  useQuickReply,
} from '../../services/quick-replies.js';
import { exportQuickReplies, IMPORT_MAX_BYTES, importQuickReplies } from '../../services/quick-reply-csv.js';
import { readUploadedFile } from '../multipart.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import {
  CreateQuickReplyBody,
  CsvText,
  ExportQuickRepliesQuery,
  ImportForm,
  ImportQuery,
  ListQuickRepliesQuery,
  QuickReplyPage,
  UpdateQuickReplyBody,
  UseQuickReplyBody,
} from './quick-replies.schema.js';

const VISIBILITY =
  'The caller sees tenant-wide replies, those of their own divisions and their own personal ones; holders of quick_replies.manage ' +
  'also see every division’s replies. Another agent’s personal reply answers 404, like another organization’s.';

const WHO_CHANGES =
  'Requires quick_replies.manage, which covers tenant-wide replies, every division’s replies and the caller’s own personal replies; ' +
  'nobody can change another agent’s personal reply (404).';

const SHORTCUT_TAKEN = 'The shortcut is already used in that scope (the tenant, that division, or the caller’s personal replies), in any letter case';

/** The Quick Replies group. */
export const quickReplyRoutes: RouteGroup = {
  group: 'Quick Replies',
  routes: [
    route({
      method: 'get',
      path: '/api/quick-replies',
      summary: 'List all quick replies',
      description: `${VISIBILITY} Sorted with the caller’s favourites first, then the rest; within each, most used first, then by shortcut. \`q\` searches shortcut, title and content.`,
      access: 'quick_replies.view',
      query: ListQuickRepliesQuery,
      response: QuickReplyPage,
      handler: async ({ query, principal }) =>
        presentPage(
          await listQuickReplies({
            ...acting(principal),
            q: query.q,
            scope: query.scope,
            divisionId: query.division_id,
            favoritesOnly: query.favorites_only ?? false,
            page: query.page,
            limit: query.limit,
          }),
          presentQuickReply,
        ),
    }),
    route({
      method: 'post',
      path: '/api/quick-replies',
      summary: 'Create a quick reply',
      description:
        `${WHO_CHANGES} A personal reply belongs to the caller. Variables in content must come from the catalogue (400 names an unknown one). ` +
        'A leading `/` in shortcut is dropped.',
      access: 'quick_replies.manage',
      body: CreateQuickReplyBody,
      response: QuickReplyBody,
      status: 201,
      errors: { 409: SHORTCUT_TAKEN },
      audit: { action: 'quick_reply.created', resource: 'quick_reply' },
      handler: async ({ body, principal }) =>
        presentQuickReply(
          await createQuickReply({
            ...acting(principal),
            shortcut: body.shortcut,
            title: body.title,
            content: body.content,
            scope: body.scope,
            divisionId: body.division_id ?? null,
          }),
        ),
    }),
    route({
      method: 'delete',
      path: '/api/quick-replies/{id}',
      summary: 'Delete a quick reply',
      description: `${WHO_CHANGES} Frees the shortcut and removes the reply from every agent’s favourites.`,
      access: 'quick_replies.manage',
      params: IdParams,
      response: MessageBody,
      audit: { action: 'quick_reply.deleted', resource: 'quick_reply' },
      handler: async ({ params, principal }) => {
        const reply = await deleteQuickReply({ ...acting(principal), id: params.id });
        return { message: `Quick reply "${reply.shortcut}" deleted` };
      },
    }),
    route({
      method: 'patch',
      path: '/api/quick-replies/{id}',
      summary: 'Update a quick reply',
      description:
        `${WHO_CHANGES} Absent fields stay. Changing scope to personal makes the reply the caller’s; scope division needs division_id ` +
        'unless it already is a division reply; division_id alone moves a division reply to another division.',
      access: 'quick_replies.manage',
      params: IdParams,
      body: UpdateQuickReplyBody,
      response: QuickReplyBody,
      errors: { 409: SHORTCUT_TAKEN },
      audit: { action: 'quick_reply.updated', resource: 'quick_reply' },
      handler: async ({ params, body, principal }) =>
        presentQuickReply(
          await updateQuickReply({
            ...acting(principal),
            id: params.id,
            shortcut: body.shortcut,
            title: body.title,
            content: body.content,
            scope: body.scope,
            divisionId: body.division_id,
          }),
        ),
    }),
    route({
      method: 'get',
      path: '/api/quick-replies/export',
      summary: 'Export quick replies as CSV',
      description:
        'The replies the caller sees (narrowed by the filters), as RFC 4180 CSV in UTF-8 with CRLF line ends and the header ' +
        '`shortcut,title,content,scope,division` (division by name): tenant-wide first, then by division, then personal; by shortcut. ' +
        'Starts with a byte-order mark unless `bom=false`, because Excel reads a CSV without one in a legacy code page and garbles ' +
        'emoji and accented text. A cell starting with = + - @, a tab or a CR gets a leading `\'` so spreadsheets do not run it as a ' +
        'formula; the import takes exactly that `\'` off again, so export and import round-trip.',
      access: 'quick_replies.view',
      query: ExportQuickRepliesQuery,
      response: CsvText,
      produces: 'text/csv; charset=utf-8',
      handler: async ({ query, principal, ctx }) => {
        const csv = await exportQuickReplies({
          ...acting(principal),
          q: query.q,
          scope: query.scope,
          divisionId: query.division_id,
          bom: query.bom ?? true,
        });
        ctx.set('Content-Type', 'text/csv; charset=utf-8');
        ctx.attachment('quick-replies.csv');
        return csv;
      },
    }),
    route({
      method: 'post',
      path: '/api/quick-replies/import',
      summary: 'Import quick replies from CSV',
      description:
        'multipart/form-data with one `file` field: a UTF-8 CSV (a leading byte-order mark is fine; comma or semicolon separated, ' +
        'found from the header) with the columns shortcut,title,content,scope,division in any order. A file that cannot be read as a ' +
        'whole (not UTF-8, an unbalanced quote, a row with a different number of fields, a wrong header, more than 5000 rows) is ' +
        'refused with 400 and nothing is applied. Otherwise every row stands alone: valid rows are applied and invalid ' +
        'ones reported with their row number and reasons, so one bad row does not block the rest (check first with `dry_run=true`). ' +
        'A row updates the title and content of the reply with that shortcut in that scope owner, or creates it; an empty scope means ' +
        'tenant; division is a division name or id; personal rows become the caller’s own. ' +
        WHO_CHANGES,
      access: 'quick_replies.manage',
      query: ImportQuery,
      form: ImportForm,
      response: ImportReportBody,
      errors: { 413: `The file is larger than ${IMPORT_MAX_BYTES / (1024 * 1024)} MB` },
      audit: { action: 'quick_reply.imported', resource: 'quick_reply', target: () => null },
      handler: async ({ query, principal, ctx }) => {
        const file = await readUploadedFile(ctx, { field: 'file', maxBytes: IMPORT_MAX_BYTES });
        let bytes: Buffer;
        try {
          bytes = await readFile(file.path);
        } finally {
          await file.discard();
        }
        return presentImportReport(await importQuickReplies({ ...acting(principal), bytes, dryRun: query.dry_run ?? false }));
      },
    }),
    route({
      method: 'post',
      path: '/api/quick-replies/{id}/use',
      summary: 'Record usage of a quick reply',
      description:
        'Counts one use (concurrent uses are all counted) and stamps last_used_at. With `conversation_id` (one the caller may see, ' +
        'else 404) the answer also carries the content with its variables filled from that conversation’s contact, the caller as ' +
        'agent, and the organization; variables without a value are rendered empty and listed in unfilled_variables.',
      access: 'quick_replies.view',
      params: IdParams,
      body: UseQuickReplyBody,
      response: QuickReplyUseBody,
      audit: 'none', // counted on the reply itself (usage_count, last_used_at); an entry per insertion would drown the log
      handler: async ({ params, body, principal }) =>
        presentQuickReplyUse(
          await useQuickReply({
            ...acting(principal),
            id: params.id,
            ...(body.conversation_id ? { conversationId: body.conversation_id } : {}),
          }),
        ),
    }),
    route({
      method: 'post',
      path: '/api/quick-replies/{id}/favorite',
      summary: 'Add quick reply to favorites',
      description: 'Adds it to the caller’s own favourites (listed first); adding it again changes nothing.',
      access: 'quick_replies.view',
      params: IdParams,
      response: QuickReplyBody,
      audit: 'none', // a personal preference, not a change to the organization's data
      handler: async ({ params, principal }) => presentQuickReply(await favoriteQuickReply({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'delete',
      path: '/api/quick-replies/{id}/favorite',
      summary: 'Remove quick reply from favorites',
      description: 'Removes it from the caller’s favourites; removing one that is not a favourite changes nothing.',
      access: 'quick_replies.view',
      params: IdParams,
      response: QuickReplyBody,
      audit: 'none', // a personal preference, as when adding it
      handler: async ({ params, principal }) => presentQuickReply(await unfavoriteQuickReply({ ...acting(principal), id: params.id })),
    }),
  ],
};
