/**
 * Private notes on a conversation: agents talk to each other next to the customer thread, and
 * nothing here ever reaches a channel (notes live in their own collection, which no send path
 * reads). Rules: whoever may see a conversation may read its notes; writing needs notes.manage;
 * only the author may edit a note (its words stay its author's); the author or a holder of
 * conversations.manage may delete one. Deleted notes are kept with `deleted_at` for the audit
 * trail and hidden from every list. A note on a conversation the caller may not see, of another
 * conversation, or already deleted is a 404.
 */
import { v7 as orderedId } from 'uuid';
import { askConversation } from '../../actors/conversation/index.js';
import type { Principal } from '../auth/principal.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { notes, type Note } from '../models/note.js';
import type { Page, Scoped } from '../models/repo.js';
import { users } from '../models/user.js';
import type { NoteAuthor } from '../presenters/note.js';
import { requireLiveAgents } from './agents.js';
import { findVisibleConversation } from './conversation-access.js';

/** A note with what its presentation needs. */
export interface NoteView {
  note: Note;
  author: NoteAuthor | null;
}

/** Who is acting on which conversation. */
export interface OnConversation {
  /** The caller's tenant; every read and write is scoped to it. */
  tenantId: string;
  /** The caller: visibility of the conversation and the author/manager rules. */
  principal: Principal;
  /** The conversation the notes belong to. */
  conversationId: string;
}

/** Filters of the note list. */
export interface ListNotes extends OnConversation {
  /** Only notes written by this agent. */
  authorId?: string;
  page: number;
  limit: number;
}

/** A new note. */
export interface CreateNote extends OnConversation {
  /** The text, already trimmed. */
  body: string;
  /** Agent ids to notify; each must be a live agent of the tenant. */
  mentions: string[];
}

/** A change to one note. */
export interface UpdateNote extends OnConversation {
  noteId: string;
  body?: string;
  mentions?: string[];
}

/** One note to delete. */
export interface DeleteNote extends OnConversation {
  noteId: string;
}

async function authorsOf(tenantId: string, list: Note[]): Promise<Map<string, NoteAuthor>> {
  const found = await users.findMany(tenantId, list.map((n) => n.author_id));
  return new Map(found.map((u) => [u._id, { _id: u._id, name: u.name }]));
}

async function viewOf(tenantId: string, note: Note): Promise<NoteView> {
  const authors = await authorsOf(tenantId, [note]);
  return { note, author: authors.get(note.author_id) ?? null };
}

/** The ids, once each, after checking they are live agents of the tenant (400 otherwise). */
async function checkMentions(tenantId: string, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length > 0) await requireLiveAgents(tenantId, unique, 'mentions');
  return unique;
}

/** A live note of a conversation the caller may see, else NotFoundError. */
async function findVisibleNote(cmd: OnConversation & { noteId: string }): Promise<Note> {
  await findVisibleConversation(cmd.principal, cmd.conversationId);
  const note = await notes.findOwned(cmd.tenantId, cmd.noteId);
  if (note.conversation_id !== cmd.conversationId || note.deleted_at) throw NotFoundError('Note');
  return note;
}

/** One page of a conversation's live notes, oldest first. */
export async function listNotes(q: ListNotes): Promise<Page<NoteView>> {
  await findVisibleConversation(q.principal, q.conversationId);
  const filter: Scoped = { tenant_id: q.tenantId, conversation_id: q.conversationId, deleted_at: null };
  if (q.authorId) filter.author_id = q.authorId;
  const page = await notes.page(filter, { created_at: 1, _id: 1 }, q.page, q.limit);
  const authors = await authorsOf(q.tenantId, page.items);
  return { ...page, items: page.items.map((note) => ({ note, author: authors.get(note.author_id) ?? null })) };
}

/** Writes a note through the conversation's actor, which counts it and announces it. */
export async function createNote(cmd: CreateNote): Promise<NoteView> {
  await findVisibleConversation(cmd.principal, cmd.conversationId);
  const mentions = await checkMentions(cmd.tenantId, cmd.mentions);
  // Time-ordered id: notes written in the same millisecond still list in the order written.
  const { noteId } = await askConversation(cmd.conversationId, 'note_create', { noteId: orderedId(), authorId: cmd.principal.userId, body: cmd.body, mentions });
  return viewOf(cmd.tenantId, await notes.findOwned(cmd.tenantId, noteId));
}

/** Changes the caller's own note; anyone else's is 403. */
export async function updateNote(cmd: UpdateNote): Promise<NoteView> {
  const note = await findVisibleNote(cmd);
  if (note.author_id !== cmd.principal.userId) throw ForbiddenError('Only the author can edit a note');
  const mentions = cmd.mentions === undefined ? undefined : await checkMentions(cmd.tenantId, cmd.mentions);
  await askConversation(cmd.conversationId, 'note_update', {
    noteId: note._id,
    ...(cmd.body !== undefined ? { body: cmd.body } : {}),
    ...(mentions !== undefined ? { mentions } : {}),
  });
  return viewOf(cmd.tenantId, await notes.findOwned(cmd.tenantId, note._id));
}

/** Deletes (softly) the caller's own note, or anyone's with conversations.manage. */
export async function deleteNote(cmd: DeleteNote): Promise<Note> {
  const note = await findVisibleNote(cmd);
  if (note.author_id !== cmd.principal.userId && !cmd.principal.permissions.has('conversations.manage')) {
    throw ForbiddenError("Deleting another agent's note requires the conversations.manage permission");
  }
  await askConversation(cmd.conversationId, 'note_delete', { noteId: note._id, deletedBy: cmd.principal.userId });
  return note;
}
