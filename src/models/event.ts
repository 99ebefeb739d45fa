/**
 * The tenant's event log (ARCHITECTURE invariant 5). Each event carries the tenant's next `seq`,
 * written only by the tenant actor, and an `_id` derived from the change that caused it
 * (`eventId(tenant, key)`), so appending a change's events again — a retried webhook, a
 * conversation's outbox replayed after a crash — finds them instead of adding second copies.
 * "Every event after seq N" is one indexed range read on (tenant_id, seq).
 *
 * The last seq is found by point lookups, never by "sort descending, limit 1": the embedded
 * engine does not push a limit into an index scan, so that query reads every key of the tenant
 * (75 ms at 30k events, growing with the log; a point lookup is under 1 ms at any size). A head
 * document, moved forward after each append, says where to start looking.
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { collectionOf, insertDocs } from './driver.js';
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

/** A tenant's head hint: a seq known to be appended (the log may be ahead of it, never behind). */
interface EventHead {
  _id: string;
  tenant_id: string;
  seq: number;
}

/** The event_heads collection. */
export const EventHeadModel = model<EventHead>(
  'EventHead',
  new Schema<EventHead>({ _id: { type: String, required: true }, tenant_id: { type: String, required: true }, seq: { type: Number, required: true } }, { collection: 'event_heads', versionKey: false }),
);

const headId = (tenantId: string) => naturalId('event-head', tenantId);

const hasSeq = async (tenantId: string, seq: number) =>
  (await collectionOf(EventModel).countDocuments({ tenant_id: tenantId, seq }, { limit: 1 })) > 0;

/**
 * The tenant's last appended seq (0 before the first event): from the head hint, forward by
 * point lookups while the next seq exists, galloping then halving (seqs are gap-free).
 */
export async function readHead(tenantId: string): Promise<number> {
  const hint = await EventHeadModel.findById(headId(tenantId)).lean<EventHead>().exec();
  let known = hint?.seq ?? 0;
  if (!(await hasSeq(tenantId, known + 1))) return known;
  // known + 1 exists: gallop to a seq past the end, then halve the gap to the boundary.
  known += 1;
  let step = 1;
  while (await hasSeq(tenantId, known + step)) {
    known += step;
    step *= 2;
  }
  let missing = known + step;
  while (missing - known > 1) {
    const mid = Math.floor((known + missing) / 2);
    if (await hasSeq(tenantId, mid)) known = mid;
    else missing = mid;
  }
  return known;
}

/** Moves the head hint forward to `seq` (never back). */
export async function recordHead(tenantId: string, seq: number): Promise<void> {
  await collectionOf(EventHeadModel).updateOne({ _id: headId(tenantId) }, { $max: { seq }, $setOnInsert: { tenant_id: tenantId } }, { upsert: true });
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

/** Up to `limit` tenants' head hints (the platform's listener-lag check), by tenant. */
export const listEventHeads = (limit: number) =>
  EventHeadModel.find({}, { tenant_id: 1, seq: 1 }).sort({ _id: 1 }).limit(limit).lean<EventHead[]>().exec();
