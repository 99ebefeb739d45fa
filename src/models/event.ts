/**
 * The tenant's event log (ARCHITECTURE invariant 5). Each event carries the tenant's next `seq`,
 * written only by the tenant actor, and an `_id` derived from the change that caused it
 * (`eventId(tenant, key)`), so appending a change's events again — a retried webhook, a
 * conversation's outbox replayed after a crash — finds them instead of adding second copies.
 * "Every event after seq N" is one indexed range read on (tenant_id, seq).
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { insertDocs } from './driver.js';
import type { Audience, DomainEvent, EventType } from '../events/types.js';

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
// Serves replay ("after seq N", in order) and the head (the last seq); unique, so two writers
// can never give one seq to two events. Events are never updated, so the engine's stale unique
// entries after updates do not apply.
eventSchema.index({ tenant_id: 1, seq: 1 }, { unique: true });

/** The events collection. */
export const EventModel = model<StoredEvent>('Event', eventSchema);

/** The `_id` of the event a change identified by `key` causes. */
export const eventId = (tenantId: string, key: string) => naturalId('event', tenantId, key);

/** The tenant's last appended seq (0 before the first event). */
export async function readHead(tenantId: string): Promise<number> {
  const [last] = await EventModel.find({ tenant_id: tenantId }, { seq: 1 }).sort({ seq: -1 }).limit(1).lean<{ seq: number }[]>().exec();
  return last?.seq ?? 0;
}

/** Up to `limit` events after `afterSeq`, in seq order. */
export async function readEventsAfter(tenantId: string, afterSeq: number, limit: number): Promise<DomainEvent[]> {
  const stored = await EventModel.find({ tenant_id: tenantId, seq: { $gt: afterSeq } }).sort({ seq: 1 }).limit(limit).lean<StoredEvent[]>().exec();
  return stored.map(toDomainEvent);
}

/** The tenant's events with these ids (those already appended). */
export async function findEventsByIds(tenantId: string, ids: string[]): Promise<DomainEvent[]> {
  if (ids.length === 0) return [];
  const stored = await EventModel.find({ tenant_id: tenantId, _id: { $in: ids } }).lean<StoredEvent[]>().exec();
  return stored.map(toDomainEvent);
}

/** Inserts events in order; a duplicate `_id` or seq rejects with code 11000 (those before it are stored). */
export async function insertEvents(events: StoredEvent[]): Promise<void> {
  await insertDocs(EventModel, events);
}

/** A stored event as delivered. */
export function toDomainEvent(e: StoredEvent): DomainEvent {
  return { id: e._id, event: e.event, seq: e.seq, tenant_id: e.tenant_id, data: e.data, audience: e.audience, created_at: new Date(e.created_at).toISOString() };
}

/** The tenant's events of one type about the resource with this id (`data.id`), in seq order; a scan within the tenant (audits, tests). */
export async function findEventsAbout(tenantId: string, event: EventType, resourceId: string): Promise<DomainEvent[]> {
  const stored = await EventModel.find({ tenant_id: tenantId, event, 'data.id': resourceId }).sort({ seq: 1 }).lean<StoredEvent[]>().exec();
  return stored.map(toDomainEvent);
}
