/**
 * Private notes on a conversation: agent-to-agent remarks that are never sent to the customer.
 * Only the conversation's actor writes them, so `note_count` on the conversation stays exact.
 * Deletion is soft (`deleted_at`, `deleted_by`): the audit trail keeps what was written and who
 * removed it, while lists and counts leave deleted notes out.
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored note. */
export interface Note extends TenantDoc {
  conversation_id: string;
  author_id: string;
  body: string;
  /** Agents called to the note's attention (live agents of the tenant when written). */
  mentions: string[];
  /** When the author last changed the body or mentions. */
  edited_at: Date | null;
  deleted_at: Date | null;
  deleted_by: string | null;
}

const schema = baseSchema<Note>(
  {
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    author_id: { type: String, required: true },
    body: { type: String, required: true },
    mentions: { type: [String], default: [] },
    edited_at: { type: Date, default: null },
    deleted_at: { type: Date, default: null },
    deleted_by: { type: String, default: null },
  },
  'notes',
);
// Serves a conversation's live notes, oldest first (ids are time-ordered UUID v7 for ties).
schema.index({ tenant_id: 1, conversation_id: 1, deleted_at: 1, created_at: 1, _id: 1 });

/** The notes collection. */
export const NoteModel = model<Note>('Note', schema);

/** Tenant-scoped access to notes. */
export const notes = tenantRepo(NoteModel, 'Note');

/** Sets fields of a note (its conversation's actor is the only writer). */
export async function updateNoteFields(id: string, set: Partial<Note>): Promise<void> {
  await NoteModel.updateOne({ _id: id }, { $set: set }, { timestamps: false }).exec();
}
