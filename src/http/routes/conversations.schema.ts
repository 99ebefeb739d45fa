/** Schemas of the Conversations group. */
import { z } from 'zod';
import { MAX_TAGS } from '../../../actors/conversation/lifecycle.js';
import { CONVERSATION_STATUSES } from '../../models/conversation.js';
import { ConversationViewBody } from '../../presenters/conversation-view.js';
import { BoolQuery, Id, PageQuery, pageOf } from '../schemas/common.js';

const CHANNELS = ['whatsapp', 'messenger', 'instagram', 'email', 'webchat'] as const;

/** Statuses an agent may set by hand (expired comes from POST /api/conversations/expire). */
const SETTABLE_STATUSES = ['open', 'pending', 'resolved', 'closed'] as const;

/** A tag as stored (shared with SLA policy scopes): trimmed, lower-case, 1-50 characters, no commas or control characters. */
export const Tag = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, 'must not be empty')
  .max(50, 'must be at most 50 characters')
  // C0 and C1 controls spelled out (\p{Cc} is the same set; schema-driven fuzzers cannot generate from it).
  .regex(/^[^,\u0000-\u001f\u007f-\u009f]+$/, 'must not contain commas or control characters');

const Tags = z.array(Tag).max(MAX_TAGS, `at most ${MAX_TAGS} tags`);

const Reason = z.string().trim().min(1).max(500);

/** GET /api/conversations */
export const ListConversationsQuery = PageQuery.extend({
  status: z
    .string()
    .transform((s) => [...new Set(s.split(',').map((p) => p.trim()))])
    .pipe(z.array(z.enum(CONVERSATION_STATUSES)).min(1))
    .optional()
    .describe('One status or several, comma-separated (`open,pending`)'),
  assignee_id: z
    .union([Id, z.enum(['me', 'unassigned'])])
    .optional()
    .describe('An agent id, `me` for the caller, or `unassigned`'),
  division_id: z
    .union([Id, z.literal('none')])
    .optional()
    .describe('A division id, or `none` for conversations in no division'),
  contact_id: Id.optional(),
  channel: z.enum(CHANNELS).optional(),
  tag: Tag.optional().describe('Conversations carrying this tag (any case)'),
  unread: BoolQuery.optional().describe('`true`: only with unread customer messages; `false`: only without'),
});

/** PATCH /api/conversations/{id}/assign */
export const AssignBody = z.strictObject({
  agent_id: Id.nullable().describe('The agent to assign; null unassigns'),
});

/** PATCH /api/conversations/{id}/status */
export const StatusBody = z.strictObject({
  status: z.enum(SETTABLE_STATUSES),
  reason: Reason.optional().describe('Why; kept in the activity log'),
});

/** POST /api/conversations/{id}/read: no fields. */
export const ReadBody = z.strictObject({});

/** POST /api/conversations/expire */
export const ExpireBody = z.strictObject({
  older_than_hours: z.number().int().min(1).max(720).default(24).describe('Expire conversations idle longer than this (1-720, default 24)'),
});

/** The answer of POST /api/conversations/expire. */
export const ExpireResult = z.object({
  expired: z.array(z.uuid()),
  count: z.number().int(),
  has_more: z.boolean().describe('More idle conversations remain: call again'),
});

/** PATCH /api/conversations/{id}/tags: `tags` replaces the list, or `add` and/or `remove` edit it. */
export const TagsBody = z
  .strictObject({
    tags: Tags.optional().describe('The new list, replacing the current one'),
    add: Tags.optional().describe('Tags to add to the current ones'),
    remove: Tags.optional().describe('Tags to remove from the current ones'),
  })
  .superRefine((b, ctx) => {
    const edits = b.add !== undefined || b.remove !== undefined;
    if (b.tags !== undefined && edits) ctx.addIssue({ code: 'custom', path: ['tags'], message: 'send either `tags` (replace) or `add`/`remove` (edit), not both' });
    if (b.tags === undefined && !edits) ctx.addIssue({ code: 'custom', path: [], message: 'send `tags` to replace the list, or `add`/`remove` to edit it' });
  });

/** POST /api/conversations/{id}/takeover */
export const TakeoverBody = z.strictObject({
  reason: Reason.optional().describe('Why; sent with conversation.takeover'),
});

/** The answer of a takeover: the conversation and who held it before. */
export const TakeoverResult = ConversationViewBody.extend({ previous_assignee_id: z.uuid().nullable() });

const BulkIds = z
  .array(Id)
  .min(1)
  .max(100)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id');

/** POST /api/conversations/bulk */
export const BulkBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('assign'), ids: BulkIds, agent_id: Id }),
  z.strictObject({ action: z.literal('unassign'), ids: BulkIds }),
  z.strictObject({ action: z.literal('status'), ids: BulkIds, status: z.enum(SETTABLE_STATUSES), reason: Reason.optional() }),
  z.strictObject({ action: z.literal('add_tags'), ids: BulkIds, tags: Tags.min(1) }),
  z.strictObject({ action: z.literal('remove_tags'), ids: BulkIds, tags: Tags.min(1) }),
]);

/** The answer of a bulk action: one result per id, in the order given. */
export const BulkResultBody = z.object({
  results: z.array(
    z.object({
      id: z.uuid(),
      ok: z.boolean(),
      status: z.number().int().describe('The HTTP status this conversation’s own request would have had'),
      code: z.string().optional(),
      error: z.string().optional(),
    }),
  ),
  succeeded: z.number().int(),
  failed: z.number().int(),
});

/** A page of conversations. */
export const ConversationPage = pageOf(ConversationViewBody);
