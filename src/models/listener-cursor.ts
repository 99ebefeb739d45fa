/**
 * Where each durable listener is in each tenant's event log: `seq` is the last event it has
 * handled (or skipped). A failing event leaves the cursor before it, with `retry_at` set.
 * `_id` is `<listener>:<tenant>`, so a cursor is one point read and one conditional write.
 */
import { model, Schema } from 'mongoose';
import { collectionOf } from './driver.js';

/** A stored cursor. */
export interface ListenerCursor {
  _id: string;
  listener: string;
  tenant_id: string;
  seq: number;
  /** Consecutive failures of the event after `seq`. */
  failures: number;
  /** When a failed event may be tried again; null when nothing failed. */
  retry_at: Date | null;
  last_error: string | null;
  updated_at: Date;
}

const schema = new Schema<ListenerCursor>(
  {
    _id: { type: String, required: true },
    listener: { type: String, required: true },
    tenant_id: { type: String, required: true },
    seq: { type: Number, required: true },
    failures: { type: Number, default: 0 },
    retry_at: { type: Date, default: null },
    last_error: { type: String, default: null },
    updated_at: { type: Date, required: true },
  },
  { collection: 'listener_cursors', versionKey: false },
);
// The catch-up pass walks one listener's cursors.
schema.index({ listener: 1, tenant_id: 1 });

export const ListenerCursorModel = model<ListenerCursor>('ListenerCursor', schema);

export const cursorId = (listener: string, tenantId: string) => `${listener}:${tenantId}`;

/** The cursor, or null when the listener has not seen the tenant yet. */
export const findCursor = (listener: string, tenantId: string) => collectionOf(ListenerCursorModel).findOne({ _id: cursorId(listener, tenantId) });

/** Creates the cursor at `seq` unless it exists; answers the stored one. */
export async function openCursor(listener: string, tenantId: string, seq: number): Promise<ListenerCursor> {
  const now = new Date();
  const doc = await collectionOf(ListenerCursorModel).findOneAndUpdate(
    { _id: cursorId(listener, tenantId) },
    { $setOnInsert: { listener, tenant_id: tenantId, seq, failures: 0, retry_at: null, last_error: null, updated_at: now } },
    { upsert: true, returnDocument: 'after' },
  );
  return doc as ListenerCursor;
}

/**
 * Moves the cursor from `from` to what `set` says; false when it is no longer at `from` (another
 * process moved it after this one's lease lapsed), so the caller stops.
 */
export async function moveCursor(listener: string, tenantId: string, from: number, set: Pick<ListenerCursor, 'seq' | 'failures' | 'retry_at' | 'last_error'>): Promise<boolean> {
  const res = await collectionOf(ListenerCursorModel).updateOne({ _id: cursorId(listener, tenantId), seq: from }, { $set: { ...set, updated_at: new Date() } });
  return res.matchedCount === 1;
}

/** One listener's cursors, a page at a time by tenant. */
export const cursorsOf = (listener: string, afterTenant: string, limit: number) =>
  collectionOf(ListenerCursorModel).find({ listener, tenant_id: { $gt: afterTenant } }).sort({ tenant_id: 1 }).limit(limit).toArray();
