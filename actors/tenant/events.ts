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

async function appendEvent(tenantId: string, msg: AppendEventMessage): Promise<{ seq: number }> {
  let seq = (await readHead(tenantId)) + 1;
  const created_at = new Date();
  // A crash between the insert and the head update leaves the head one behind; the duplicate
  // key then moves us past the events already stored.
  for (;;) {
    try {
      await EventModel.create({ _id: eventId(tenantId, seq), tenant_id: tenantId, seq, event: msg.event, data: msg.data, audience: msg.audience, created_at });
      break;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      seq++;
    }
  }
  await EventHeadModel.replaceOne({ _id: headId(tenantId) }, { _id: headId(tenantId), tenant_id: tenantId, seq }, { upsert: true }).exec();
  const event: DomainEvent = { event: msg.event, seq, tenant_id: tenantId, data: msg.data, audience: msg.audience, created_at: created_at.toISOString() };
  await appContext().redis.publish(eventChannel(tenantId), JSON.stringify(event));
  return { seq };
}

/** The event message types of the tenant actor. */
export const eventHandlers = {
  'events.append': appendEvent,
};
