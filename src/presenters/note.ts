/** The private-note resource, shared by HTTP answers and the note.* realtime events. */
import { z } from 'zod';
import type { Note } from '../models/note.js';
import { iso } from './page.js';

/** The author as a note shows it; null when the author's account is gone. */
export interface NoteAuthor {
  _id: string;
  name: string;
}

/** The note JSON shape. */
export const NoteBody = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  author_id: z.uuid(),
  author: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  body: z.string(),
  mentions: z.array(z.uuid()),
  private: z.literal(true).describe('Notes are only ever shown to agents, never sent to the customer'),
  edited_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a note with its author's current name. */
export function presentNote(n: Note, author: NoteAuthor | null): z.infer<typeof NoteBody> {
  return {
    id: n._id,
    conversation_id: n.conversation_id,
    author_id: n.author_id,
    author: author ? { id: author._id, name: author.name } : null,
    body: n.body,
    mentions: n.mentions,
    private: true,
    edited_at: iso(n.edited_at),
    created_at: iso(n.created_at) as string,
    updated_at: iso(n.updated_at) as string,
  };
}

/** The note.deleted event's data: which note left which conversation, and who removed it. */
export const NoteDeletedBody = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  deleted_by: z.uuid(),
  deleted_at: z.iso.datetime(),
});

/** Shapes a deleted note for its event (the body is not repeated to the audience). */
export function presentDeletedNote(n: Note): z.infer<typeof NoteDeletedBody> {
  return {
    id: n._id,
    conversation_id: n.conversation_id,
    deleted_by: n.deleted_by ?? n.author_id,
    deleted_at: iso(n.deleted_at ?? n.updated_at) as string,
  };
}
