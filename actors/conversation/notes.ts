/**
 * Conversation-actor handlers for private notes. The note and the conversation's `note_count`
 * are written here, one change at a time, so the count never drifts under concurrent requests;
 * the service has already checked who may do what with which note.
 *
 * Who hears about it: the conversation's audience, plus the agents the note mentions (an
 * @mention is an explicit call for someone's attention, e.g. a supervisor outside the
 * conversation's division). Mentioned agents get that one event; it does not let them open the
 * conversation over REST.
 */
import { audienceOf } from '../../src/events/audience.js';
import { draftEvent, emitEvents, eventIdOf } from '../../src/events/publish.js';
import { EVENTS, type Audience } from '../../src/events/types.js';
import { NotFoundError } from '../../src/errors.js';
import type { Conversation } from '../../src/models/conversation.js';
import { findEventsByIds } from '../../src/models/event.js';
import { notes, updateNoteFields, type Note } from '../../src/models/note.js';
import { users } from '../../src/models/user.js';
import { presentDeletedNote, presentNote } from '../../src/presenters/note.js';
import { commitConversation, insertOnce, type ConversationHandler } from './state.js';

/** A new note. */
export interface CreateNotePayload {
  /** Chosen by the caller (time-ordered), so a retried message finds the note it stored. */
  noteId: string;
  authorId: string;
  body: string;
  mentions: string[];
}

/** A change to a note's body or mentions; absent fields stay. */
export interface UpdateNotePayload {
  noteId: string;
  body?: string;
  mentions?: string[];
}

/** A note to remove. */
export interface DeleteNotePayload {
  noteId: string;
  deletedBy: string;
}

/** Which note a handler wrote. */
export interface NoteReply {
  noteId: string;
}

const withMentions = (c: Conversation, mentions: string[]): Audience => ({
  ...audienceOf(c),
  ...(mentions.length ? { alsoAgentIds: mentions } : {}),
});

async function presentWithAuthor(n: Note) {
  const author = await users.findOwnedOrNull(n.tenant_id, n.author_id);
  return presentNote(n, author);
}

/** The live note of this conversation, read inside the mailbox so a concurrent delete is seen. */
async function liveNote(c: Conversation, noteId: string): Promise<Note> {
  const n = await notes.findOwnedOrNull(c.tenant_id, noteId);
  if (!n || n.conversation_id !== c._id || n.deleted_at) throw NotFoundError('Note');
  return n;
}

const noteKey = (noteId: string) => `note:${noteId}`;

/** Stores a note and counts it on the conversation. */
const createNote: ConversationHandler<CreateNotePayload, NoteReply> = async (c, p) => {
  const { stored, committed } = await insertOnce(
    notes,
    { _id: p.noteId, tenant_id: c.tenant_id, conversation_id: c._id, author_id: p.authorId, body: p.body, mentions: p.mentions, edited_at: null, deleted_at: null, deleted_by: null },
    eventIdOf(c.tenant_id, noteKey(p.noteId), EVENTS.noteCreated),
  );
  if (committed) return { state: c, reply: { noteId: stored._id } };
  const json = await presentWithAuthor(stored);
  const next = await commitConversation(c, { note_count: c.note_count + 1 }, (after) => [
    draftEvent(c.tenant_id, noteKey(stored._id), EVENTS.noteCreated, json, withMentions(after, stored.mentions)),
  ]);
  return { state: next, reply: { noteId: stored._id } };
};

/** Changes a live note's body or mentions. */
const updateNote: ConversationHandler<UpdateNotePayload, NoteReply> = async (c, p) => {
  const n = await liveNote(c, p.noteId);
  const now = new Date();
  const set = { ...(p.body !== undefined ? { body: p.body } : {}), ...(p.mentions ? { mentions: p.mentions } : {}), edited_at: now, updated_at: now };
  await updateNoteFields(n._id, set);
  const updated: Note = { ...n, ...set };
  await emitEvents(c.tenant_id, [draftEvent(c.tenant_id, `${noteKey(n._id)}:edit:${now.toISOString()}`, EVENTS.noteUpdated, await presentWithAuthor(updated), withMentions(c, updated.mentions))]);
  return { state: c, reply: { noteId: n._id } };
};

/** Soft-deletes a live note and takes it off the count; a delete a crash interrupted is finished. */
const deleteNote: ConversationHandler<DeleteNotePayload, NoteReply> = async (c, p) => {
  const found = await notes.findOwnedOrNull(c.tenant_id, p.noteId);
  if (!found || found.conversation_id !== c._id) throw NotFoundError('Note');
  const deletedEventId = eventIdOf(c.tenant_id, `${noteKey(found._id)}:deleted`, EVENTS.noteDeleted);
  let n = found;
  if (!n.deleted_at) {
    const now = new Date();
    n = { ...n, deleted_at: now, deleted_by: p.deletedBy, updated_at: now };
    await updateNoteFields(n._id, { deleted_at: now, deleted_by: p.deletedBy, updated_at: now });
  } else if ((await findEventsByIds(c.tenant_id, [deletedEventId])).length > 0) {
    throw NotFoundError('Note');
  }
  const next = await commitConversation(c, { note_count: Math.max(0, c.note_count - 1) }, (after) => [
    draftEvent(c.tenant_id, `${noteKey(n._id)}:deleted`, EVENTS.noteDeleted, presentDeletedNote(n), withMentions(after, n.mentions)),
  ]);
  return { state: next, reply: { noteId: n._id } };
};

/** The note message types of the conversation actor. */
export const noteHandlers = {
  note_create: createNote,
  note_update: updateNote,
  note_delete: deleteNote,
};
