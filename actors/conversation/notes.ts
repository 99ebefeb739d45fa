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
import { v7 as orderedId } from 'uuid';
import { emitEvent } from '../../src/events/publish.js';
import { EVENTS, type Audience } from '../../src/events/types.js';
import { NotFoundError } from '../../src/errors.js';
import type { Conversation } from '../../src/models/conversation.js';
import { NoteModel, type Note } from '../../src/models/note.js';
import { users } from '../../src/models/user.js';
import { presentDeletedNote, presentNote } from '../../src/presenters/note.js';
import { audienceOf } from './inbound.js';
import { saveConversation, type ConversationHandler } from './state.js';

/** A new note. */
export interface CreateNotePayload {
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
  const n = await NoteModel.findById(noteId).lean<Note>().exec();
  if (!n || n.tenant_id !== c.tenant_id || n.conversation_id !== c._id || n.deleted_at) throw NotFoundError('Note');
  return n;
}

/** Stores a note and counts it on the conversation. */
const createNote: ConversationHandler<CreateNotePayload, NoteReply> = async (c, p) => {
  // Time-ordered id: notes written in the same millisecond still list in the order written.
  const id = orderedId();
  await NoteModel.create({
    _id: id,
    tenant_id: c.tenant_id,
    conversation_id: c._id,
    author_id: p.authorId,
    body: p.body,
    mentions: p.mentions,
    edited_at: null,
    deleted_at: null,
    deleted_by: null,
  });
  const next = await saveConversation(c, { note_count: c.note_count + 1 });
  const stored = (await NoteModel.findById(id).lean<Note>().exec()) as Note;
  await emitEvent(c.tenant_id, EVENTS.noteCreated, await presentWithAuthor(stored), withMentions(next, stored.mentions));
  return { state: next, reply: { noteId: id } };
};

/** Changes a live note's body or mentions. */
const updateNote: ConversationHandler<UpdateNotePayload, NoteReply> = async (c, p) => {
  const n = await liveNote(c, p.noteId);
  const now = new Date();
  const set = { ...(p.body !== undefined ? { body: p.body } : {}), ...(p.mentions ? { mentions: p.mentions } : {}), edited_at: now, updated_at: now };
  await NoteModel.updateOne({ _id: n._id }, { $set: set }, { timestamps: false }).exec();
  const updated: Note = { ...n, ...set };
  await emitEvent(c.tenant_id, EVENTS.noteUpdated, await presentWithAuthor(updated), withMentions(c, updated.mentions));
  return { state: c, reply: { noteId: n._id } };
};

/** Soft-deletes a live note and takes it off the count. */
const deleteNote: ConversationHandler<DeleteNotePayload, NoteReply> = async (c, p) => {
  const n = await liveNote(c, p.noteId);
  const now = new Date();
  const set = { deleted_at: now, deleted_by: p.deletedBy, updated_at: now };
  await NoteModel.updateOne({ _id: n._id }, { $set: set }, { timestamps: false }).exec();
  const next = await saveConversation(c, { note_count: Math.max(0, c.note_count - 1) });
  await emitEvent(c.tenant_id, EVENTS.noteDeleted, presentDeletedNote({ ...n, ...set }), withMentions(next, n.mentions));
  return { state: next, reply: { noteId: n._id } };
};

/** The note message types of the conversation actor. */
export const noteHandlers = {
  note_create: createNote,
  note_update: updateNote,
  note_delete: deleteNote,
};
