/** Notes: private remarks agents leave on a conversation; never sent to the customer. */
import type { Principal } from '../../auth/principal.js';
import { NoteBody, presentNote } from '../../presenters/note.js';
import { presentPage } from '../../presenters/page.js';
import { createNote, deleteNote, listNotes, updateNote, type NoteView } from '../../services/notes.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import { CreateNoteBody, ListNotesQuery, NoteParams, NotePage, UpdateNoteBody } from './notes.schema.js';

const present = (v: NoteView) => presentNote(v.note, v.author);
const on = (principal: Principal, conversationId: string) => ({ tenantId: principal.tenantId, principal, conversationId });

/** The Notes group. */
export const notesRoutes: RouteGroup = {
  group: 'Notes',
  routes: [
    route({
      method: 'get',
      path: '/api/conversations/{id}/notes',
      summary: 'List notes for a conversation',
      description: 'Oldest first; deleted notes are left out. 404 for a conversation the caller may not see.',
      access: 'conversations.view',
      params: IdParams,
      query: ListNotesQuery,
      response: NotePage,
      handler: async ({ params, query, principal }) =>
        presentPage(
          await listNotes({ ...on(principal, params.id), authorId: query.author_id, page: query.page, limit: query.limit }),
          present,
        ),
    }),
    route({
      method: 'post',
      path: '/api/conversations/{id}/notes',
      summary: 'Create a note',
      description:
        'A private note: shown to agents only, never sent on the channel. `mentions` must name live agents of the organization (400 otherwise); they receive the note.created event even when the conversation is outside their divisions.',
      access: 'notes.manage',
      params: IdParams,
      body: CreateNoteBody,
      response: NoteBody,
      status: 201,
      audit: { action: 'note.created', resource: 'note', target: ({ result }) => result.id },
      handler: async ({ params, body, principal }) =>
        present(await createNote({ ...on(principal, params.id), body: body.body, mentions: body.mentions })),
    }),
    route({
      method: 'delete',
      path: '/api/conversations/{id}/notes/{noteId}',
      summary: 'Delete a note',
      description: 'By its author, or by anyone holding conversations.manage (403 otherwise). The note is kept for the audit trail and hidden from lists.',
      access: 'notes.manage',
      params: NoteParams,
      response: MessageBody,
      audit: { action: 'note.deleted', resource: 'note', target: ({ params }) => params.noteId ?? null },
      handler: async ({ params, principal }) => {
        await deleteNote({ ...on(principal, params.id), noteId: params.noteId });
        return { message: 'Note deleted' };
      },
    }),
    route({
      method: 'patch',
      path: '/api/conversations/{id}/notes/{noteId}',
      summary: 'Update a note',
      description: 'Only its author may edit a note (403 otherwise); sets `edited_at`.',
      access: 'notes.manage',
      params: NoteParams,
      body: UpdateNoteBody,
      response: NoteBody,
      audit: { action: 'note.updated', resource: 'note', target: ({ params }) => params.noteId ?? null },
      handler: async ({ params, body, principal }) =>
        present(await updateNote({ ...on(principal, params.id), noteId: params.noteId, body: body.body, mentions: body.mentions })),
    }),
  ],
};
