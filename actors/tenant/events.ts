/**
 * Tenant-actor handler that appends a batch of domain events: each gets the tenant's next seq,
 * the batch is stored in one ordered insert, then published in one Redis message. Running only
 * here makes the tenant's seq gap-free and increasing (ARCHITECTURE invariant 5): an event is
 * published after it is durable, so "every event after seq N" read from the log is complete.
 *
 * An event whose id is already in the log (the same change appended again after a crash or a
 * retry) keeps its first seq and is not stored twice.
 */
import { appContext } from '../../src/context.js';
import { isDuplicateKey } from '../../src/errors.js';
import type { DomainEvent, EventDraft } from '../../src/events/types.js';
import { logger } from '../../src/logger.js';
import { findEventsByIds, insertEvents, readHead, recordHead, toDomainEvent, type StoredEvent } from '../../src/models/event.js';
import type { TenantState } from './state.js';

const HEAD_HINT_EVERY_MS = 1000;

/** Redis channel on which a tenant's committed events are published, as a JSON array per append. */
export const eventChannel = (tenantId: string) => `events:${tenantId}`;

/** Append these events, in order. */
export interface AppendEventsMessage {
  events: EventDraft[];
}

/** The seq of each event of the message, in the message's order. */
export interface AppendEventsReply {
  seqs: number[];
}

const toStored = (tenantId: string, d: EventDraft, seq: number, at: Date): StoredEvent => ({
  _id: d.id,
  tenant_id: tenantId,
  seq,
  event: d.event,
  data: d.data,
  audience: d.audience,
  created_at: at,
});

async function appendEvents(tenantId: string, msg: AppendEventsMessage, state: TenantState): Promise<AppendEventsReply> {
  const byId = new Map(msg.events.map((d) => [d.id, d]));
  const appended = await appendToLog(tenantId, [...byId.values()], state);
  // A hint for readers that start cold, moved at most once a second (they find the rest by point
  // lookups); the log itself is the truth, so it is not waited for.
  if (state.head !== null && Date.now() - state.headRecordedAt >= HEAD_HINT_EVERY_MS) {
    state.headRecordedAt = Date.now();
    recordHead(tenantId, state.head).catch((err: unknown) => logger.warn({ err, tenantId }, 'moving the event head hint failed'));
  }
  try {
    await appContext().redis.publish(eventChannel(tenantId), JSON.stringify(appended));
  } catch (err) {
    // Durable already; gateways fill the gap from the log when the next event arrives.
    logger.error({ err, tenantId }, 'publishing events failed');
  }
  const seqOf = new Map(appended.map((e) => [e.id, e.seq]));
  return { seqs: msg.events.map((d) => seqOf.get(d.id) ?? 0) };
}

/** The fast path: the next seqs after the head this actor knows, in one insert. */
async function appendToLog(tenantId: string, drafts: EventDraft[], state: TenantState): Promise<DomainEvent[]> {
  const head = state.head ?? (await readHead(tenantId));
  const at = new Date();
  const docs = drafts.map((d, i) => toStored(tenantId, d, head + i + 1, at));
  try {
    await insertEvents(docs);
    state.head = head + docs.length;
    return docs.map(toDomainEvent);
  } catch (err) {
    state.head = null;
    if (!isDuplicateKey(err)) throw err;
  }
  return appendMissing(tenantId, drafts, state);
}

/**
 * The slow path after a duplicate key: some of the events were appended before (a change
 * appended again), or another writer moved the head (a previous owner of this actor). One at
 * a time, each either found by id or given the next free seq.
 */
async function appendMissing(tenantId: string, drafts: EventDraft[], state: TenantState): Promise<DomainEvent[]> {
  const found = new Map((await findEventsByIds(tenantId, drafts.map((d) => d.id))).map((e) => [e.id, e]));
  let head = await readHead(tenantId);
  const out: DomainEvent[] = [];
  for (const d of drafts) {
    let event = found.get(d.id);
    while (!event) {
      const doc = toStored(tenantId, d, head + 1, new Date());
      try {
        await insertEvents([doc]);
        head = doc.seq;
        event = toDomainEvent(doc);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        [event] = await findEventsByIds(tenantId, [d.id]);
        if (!event) head = await readHead(tenantId);
      }
    }
    out.push(event);
  }
  state.head = Math.max(head, ...out.map((e) => e.seq));
  return out.sort((a, b) => a.seq - b.seq);
}

/** The event message types of the tenant actor. */
export const eventHandlers = {
  'events.append': appendEvents,
};
