/**
 * Each conversation's SLA clock and the breaches it recorded.
 *
 * A record, `_id` = naturalId('sla-record', tenant, conversation), is written by the SLA
 * listener (src/events/listeners/sla.ts, one process per tenant at a time, in seq order) and by
 * the sweeper (services/sla-sweep.ts) when it marks a breach; both write through `version`
 * (compare-and-set, reload and retry), so neither overwrites the other's change.
 *
 * A breach, `_id` = naturalId('sla-breach', tenant, conversation, policy, target), is inserted
 * once: the exactly-once claim (invariant 10) that two sweepers, or a sweeper and a late reply,
 * race for; the winner emits `sla.breached`.
 */
import { model, Schema } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf, findDocById, insertClaim, insertClaims } from './driver.js';
import { tenantRepo } from './repo.js';

/** The two clocks a policy sets. */
export const SLA_TARGETS = ['first_response', 'resolution'] as const;

/** One of the two clocks. */
export type SlaTarget = (typeof SLA_TARGETS)[number];

/** One clock of a record: its target, when it is due, and how it ended. */
export interface SlaClock {
  target_minutes: number;
  /** null while paused, or when the schedule never reaches the target. */
  due_at: Date | null;
  met_at: Date | null;
  breached_at: Date | null;
}

/** Where a record's clocks stand. */
export type SlaRecordState = 'running' | 'paused' | 'stopped';

/** A paused stretch; `to` is null while the conversation is still pending. */
export interface SlaPause {
  from: Date;
  to: Date | null;
}

/** A stored SLA record (one per conversation that a policy ever matched). */
export interface SlaRecord extends TenantDoc {
  conversation_id: string;
  /** The policy in force; null when none matches any more (the clocks it set are dropped). */
  policy_id: string | null;
  policy_name: string | null;
  business_hours_only: boolean;
  /** The conversation's division as last seen: whose working hours count. */
  division_id: string | null;
  /** When the clocks started: the conversation's creation. */
  started_at: Date;
  /** running: clocks tick; paused: the conversation is pending; stopped: resolved, closed or expired. */
  state: SlaRecordState;
  pauses: SlaPause[];
  first_response: SlaClock | null;
  resolution: SlaClock | null;
  /** The earliest due time of a clock neither met nor breached, while running: what the sweeper looks for. */
  next_due_at: Date | null;
  /** The last event the listener applied (replays after a crash are skipped). */
  last_seq: number;
  version: number;
}

const clockSchema = new Schema<SlaClock>(
  {
    target_minutes: { type: Number, required: true },
    due_at: { type: Date, default: null },
    met_at: { type: Date, default: null },
    breached_at: { type: Date, default: null },
  },
  { _id: false },
);

const schema = baseSchema<SlaRecord>(
  {
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    policy_id: { type: String, default: null },
    policy_name: { type: String, default: null },
    business_hours_only: { type: Boolean, required: true },
    division_id: { type: String, default: null },
    started_at: { type: Date, required: true },
    state: { type: String, required: true, enum: ['running', 'paused', 'stopped'] },
    pauses: { type: [new Schema<SlaPause>({ from: Date, to: Date }, { _id: false })], default: [] },
    first_response: { type: clockSchema, default: null },
    resolution: { type: clockSchema, default: null },
    next_due_at: { type: Date, default: null },
    last_seq: { type: Number, required: true },
    version: { type: Number, required: true },
  },
  'sla_records',
);
// Serves the sweeper: running records whose earliest open clock is due, soonest first (any
// tenant), paged by (next_due_at, _id).
schema.index({ state: 1, next_due_at: 1, _id: 1 });
// Serves "does this tenant have any SLA record" (the listener's skip for tenants without SLA).
schema.index({ tenant_id: 1 });
// Serves analytics: a tenant's records started (conversations opened) in a range.
schema.index({ tenant_id: 1, started_at: 1 });

/** The sla_records collection. */
export const SlaRecordModel = model<SlaRecord>('SlaRecord', schema);

/** Tenant-scoped access to SLA records. */
export const slaRecords = tenantRepo(SlaRecordModel, 'SLA record');

/** A record by id, any tenant (the sweeper and the listener address records by id alone). */
export const findSlaRecord = (id: string) => findDocById<SlaRecord>(SlaRecordModel as never, id);

/** Inserts a new record (version 1); false when one with this id exists. */
export const insertSlaRecord = (doc: Omit<SlaRecord, 'created_at' | 'updated_at'>) => insertClaim(SlaRecordModel, doc);

/** A compare-and-set write of a record: its fields, if it still has `version`. */
export interface SlaRecordWrite {
  id: string;
  version: number;
  set: Partial<SlaRecord>;
}

const casUpdate = (w: SlaRecordWrite) => ({ filter: { _id: w.id, version: w.version }, update: { $set: { ...w.set, version: w.version + 1, updated_at: new Date() } } });

/** Replaces a record's fields if it still has `version`; false when another writer got there first. */
export async function writeSlaRecord(id: string, version: number, set: Partial<SlaRecord>): Promise<boolean> {
  const { filter, update } = casUpdate({ id, version, set });
  const res = await collectionOf(SlaRecordModel).updateOne(filter, update);
  return res.matchedCount === 1;
}

/** Many compare-and-set writes in one command; answers how many landed (the others' records had moved on). */
export async function writeSlaRecords(writes: SlaRecordWrite[]): Promise<number> {
  if (writes.length === 0) return 0;
  const res = await collectionOf(SlaRecordModel).bulkWrite(writes.map((w) => ({ updateOne: casUpdate(w) })), { ordered: false });
  return res.matchedCount;
}

/** Where a page of the sweeper's query ended: the last record it answered. */
export type DueCursor = Pick<SlaRecord, '_id' | 'next_due_at'>;

/** The sweeper's order: soonest due first, ties by `_id` (its index's order, so pages never skip or repeat). */
export const DUE_SLA_SORT = { next_due_at: 1, _id: 1 } as const;

/** The sweeper's filter: running records due by `now`, after `after` in DUE_SLA_SORT (null: from the start). */
export function dueSlaFilter(now: Date, after: DueCursor | null) {
  const running: SlaRecordState = 'running';
  const from = after?.next_due_at ?? null;
  if (!after || !from) return { state: running, next_due_at: { $lte: now } };
  return { state: running, next_due_at: { $gte: from, $lte: now }, $or: [{ next_due_at: { $gt: from } }, { _id: { $gt: after._id } }] };
}

/** Up to `limit` running records due by `now`, any tenant, after `after` (the sweeper's query, one page). */
export const dueSlaRecords = (now: Date, limit: number, after: DueCursor | null = null): Promise<SlaRecord[]> =>
  SlaRecordModel.find(dueSlaFilter(now, after)).sort(DUE_SLA_SORT).limit(limit).lean<SlaRecord[]>().exec();

/** True when the tenant has at least one SLA record. */
export async function hasSlaRecords(tenantId: string): Promise<boolean> {
  return (await SlaRecordModel.exists({ tenant_id: tenantId }).exec()) !== null;
}

/** A recorded breach: one per conversation, policy and target. */
export interface SlaBreach extends TenantDoc {
  policy_id: string;
  conversation_id: string;
  target: SlaTarget;
  target_minutes: number;
  due_at: Date;
  /** When it was recorded: by the sweeper after due_at, or at a late reply or resolution. */
  breached_at: Date;
}

const breachSchema = baseSchema<SlaBreach>(
  {
    tenant_id: { type: String, required: true },
    policy_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    target: { type: String, required: true, enum: SLA_TARGETS },
    target_minutes: { type: Number, required: true },
    due_at: { type: Date, required: true },
    breached_at: { type: Date, required: true },
  },
  'sla_breaches',
);
// Serves a policy's breach list, newest first.
breachSchema.index({ tenant_id: 1, policy_id: 1, breached_at: -1, _id: -1 });

/** The sla_breaches collection. */
export const SlaBreachModel = model<SlaBreach>('SlaBreach', breachSchema);

/** Tenant-scoped access to breaches. */
export const slaBreaches = tenantRepo(SlaBreachModel, 'SLA breach');

/** Claims breaches by their natural ids in one insert; per breach, false when it was recorded already. */
export const claimSlaBreaches = (docs: Omit<SlaBreach, 'created_at' | 'updated_at'>[]) => insertClaims(SlaBreachModel, docs);

/** Met and breached clocks of a tenant's records started in a range (analytics), by one indexed, bounded aggregation. */
export async function slaOutcomes(tenantId: string, from: Date, to: Date, filter: { division_id?: string }): Promise<Record<'first_response' | 'resolution', { met: number; breached: number }>> {
  const clock = (name: string) => ({
    met: { $sum: { $cond: [{ $ne: [{ $ifNull: [`$${name}.met_at`, null] }, null] }, 1, 0] } },
    breached: { $sum: { $cond: [{ $ne: [{ $ifNull: [`$${name}.breached_at`, null] }, null] }, 1, 0] } },
  });
  const fr = clock('first_response');
  const rs = clock('resolution');
  const [row] = await SlaRecordModel.aggregate<Record<'fr_met' | 'fr_breached' | 'rs_met' | 'rs_breached', number>>([
    { $match: { tenant_id: tenantId, started_at: { $gte: from, $lt: to }, ...filter } },
    { $group: { _id: null, fr_met: fr.met, fr_breached: fr.breached, rs_met: rs.met, rs_breached: rs.breached } },
  ]).exec();
  return {
    first_response: { met: row?.fr_met ?? 0, breached: row?.fr_breached ?? 0 },
    resolution: { met: row?.rs_met ?? 0, breached: row?.rs_breached ?? 0 },
  };
}
