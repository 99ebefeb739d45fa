/** Schemas of the Notes group. */
import { z } from 'zod';
import { NoteBody } from '../../presenters/note.js';
import { Id, PageQuery, pageOf } from '../schemas/common.js';

const Text = z.string().trim().min(1, 'must not be empty').max(5000);
const Mentions = z.array(Id).max(50).describe('Agent ids to notify; each must be a live agent of the organization');

/** `/api/conversations/{id}/notes/{noteId}` */
export const NoteParams = z.strictObject({ id: Id, noteId: Id });

/** GET /api/conversations/{id}/notes */
export const ListNotesQuery = PageQuery.extend({
  author_id: Id.optional().describe('Only notes written by this agent'),
});

/** POST /api/conversations/{id}/notes */
export const CreateNoteBody = z.strictObject({
  body: Text,
  mentions: Mentions.default([]),
});

/** PATCH /api/conversations/{id}/notes/{noteId} */
export const UpdateNoteBody = z
  .strictObject({
    body: Text.optional(),
    mentions: Mentions.optional(),
  })
  .refine((b) => b.body !== undefined || b.mentions !== undefined, 'must change at least one field');

/** A page of notes. */
export const NotePage = pageOf(NoteBody);
