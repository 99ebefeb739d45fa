/**
 * A tenant's auto-assignment book: which open conversations each agent holds, where the
 * round-robin stands per division, and the first-in-first-out queue of conversations waiting
 * for a free agent. One document per tenant (`_id` = naturalId('assignment-state', tenant)),
 * written only by the tenant actor, so capacity is never exceeded even with many processes.
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';

/** One waiting conversation. */
export interface QueuedConversation {
  conversation_id: string;
  division_id: string | null;
  queued_at: Date;
}

/** The stored book. */
export interface AssignmentState {
  _id: string;
  tenant_id: string;
  /** Off: new conversations wait unassigned for a human to pick them. */
  enabled: boolean;
  /** agent id -> the open conversations assigned to them. */
  holdings: Record<string, string[]>;
  /** division id (or `_none`) -> the agent who got the last conversation. */
  cursors: Record<string, string>;
  queue: QueuedConversation[];
  updated_at: Date;
}

const schema = new Schema<AssignmentState>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    enabled: { type: Boolean, required: true },
    holdings: { type: Schema.Types.Mixed, default: {} },
    cursors: { type: Schema.Types.Mixed, default: {} },
    queue: { type: [{ conversation_id: String, division_id: { type: String, default: null }, queued_at: Date, _id: false }], default: [] },
    updated_at: { type: Date, required: true },
  },
  { collection: 'assignment_states', versionKey: false, minimize: false },
);

/** The assignment_states collection. */
export const AssignmentStateModel = model<AssignmentState>('AssignmentState', schema);

/** The `_id` of a tenant's book. */
export const assignmentStateId = (tenantId: string) => naturalId('assignment-state', tenantId);

/** The tenant's book, or a fresh one (enabled) if none was written yet. */
export async function loadAssignmentState(tenantId: string): Promise<AssignmentState> {
  const stored = await AssignmentStateModel.findById(assignmentStateId(tenantId)).lean<AssignmentState>().exec();
  return stored ?? { _id: assignmentStateId(tenantId), tenant_id: tenantId, enabled: true, holdings: {}, cursors: {}, queue: [], updated_at: new Date() };
}

/** Replaces the tenant's book in one document write. */
export async function saveAssignmentState(state: AssignmentState): Promise<void> {
  await AssignmentStateModel.replaceOne({ _id: state._id }, { ...state, updated_at: new Date() }, { upsert: true }).exec();
}
