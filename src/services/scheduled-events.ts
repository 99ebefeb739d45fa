/**
 * The events of a scheduled message's final status: `scheduled_message.sent`, `.failed` and
 * `.cancelled`, with the scheduled message as the API shows it, to those who may see its
 * conversation. A status becomes final once (the claim's or the cancel's compare-and-set), and
 * its event's id derives from that (scheduled message, status), so emitting it again after a
 * retry or a crash stores nothing new and no socket receives it twice. The event is written in
 * the same single-document write as the status (`outbox`, like a conversation's), appended after,
 * and marked appended; the sweeper appends outboxes that a process died holding.
 */
import { audienceOf } from '../events/audience.js';
import { draftEvent, emitEvents } from '../events/publish.js';
import { EVENTS, type EventDraft, type EventType } from '../events/types.js';
import { logger } from '../logger.js';
import { conversations } from '../models/conversation.js';
import { markOutboxAppended, staleOutboxes, type ScheduledMessage } from '../models/scheduled-message.js';
import { findTenant } from '../models/tenant.js';
import { presentScheduledMessage } from '../presenters/scheduled-message.js';

const EVENT_OF: Partial<Record<ScheduledMessage['status'], EventType>> = {
  sent: EVENTS.scheduledMessageSent,
  failed: EVENTS.scheduledMessageFailed,
  cancelled: EVENTS.scheduledMessageCancelled,
};

/** The event of `after`'s final status, to its conversation's audience as it is now. */
export async function scheduledStatusEvent(after: ScheduledMessage): Promise<EventDraft> {
  const event = EVENT_OF[after.status];
  if (!event) throw new Error(`scheduled message ${after._id} is ${after.status}, not a final status`);
  const [conversation, tenant] = await Promise.all([conversations.findOwned(after.tenant_id, after.conversation_id), findTenant(after.tenant_id)]);
  const data = presentScheduledMessage({ scheduled: after, timeZone: tenant?.timezone ?? after.time_zone });
  return draftEvent(after.tenant_id, `scheduled-message:${after._id}:${after.status}`, event, data, audienceOf(conversation));
}

/**
 * Appends an outbox written at `at` and marks it appended. A failure is logged and left to the
 * sweeper: the status is already durable, and its event follows within a claim lease.
 */
export async function appendOutbox(s: Pick<ScheduledMessage, '_id' | 'tenant_id'>, outbox: EventDraft[], at: Date): Promise<void> {
  try {
    await emitEvents(s.tenant_id, outbox);
    await markOutboxAppended(s._id, at);
  } catch (err) {
    logger.warn({ err, scheduledMessage: s._id }, 'scheduled message event not appended; the sweeper appends it');
  }
}

/** Appends outboxes written before `cutoff` and never marked appended (their process died); answers how many. */
export async function appendStaleOutboxes(cutoff: Date, limit: number): Promise<number> {
  const stale = await staleOutboxes(cutoff, limit);
  await Promise.all(stale.map((s) => appendOutbox(s, s.outbox ?? [], s.outbox_at as Date)));
  return stale.length;
}
