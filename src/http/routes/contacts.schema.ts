/** Schemas of the Contacts group. */
import { z } from 'zod';
import { CONVERSATION_STATUSES } from '../../models/conversation.js';
import { CHANNELS } from '../../models/integration.js';
import { ContactBody } from '../../presenters/contact.js';
import { ConversationBody } from '../../presenters/conversation.js';
import { pageOf, PageQuery } from '../schemas/common.js';

/** Most attributes a contact may carry. */
export const MAX_ATTRIBUTES = 50;
/** Largest attribute value, as JSON text. */
export const MAX_ATTRIBUTE_BYTES = 2048;
/** Most tags a contact may carry. */
export const MAX_TAGS = 30;
const MAX_DEPTH = 5;

const Channel = z.enum(CHANNELS, { message: `must be one of ${CHANNELS.join(', ')}` });

/** GET /api/contacts */
export const ListContactsQuery = PageQuery.extend({
  q: z.string().trim().min(1).max(100).optional().describe('Part of the name, phone, e-mail or username, any case'),
  channel: Channel.optional().describe('Only contacts of this channel'),
  tag: z.string().trim().min(1).max(50).optional().describe('Only contacts carrying this tag (exact)'),
});

/** GET /api/contacts/{id}/conversations */
export const ContactConversationsQuery = PageQuery.extend({
  status: z.enum(CONVERSATION_STATUSES).optional().describe('Only conversations in this status'),
});

// Attribute keys become MongoDB field names: no "." or leading "$", which both engines treat
// as paths and operators.
const AttributeKey = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "_" or "-"');

/** Why `value` is not a plain, bounded JSON value (nested keys obey MongoDB's field-name rules), or null. */
function jsonProblem(value: unknown, depth: number): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'must be a finite number';
  if (depth >= MAX_DEPTH) return `must not nest deeper than ${MAX_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '' || key.startsWith('$') || key.includes('.') || key.includes('\0')) return `has a key "${key}" that is empty, starts with "$" or contains "."`;
      const problem = jsonProblem(item, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  return 'must be a JSON value';
}

/** Free-form attributes: at most 50 keys, each value plain JSON of at most 2 KB. */
export const Attributes = z
  .record(AttributeKey, z.unknown())
  .superRefine((attrs, ctx) => {
    const keys = Object.keys(attrs);
    if (keys.length > MAX_ATTRIBUTES) ctx.addIssue({ code: 'custom', message: `must have at most ${MAX_ATTRIBUTES} keys` });
    for (const key of keys) {
      const value = attrs[key];
      const problem = jsonProblem(value, 0);
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
      else if (Buffer.byteLength(JSON.stringify(value)) > MAX_ATTRIBUTE_BYTES) {
        ctx.addIssue({ code: 'custom', path: [key], message: `must be at most ${MAX_ATTRIBUTE_BYTES} bytes as JSON` });
      }
    }
  })
  .describe(`Replaces every attribute; at most ${MAX_ATTRIBUTES} keys, each value JSON of at most ${MAX_ATTRIBUTE_BYTES} bytes`);

/** "+62 812-3456-7890" -> "6281234567890": E.164 digits, as the channels give phones. */
export const E164Phone = z
  .string()
  .max(32)
  .transform((v) => v.trim().replace(/[\s().-]/g, '').replace(/^\+/, ''))
  .pipe(z.string().regex(/^[1-9][0-9]{7,14}$/, 'must be an E.164 phone number such as +6281234567890'));

/** PATCH /api/contacts/{id} */
export const UpdateContactBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).nullable().optional(),
    email: z.email({ message: 'must be a valid e-mail address' }).max(254).transform((e) => e.toLowerCase()).nullable().optional(),
    phone: E164Phone.nullable().optional(),
    attributes: Attributes.optional(),
    tags: z
      .array(z.string().trim().min(1).max(50))
      .max(MAX_TAGS)
      .transform((tags) => [...new Set(tags)])
      .optional()
      .describe(`Replaces every tag; at most ${MAX_TAGS}, duplicates dropped`),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'must change at least one field');

/** A page of contacts. */
export const ContactPage = pageOf(ContactBody);

/** A page of conversations. */
export const ContactConversationPage = pageOf(ConversationBody);
