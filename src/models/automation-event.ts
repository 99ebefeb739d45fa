/**
 * The automation queue: one item per domain event a rule may trigger on. `_id` derives from the
 * tenant and the event's seq (invariant 10), so the listener handling an event twice queues it
 * once, and a worker claims an item by a conditional update on that one `_id` (state pending ->
 * processing), never by "find the next one and lock it" over the collection (ARCHITECTURE,
 * "Storage engine facts"). `fingerprint` is the sha256 of the canonical payload: an identical
 * payload within the de-duplication window is stored `skipped` with `duplicate_of` the first.
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** Where an item stands. */
export const AUTOMATION_EVENT_STATES = ['pending', 'processing', 'done', 'failed', 'skipped'] as const;

/** An item's state. */
export type AutomationEventState = (typeof AUTOMATION_EVENT_STATES)[number];

/** Which rules' actions caused the event, and how long the chain is (0: not caused by a rule). */
export interface Causation {
  rule_ids: string[];
  depth: number;
}

/** A stored queue item. */
export interface AutomationEvent extends TenantDoc {
  conversation_id: string | null;
  /** The domain event's seq (per tenant, increasing). */
  event_seq: number;
  /** The domain event's id in the event log. */
  domain_event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  /** Hex sha256 of the canonical (key-sorted) JSON of event type and payload. */
  fingerprint: string;
  /** The earlier item with the same fingerprint within the window; null when this one is the first. */
  duplicate_of: string | null;
  state: AutomationEventState;
  attempts: number;
  last_error: string | null;
  /** Why the item was skipped (duplicate, chain depth, no rules); null otherwise. */
  skip_reason: string | null;
  /** A pending item is not claimed before this time (retry backoff); null: now. */
  next_attempt_at: Date | null;
  causation: Causation;
  /** The process name that claimed it last; null before any claim. */
  claimed_by: string | null;
  /** The rules evaluated on it (any pass), for "events of a rule". */
  evaluated_rule_ids: string[];
  /** How many times it was reprocessed with the current rules; part of its runs' natural ids. */
  reprocess_count: number;
  processed_at: Date | null;
}

const schema = baseSchema<AutomationEvent>(
  {
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, default: null },
    event_seq: { type: Number, required: true },
    domain_event_id: { type: String, required: true },
    event_type: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, required: true },
    fingerprint: { type: String, required: true },
    duplicate_of: { type: String, default: null },
    state: { type: String, required: true, enum: [...AUTOMATION_EVENT_STATES] },
    attempts: { type: Number, default: 0 },
    last_error: { type: String, default: null },
    skip_reason: { type: String, default: null },
    next_attempt_at: { type: Date, default: null },
    causation: { type: Schema.Types.Mixed, default: () => ({ rule_ids: [], depth: 0 }) },
    claimed_by: { type: String, default: null },
    evaluated_rule_ids: { type: [String], default: [] },
    reprocess_count: { type: Number, default: 0 },
    processed_at: { type: Date, default: null },
  },
  'automation_events',
);
// The events list by state (and the worker's pending scan of one tenant, oldest first).
schema.index({ tenant_id: 1, state: 1, created_at: 1, _id: 1 });
// The list without a state filter, newest first; and the cleanup / export range.
schema.index({ tenant_id: 1, created_at: -1, _id: -1 });
// A conversation's items in seq order (the worker's "is an earlier one unfinished?", the conversation's list).
schema.index({ tenant_id: 1, conversation_id: 1, event_seq: 1 });
// De-duplication within the window, and "events by fingerprint".
schema.index({ tenant_id: 1, fingerprint: 1, created_at: -1 });
// Events a rule was evaluated on.
schema.index({ tenant_id: 1, evaluated_rule_ids: 1, created_at: -1 });
// Worker metrics: a tenant's items finished in the last minutes (throughput, failure rate, per process).
schema.index({ tenant_id: 1, processed_at: -1 });
// Recovery of items left processing by a crashed process (every tenant).
schema.index({ state: 1, updated_at: 1 });

/** The automation_events collection. */
export const AutomationEventModel = model<AutomationEvent>('AutomationEvent', schema);

/** Tenant-scoped access to queue items. */
export const automationEvents = tenantRepo(AutomationEventModel, 'Automation event');

/** The item's `_id`: one per tenant and domain event seq. */
export const automationEventId = (tenantId: string, seq: number): string => naturalId('automation-event', tenantId, String(seq));

/**
 * Claims the item for `processName` if it is still in state `from` and due: sets it processing
 * and counts the attempt. The claimed item, or null when another process has it (or it is not due).
 */
export async function claimAutomationEvent(tenantId: string, id: string, processName: string, from: AutomationEventState = 'pending'): Promise<AutomationEvent | null> {
  const now = new Date();
  const doc = await collectionOf(AutomationEventModel).findOneAndUpdate(
    { _id: id, tenant_id: tenantId, state: from, $or: [{ next_attempt_at: null }, { next_attempt_at: { $lte: now } }] },
    { $set: { state: 'processing', claimed_by: processName, updated_at: now }, $inc: { attempts: 1 } },
    { returnDocument: 'after' },
  );
  return (doc as unknown as AutomationEvent | null) ?? null;
}

/** Sets fields on the item only while `processName` still holds it processing; false when it lost it. */
export async function settleAutomationEvent(tenantId: string, id: string, processName: string, set: Partial<AutomationEvent>): Promise<boolean> {
  const res = await collectionOf(AutomationEventModel).updateOne({ _id: id, tenant_id: tenantId, state: 'processing', claimed_by: processName }, { $set: { ...set, updated_at: new Date() } });
  return res.matchedCount === 1;
}

/** Sets fields on the item if it is in one of `from` (retry, reprocess); the item as stored or null. */
export async function moveAutomationEvent(tenantId: string, id: string, from: AutomationEventState[], set: Partial<AutomationEvent>, inc: Partial<Record<'reprocess_count' | 'attempts', number>> = {}): Promise<AutomationEvent | null> {
  const doc = await collectionOf(AutomationEventModel).findOneAndUpdate(
    { _id: id, tenant_id: tenantId, state: { $in: from } },
    { $set: { ...set, updated_at: new Date() }, ...(Object.keys(inc).length ? { $inc: inc } : {}) },
    { returnDocument: 'after' },
  );
  return (doc as unknown as AutomationEvent | null) ?? null;
}

/** Up to `limit` pending items of the tenant, oldest first (the worker then claims each by `_id`). */
export const pendingAutomationEvents = (tenantId: string, limit: number) =>
  AutomationEventModel.find({ tenant_id: tenantId, state: 'pending' }).sort({ created_at: 1, _id: 1 }).limit(limit).lean<AutomationEvent[]>().exec();

/** Items left processing since before `before` (a crashed or stalled process), any tenant. */
export const staleAutomationEvents = (before: Date, limit: number) =>
  AutomationEventModel.find({ state: 'processing', updated_at: { $lt: before } }).sort({ updated_at: 1 }).limit(limit).lean<AutomationEvent[]>().exec();

/** Tenants with pending items (the sweep's wake-up list; bounded by `limit`). */
export async function tenantsWithPendingAutomation(limit: number): Promise<string[]> {
  const ids = await AutomationEventModel.distinct('tenant_id', { state: 'pending' }).exec();
  return (ids as string[]).slice(0, limit);
}

/** The earliest unfinished (pending/processing/failed awaiting retry) item of a conversation before `seq`; null when none. */
export const earlierUnfinishedOfConversation = (tenantId: string, conversationId: string, seq: number) =>
  AutomationEventModel.findOne({ tenant_id: tenantId, conversation_id: conversationId, event_seq: { $lt: seq }, state: { $in: ['pending', 'processing'] } })
    .sort({ event_seq: 1 })
    .lean<AutomationEvent>()
    .exec();

/** The first item with this fingerprint created since `since`, other than `exceptId`; null when none. */
export const firstWithFingerprint = (tenantId: string, fingerprint: string, since: Date, exceptId: string) =>
  AutomationEventModel.findOne({ tenant_id: tenantId, fingerprint, created_at: { $gte: since }, _id: { $ne: exceptId } })
    .sort({ created_at: 1 })
    .lean<AutomationEvent>()
    .exec();
