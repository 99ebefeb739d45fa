/**
 * A tenant's auto-assignment book, written only by the tenant actor, so capacity is never
 * exceeded even with many processes. It is kept as small documents, each changed by one
 * single-document write, instead of one document that grows with every open conversation:
 * - the settings (`_id` = naturalId('assignment-state', tenant)): on/off and, per division, the
 *   agent who got the last conversation (the round-robin cursor);
 * - one holding per conversation an agent holds (`_id` = naturalId('assignment-holding', tenant,
 *   conversation));
 * - one waiting entry per conversation in the first-in-first-out queue (`_id` =
 *   naturalId('assignment-wait', tenant, conversation)).
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';

/** The tenant's switch and round-robin cursors. */
export interface AssignmentSettings {
  _id: string;
  tenant_id: string;
  /** Off: new conversations wait unassigned for a human to pick them. */
  enabled: boolean;
  /** division id (or `_none`) -> the agent who got the last conversation. */
  cursors: Record<string, string>;
  updated_at: Date;
}

const settingsSchema = new Schema<AssignmentSettings>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    enabled: { type: Boolean, required: true },
    cursors: { type: Schema.Types.Mixed, default: {} },
    updated_at: { type: Date, required: true },
  },
  { collection: 'assignment_states', versionKey: false, minimize: false, strict: false },
);

/** The assignment_states collection (one settings document per tenant). */
export const AssignmentSettingsModel = model<AssignmentSettings>('AssignmentSettings', settingsSchema);

/** One open conversation booked to an agent. */
export interface AssignmentHolding {
  _id: string;
  tenant_id: string;
  conversation_id: string;
  agent_id: string;
}

const holdingSchema = new Schema<AssignmentHolding>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    agent_id: { type: String, required: true },
  },
  { collection: 'assignment_holdings', versionKey: false },
);
// Serves loading a tenant's book.
holdingSchema.index({ tenant_id: 1 });

/** The assignment_holdings collection. */
export const AssignmentHoldingModel = model<AssignmentHolding>('AssignmentHolding', holdingSchema);

/** One conversation waiting for a free agent. */
export interface QueuedConversation {
  _id: string;
  tenant_id: string;
  conversation_id: string;
  division_id: string | null;
  queued_at: Date;
}

const waitSchema = new Schema<QueuedConversation>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    division_id: { type: String, default: null },
    queued_at: { type: Date, required: true },
  },
  { collection: 'assignment_queue', versionKey: false },
);
// Serves loading a tenant's queue oldest first, and counting it.
waitSchema.index({ tenant_id: 1, queued_at: 1 });

/** The assignment_queue collection. */
export const AssignmentQueueModel = model<QueuedConversation>('AssignmentQueue', waitSchema);

const settingsId = (tenantId: string) => naturalId('assignment-state', tenantId);
const holdingId = (tenantId: string, conversationId: string) => naturalId('assignment-holding', tenantId, conversationId);
const waitId = (tenantId: string, conversationId: string) => naturalId('assignment-wait', tenantId, conversationId);

/** A tenant's whole book as stored. */
export interface StoredBook {
  settings: AssignmentSettings;
  holdings: AssignmentHolding[];
  queue: QueuedConversation[];
}

/** Reads a tenant's book (enabled, empty, when nothing was written yet). */
export async function loadBook(tenantId: string): Promise<StoredBook> {
  const [settings, holdings, queue] = await Promise.all([
    AssignmentSettingsModel.findById(settingsId(tenantId)).lean<AssignmentSettings>().exec(),
    AssignmentHoldingModel.find({ tenant_id: tenantId }).lean<AssignmentHolding[]>().exec(),
    AssignmentQueueModel.find({ tenant_id: tenantId }).sort({ queued_at: 1, _id: 1 }).lean<QueuedConversation[]>().exec(),
  ]);
  return {
    settings: settings ?? { _id: settingsId(tenantId), tenant_id: tenantId, enabled: true, cursors: {}, updated_at: new Date() },
    holdings,
    queue,
  };
}

/** Turns auto-assignment on or off. */
export async function saveEnabled(tenantId: string, enabled: boolean): Promise<void> {
  await AssignmentSettingsModel.updateOne({ _id: settingsId(tenantId) }, { $set: { enabled, updated_at: new Date() }, $setOnInsert: { tenant_id: tenantId } }, { upsert: true }).exec();
}

/** Moves a division's round-robin cursor to the agent who just got a conversation. */
export async function saveCursor(tenantId: string, divisionKey: string, agentId: string): Promise<void> {
  await AssignmentSettingsModel.updateOne(
    { _id: settingsId(tenantId) },
    { $set: { [`cursors.${divisionKey}`]: agentId, updated_at: new Date() }, $setOnInsert: { tenant_id: tenantId, enabled: true } },
    { upsert: true },
  ).exec();
}

/** Books a conversation to an agent (or moves its booking). */
export async function saveHolding(tenantId: string, conversationId: string, agentId: string): Promise<void> {
  await AssignmentHoldingModel.replaceOne({ _id: holdingId(tenantId, conversationId) }, { tenant_id: tenantId, conversation_id: conversationId, agent_id: agentId }, { upsert: true }).exec();
}

/** Drops a conversation's booking. */
export async function deleteHolding(tenantId: string, conversationId: string): Promise<void> {
  await AssignmentHoldingModel.deleteOne({ _id: holdingId(tenantId, conversationId) }).exec();
}

/** Puts a conversation in the queue (a second put keeps its first place). */
export async function saveWaiting(q: Omit<QueuedConversation, '_id'>): Promise<void> {
  await AssignmentQueueModel.updateOne({ _id: waitId(q.tenant_id, q.conversation_id) }, { $setOnInsert: q }, { upsert: true }).exec();
}

/** Takes conversations out of the queue. */
export async function deleteWaiting(tenantId: string, conversationIds: string[]): Promise<void> {
  if (conversationIds.length === 0) return;
  await AssignmentQueueModel.deleteMany({ _id: { $in: conversationIds.map((id) => waitId(tenantId, id)) } }).exec();
}

/** Empties the tenant's queue. */
export async function clearQueue(tenantId: string): Promise<void> {
  await AssignmentQueueModel.deleteMany({ tenant_id: tenantId }).exec();
}

/** The tenant's switch and how many conversations wait, read outside the actor. */
export async function assignmentSummary(tenantId: string): Promise<{ enabled: boolean; queued: number }> {
  const [settings, queued] = await Promise.all([
    AssignmentSettingsModel.findById(settingsId(tenantId)).lean<AssignmentSettings>().exec(),
    AssignmentQueueModel.countDocuments({ tenant_id: tenantId }).exec(),
  ]);
  return { enabled: settings?.enabled ?? true, queued };
}
