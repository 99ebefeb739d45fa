/**
 * Scheduled messages: a message an agent wrote now to go out at `send_at`. `_id` =
 * naturalId('scheduled-message', tenant, idempotency key), so a retried schedule request is an
 * `_id` claim (invariant 10), and the same `_id` is the send's idempotency key when it fires, so
 * however often and wherever the sweeper fires it, the shared send path stores and sends one
 * message. The sweeper finds due ones with an indexed query and takes each by an `_id`
 * compare-and-set (scheduled -> sending, with a claim token and time), never by "find the next
 * one and lock it" over the collection (ARCHITECTURE, "Storage engine facts").
 */
import { model, Schema } from 'mongoose';
import type { EventDraft } from '../events/types.js';
import type { OutgoingContent } from '../services/outbound.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** Where a scheduled message is: waiting, being sent, done, or taken back. */
export const SCHEDULED_STATUSES = ['scheduled', 'sending', 'sent', 'failed', 'cancelled'] as const;

/** One scheduled message status. */
export type ScheduledStatus = (typeof SCHEDULED_STATUSES)[number];

/** Why a scheduled message failed: our refusal (outside the window...) or the provider's error. */
export interface ScheduledFailure {
  code: string;
  message: string;
}

/** A stored scheduled message. */
export interface ScheduledMessage extends TenantDoc {
  conversation_id: string;
  /** The agent who scheduled it; the message goes out as theirs. */
  created_by: string;
  idempotency_key: string;
  /** What to send, in the send path's terms. */
  content: OutgoingContent;
  reply_to_message_id: string | null;
  /** The instant it is due (UTC). */
  send_at: Date;
  /** The tenant's time zone when it was scheduled: the local rendering of send_at uses it. */
  time_zone: string;
  status: ScheduledStatus;
  /** The current claim (status sending): who took it and when; a claim older than the lease is taken over. */
  claim_token: string | null;
  claimed_at: Date | null;
  /** The server process (its actor-system id) that holds the claim. */
  claimed_by: string | null;
  /** How many claims tried to send it (a failure that is not a refusal is retried a few times). */
  attempts: number;
  /** The outbound message once one was stored for it. */
  message_id: string | null;
  failure: ScheduledFailure | null;
  /** When it reached sent or failed. */
  finished_at: Date | null;
  cancelled_at: Date | null;
  cancelled_by: string | null;
  /** The event of its final status (sent, failed, cancelled), written with that status (src/services/scheduled-events.ts). */
  outbox?: EventDraft[];
  /** When the outbox was written, until it is in the event log: the sweeper appends outboxes left this way by a process that died. */
  outbox_at?: Date | null;
}

const schema = baseSchema<ScheduledMessage>(
  {
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    created_by: { type: String, required: true },
    idempotency_key: { type: String, required: true },
    content: { type: Schema.Types.Mixed, required: true },
    reply_to_message_id: { type: String, default: null },
    send_at: { type: Date, required: true },
    time_zone: { type: String, required: true },
    status: { type: String, required: true, enum: [...SCHEDULED_STATUSES] },
    claim_token: { type: String, default: null },
    claimed_at: { type: Date, default: null },
    claimed_by: { type: String, default: null },
    attempts: { type: Number, default: 0 },
    message_id: { type: String, default: null },
    failure: { type: Schema.Types.Mixed, default: null },
    finished_at: { type: Date, default: null },
    cancelled_at: { type: Date, default: null },
    cancelled_by: { type: String, default: null },
    outbox: { type: [Schema.Types.Mixed], default: [] },
    outbox_at: { type: Date, default: null },
  },
  'scheduled_messages',
);
// Serves the sweeper's due query: status scheduled, send_at up to now, earliest first.
schema.index({ status: 1, send_at: 1 });
// Serves the sweeper's stale-claim query: status sending, claimed before the lease.
schema.index({ status: 1, claimed_at: 1 });
// Serves the sweeper's query for outboxes a dead process wrote but never appended.
schema.index({ outbox_at: 1 });
// Serves a conversation's list, in send_at order.
schema.index({ tenant_id: 1, conversation_id: 1, send_at: 1, _id: 1 });

/** The scheduled_messages collection. */
export const ScheduledMessageModel = model<ScheduledMessage>('ScheduledMessage', schema);

/** Tenant-scoped access to scheduled messages. */
export const scheduledMessages = tenantRepo(ScheduledMessageModel, 'Scheduled message');

/** Up to `limit` ids of scheduled messages due at `now`, earliest first (any tenant). */
export async function dueScheduledIds(now: Date, limit: number): Promise<{ _id: string; status: ScheduledStatus; claimed_at: Date | null }[]> {
  return ScheduledMessageModel.find({ status: 'scheduled', send_at: { $lte: now } }, { _id: 1, status: 1, claimed_at: 1 })
    .sort({ send_at: 1 })
    .limit(limit)
    .lean<{ _id: string; status: ScheduledStatus; claimed_at: Date | null }[]>()
    .exec();
}

/** Up to `limit` ids of scheduled messages whose claim was taken before `cutoff` (its claimer died or stalled). */
export async function staleClaimIds(cutoff: Date, limit: number): Promise<{ _id: string; status: ScheduledStatus; claimed_at: Date | null }[]> {
  return ScheduledMessageModel.find({ status: 'sending', claimed_at: { $lte: cutoff } }, { _id: 1, status: 1, claimed_at: 1 })
    .sort({ claimed_at: 1 })
    .limit(limit)
    .lean<{ _id: string; status: ScheduledStatus; claimed_at: Date | null }[]>()
    .exec();
}

/**
 * Takes one scheduled message for sending if it is still as the sweeper read it (scheduled, or
 * sending with the same stale claim time): an `_id` compare-and-set with exactly one winner.
 * Answers the claimed document, or null when another claimer won.
 */
export async function claimScheduled(
  id: string,
  seen: { status: ScheduledStatus; claimed_at: Date | null },
  claim: { token: string; at: Date; by: string },
): Promise<ScheduledMessage | null> {
  const filter = seen.status === 'scheduled' ? { _id: id, status: 'scheduled' } : { _id: id, status: 'sending', claimed_at: seen.claimed_at };
  return (await collectionOf(ScheduledMessageModel).findOneAndUpdate(
    filter,
    { $set: { status: 'sending', claim_token: claim.token, claimed_at: claim.at, claimed_by: claim.by, updated_at: claim.at }, $inc: { attempts: 1 } },
    { returnDocument: 'after' },
  )) as ScheduledMessage | null;
}

/** Sets fields of a scheduled message only while the claim `token` still holds it; false when it moved on. */
export async function settleClaim(id: string, token: string, set: Partial<ScheduledMessage>): Promise<boolean> {
  const res = await collectionOf(ScheduledMessageModel).updateOne({ _id: id, status: 'sending', claim_token: token }, { $set: { updated_at: new Date(), ...set } });
  return res.matchedCount === 1;
}

/**
 * Cancels a scheduled message that has not been claimed, writing `outbox` (its event) with it;
 * answers it as stored after, or null when it was no longer scheduled.
 */
export async function cancelScheduled(id: string, by: string, at: Date, outbox: EventDraft[]): Promise<ScheduledMessage | null> {
  return (await collectionOf(ScheduledMessageModel).findOneAndUpdate(
    { _id: id, status: 'scheduled' },
    { $set: { status: 'cancelled', cancelled_at: at, cancelled_by: by, updated_at: at, outbox, outbox_at: at } },
    { returnDocument: 'after' },
  )) as ScheduledMessage | null;
}

/** Up to `limit` scheduled messages whose outbox was written before `cutoff` and is not known to be in the log (any tenant). */
export async function staleOutboxes(cutoff: Date, limit: number): Promise<ScheduledMessage[]> {
  return ScheduledMessageModel.find({ outbox_at: { $lte: cutoff } }).sort({ outbox_at: 1 }).limit(limit).lean<ScheduledMessage[]>().exec();
}

/** Marks the outbox written at `at` as appended (a newer outbox, written meanwhile, stays pending). */
export async function markOutboxAppended(id: string, at: Date): Promise<void> {
  await collectionOf(ScheduledMessageModel).updateOne({ _id: id, outbox_at: at }, { $set: { outbox_at: null } });
}
