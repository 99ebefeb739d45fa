/**
 * Tenant-actor handler that appends one domain event: the next seq, stored, then published.
 * Running only here makes the tenant's seq gap-free and increasing (ARCHITECTURE invariant 5):
 * an event is published after it is durable, so "every event after seq N" read from the log
 * is always complete.
 */
import { appContext } from '../../src/context.js';
import { isDuplicateKey } from '../../src/errors.js';
import type { Audience, DomainEvent, EventType } from '../../src/events/types.js';
import { EventHeadModel, EventModel, eventId, headId, readHead } from '../../src/models/event.js';

/** Redis channel on which a tenant's committed events are published. */
export const eventChannel = (tenantId: string) => `events:${tenantId}`;

/** Append one event. */
export interface AppendEventMessage {
  event: EventType;
  data: unknown;
  audience: Audience;
}

// The last seq this process appended per tenant, valid while it hosts the tenant's actor. It
// can only be behind the log (another process appended while it held the lease), never ahead;
// the duplicate key on insert then sends us to the stored head.
const lastSeq = new Map<string, number>();

async function appendEvent(tenantId: string, msg: AppendEventMessage): Promise<{ seq: number }> {
  let seq = (lastSeq.get(tenantId) ?? (await readHead(tenantId))) + 1;
  const created_at = new Date();
  for (;;) {
    try {
      await EventModel.create({ _id: eventId(tenantId, seq), tenant_id: tenantId, seq, event: msg.event, data: msg.data, audience: msg.audience, created_at });
      break;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // A head left behind by a crash (or by this cache) is at most a few events short.
      seq = Math.max(seq + 1, (await readHead(tenantId)) + 1);
    }
  }
  lastSeq.set(tenantId, seq);
  // The head is a hint for readers (the log itself is the truth, read by `_id` until a gap),
  // so it is not awaited on the hot path; `$max` keeps it from moving backwards.
  void EventHeadModel.updateOne({ _id: headId(tenantId) }, { $max: { seq }, $setOnInsert: { tenant_id: tenantId } }, { upsert: true })
    .exec()
    .catch(() => undefined);
  const event: DomainEvent = { event: msg.event, seq, tenant_id: tenantId, data: msg.data, audience: msg.audience, created_at: created_at.toISOString() };
  await appContext().redis.publish(eventChannel(tenantId), JSON.stringify(event));
  return { seq };
}

/** The event message types of the tenant actor. */
export const eventHandlers = {
  'events.append': appendEvent,
};
