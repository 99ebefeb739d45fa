/**
 * Raw webhook deliveries, stored before they are acknowledged (ARCHITECTURE invariant 6).
 * `_id` is the SHA-256 of channel and raw body, so Meta's retry of the same payload is stored
 * once; a retry of one that named accounts nobody had connected yet is taken up again
 * (`waiting_for`). Processing marks them done; a recovery pass takes up any still pending at
 * `next_attempt_at` (a crash, or a failed try waiting for its backoff).
 *
 * A body larger than RAW_INLINE_MAX_BYTES is kept in media storage (`raw_storage`) instead of
 * `raw`: a MongoDB document holds at most 16 MB, and WEBHOOK_BODY_LIMIT_KB admits e-mails of 25.
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { collectionOf, insertClaim } from './driver.js';

/** Where a delivery is in its life. */
export type WebhookEventStatus = 'pending' | 'processed' | 'ignored' | 'failed';

/** Whose secret verified a delivery: the platform's (speaks for every account) or these tenants' own. */
export interface SignedBy {
  platform: boolean;
  tenants: string[];
}

/** Where a body too large for its document is kept. */
export interface RawStorage {
  driver: 'local' | 's3';
  key: string;
}

/** Bodies up to this size live in the document itself. */
export const RAW_INLINE_MAX_BYTES = 4 * 1024 * 1024;

/** A stored webhook delivery. */
export interface WebhookEvent {
  _id: string;
  channel: ChannelName;
  /** The body exactly as received; null when it is kept in `raw_storage`. */
  raw: Buffer | null;
  raw_storage: RawStorage | null;
  content_type: string | null;
  /** Which secrets verified the body: each event is processed only for an account they speak for. */
  signed_by: SignedBy;
  /** Accounts the body named that nobody had connected when it was processed: a retry takes it up again. */
  waiting_for: string[];
  /** Set once the receiving account is known. */
  tenant_id: string | null;
  status: WebhookEventStatus;
  attempts: number;
  /** When the recovery pass may take it up if it is still pending. */
  next_attempt_at: Date;
  /** Why it was ignored or failed. */
  note: string | null;
  received_at: Date;
  processed_at: Date | null;
}

const schema = new Schema<WebhookEvent>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    raw: { type: Buffer, default: null },
    raw_storage: { type: Schema.Types.Mixed, default: null },
    content_type: { type: String, default: null },
    // Absent (a delivery stored before signers were recorded) speaks for nobody.
    signed_by: { type: Schema.Types.Mixed, default: () => ({ platform: false, tenants: [] }) },
    waiting_for: { type: [String], default: [] },
    tenant_id: { type: String, default: null },
    status: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    next_attempt_at: { type: Date, required: true },
    note: { type: String, default: null },
    received_at: { type: Date, required: true },
    processed_at: { type: Date, default: null },
  },
  { collection: 'webhook_events', versionKey: false },
);
// Serves the recovery pass: pending deliveries due for another try, oldest first.
schema.index({ status: 1, next_attempt_at: 1 });

/** The webhook_events collection. */
export const WebhookEventModel = model<WebhookEvent>('WebhookEvent', schema);

/** Stores a delivery; false when the same channel and body were stored before (a provider retry). */
export const insertWebhookEvent = (doc: WebhookEvent): Promise<boolean> => insertClaim(WebhookEventModel, doc);

/** The stored delivery, or null. */
export const findWebhookEvent = (id: string) => WebhookEventModel.findById(id).lean<WebhookEvent>().exec();

/** The stored delivery without its body, or null. */
export const findWebhookEventState = (id: string) => WebhookEventModel.findById(id, { raw: 0 }).lean<Omit<WebhookEvent, 'raw'>>().exec();

/**
 * Takes up again a finished delivery that was waiting for accounts to be connected, with the
 * signers of the retry that brought it back; only if nothing changed it since it was read (a
 * finished delivery is written by nothing else), so of retries arriving together one wins.
 */
export async function reopenWebhookEvent(e: Pick<WebhookEvent, '_id' | 'status' | 'attempts'>, signedBy: SignedBy, nextAttemptAt: Date): Promise<boolean> {
  const res = await WebhookEventModel.updateOne(
    { _id: e._id, status: e.status, attempts: e.attempts },
    { $set: { status: 'pending', signed_by: signedBy, next_attempt_at: nextAttemptAt, note: null } },
  ).exec();
  return res.matchedCount === 1;
}

/** Up to `limit` pending deliveries due for another try at `now`, oldest due first. */
export const dueWebhookEvents = (now: Date, limit: number) =>
  WebhookEventModel.find({ status: 'pending', next_attempt_at: { $lte: now } }).sort({ next_attempt_at: 1 }).limit(limit).lean<WebhookEvent[]>().exec();

/** The outcome of one try of a delivery. */
export interface WebhookAttempt {
  id: string;
  /** The attempt count the delivery was tried with. */
  attempts: number;
  set: Pick<WebhookEvent, 'status' | 'note' | 'tenant_id' | 'next_attempt_at' | 'processed_at' | 'waiting_for'>;
}

/**
 * Records outcomes of tries in one command, each only if its delivery is still pending at the
 * attempt count it was tried with: a second process (the worker and a recovery pass racing)
 * cannot count twice.
 */
export async function recordWebhookAttempts(outcomes: WebhookAttempt[]): Promise<void> {
  await collectionOf(WebhookEventModel).bulkWrite(
    outcomes.map((o) => ({ updateOne: { filter: { _id: o.id, status: 'pending', attempts: o.attempts }, update: { $set: { ...o.set, attempts: o.attempts + 1 } } } })),
    { ordered: false },
  );
}

/**
 * Takes a pending delivery for one try: moves `next_attempt_at` past the retry delay, only if no
 * other process did since it was read, so one recovery pass owns each try.
 */
export async function leaseWebhookEvent(e: WebhookEvent, until: Date): Promise<boolean> {
  const res = await WebhookEventModel.updateOne({ _id: e._id, status: 'pending', attempts: e.attempts, next_attempt_at: e.next_attempt_at }, { $set: { next_attempt_at: until } }).exec();
  return res.matchedCount === 1;
}

/** How many deliveries are stored, of one channel or (without one) of every channel. */
export const countWebhookEvents = (channel?: ChannelName) => WebhookEventModel.countDocuments(channel ? { channel } : {}).exec();
