/**
 * The tenant's event log. An event's `_id` is naturalId('event', tenant, seq), so "every event
 * after seq N" is read as `_id` lookups of N+1, N+2, ... (the one query FerretDB answers from an
 * index), and a second writer of the same seq fails with a duplicate key instead of forking the
 * log. The head document holds the last appended seq; only the tenant actor writes either.
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import type { Audience, EventType } from '../events/types.js';

/** A stored event. */
export interface StoredEvent {
  _id: string;
  tenant_id: string;
  seq: number;
  event: EventType;
  data: unknown;
  audience: Audience;
  created_at: Date;
}

const eventSchema = new Schema<StoredEvent>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    seq: { type: Number, required: true },
    event: { type: String, required: true },
    data: { type: Schema.Types.Mixed },
    audience: { type: Schema.Types.Mixed, required: true },
    created_at: { type: Date, required: true },
  },
  { collection: 'events', versionKey: false, minimize: false },
);
// Serves retention sweeps (oldest first per tenant).
eventSchema.index({ tenant_id: 1, seq: 1 });

/** The events collection. */
export const EventModel = model<StoredEvent>('Event', eventSchema);

/** A tenant's last appended seq. */
export interface EventHead {
  _id: string;
  tenant_id: string;
  seq: number;
}

const headSchema = new Schema<EventHead>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    seq: { type: Number, required: true },
  },
  { collection: 'event_heads', versionKey: false },
);

/** The event_heads collection. */
export const EventHeadModel = model<EventHead>('EventHead', headSchema);

/** The `_id` of the event with this seq. */
export const eventId = (tenantId: string, seq: number) => naturalId('event', tenantId, String(seq));

/** The `_id` of the tenant's head document. */
export const headId = (tenantId: string) => naturalId('event-head', tenantId);

/** The event with this seq, or null. */
export const findEvent = (tenantId: string, seq: number) => EventModel.findById(eventId(tenantId, seq)).lean<StoredEvent>().exec();

/** The tenant's last appended seq (0 before the first event). */
export async function readHead(tenantId: string): Promise<number> {
  const head = await EventHeadModel.findById(headId(tenantId)).lean<EventHead>().exec();
  return head?.seq ?? 0;
}
