/**
 * Each conversation's SLA clock, kept by the SLA listener (src/events/listeners/sla.ts) from
 * the conversation's events and marked by the sweeper (sla-sweep.ts) when a target passes.
 *
 * - Both clocks start when the conversation is created. First response is met by the first
 *   message an agent or an AI agent stores for sending (system messages, such as a CSAT survey
 *   link, do not count); resolution by the conversation becoming resolved or closed. An expired
 *   conversation stops its clocks without an outcome.
 * - While the conversation is `pending` (waiting on the customer) both clocks are paused: the
 *   paused stretch does not count, and due times move by it.
 * - With a business-hours policy only the tenant's working hours count, in its time zone, with
 *   the conversation's division override if it has one (services/business-time.ts).
 * - A reply or resolution after the due time is a breach recorded then, if the sweeper had not
 *   recorded it yet (the same `_id` claim: once either way).
 *
 * Idempotent: each record remembers the last event seq applied, so the listener's at-least-once
 * replays change nothing; writes are compare-and-set on `version` against the sweeper.
 *
 * Cheap where no SLA applies (this runs for every conversation event): the tenant's policies
 * come from a per-process cache (sla-policies.ts `tenantSla`), a tenant with no policy and no
 * record reads nothing more, and a new conversation no policy applies to reads no record.
 */
import { logger } from '../logger.js';
import type { Acting } from './agents.js';
import { findVisibleConversation } from './conversation-access.js';
import { naturalId } from '../ids.js';
import { findTenant } from '../models/tenant.js';
import { workingHours } from '../models/working-hours.js';
import {
  findSlaRecord,
  insertSlaRecord,
  SLA_TARGETS,
  writeSlaRecord,
  writeSlaRecords,
  type SlaClock,
  type SlaPause,
  type SlaRecord,
  type SlaRecordState,
  type SlaTarget,
} from '../models/sla-record.js';
import type { SlaPolicy } from '../models/sla-policy.js';
import type { ConversationStatus } from '../models/conversation.js';
import { addCountedMinutes, type BusinessSchedule, type Span } from './business-time.js';
import { choosePolicy, tenantSla } from './sla-policies.js';
import { recordBreach } from './sla-breach.js';
import { scheduleId } from './working-hours-defaults.js';

/** Pauses kept per conversation; past this many, a conversation's clock no longer pauses. */
export const MAX_PAUSES = 50;

// Compare-and-set attempts against the sweeper before a change is given up (and retried by the listener).
const WRITE_ATTEMPTS = 5;

/** The `_id` of a conversation's SLA record. */
export const slaRecordId = (tenantId: string, conversationId: string) => naturalId('sla-record', tenantId, conversationId);

/** A conversation as its events show it. */
export interface ConversationSnapshot {
  id: string;
  status: ConversationStatus;
  channel: string;
  division_id: string | null;
  tags: string[];
  created_at: Date;
  /** When this state was committed: the time of the change. */
  updated_at: Date;
}

const STOPPED: ReadonlySet<ConversationStatus> = new Set(['resolved', 'closed', 'expired']);

const settled = (c: SlaClock | null) => c !== null && (c.met_at !== null || c.breached_at !== null);

/** The working hours that count for a division (its override, else the global hours), in the tenant's zone. */
export async function scheduleFor(tenantId: string, divisionId: string | null): Promise<BusinessSchedule> {
  const [tenant, global, override] = await Promise.all([
    findTenant(tenantId),
    workingHours.findOwnedOrNull(tenantId, scheduleId(tenantId, null)),
    divisionId ? workingHours.findOwnedOrNull(tenantId, scheduleId(tenantId, divisionId)) : Promise.resolve(null),
  ]);
  return { zone: tenant?.timezone ?? 'UTC', entries: (override ?? global)?.entries ?? [], holidays: global?.holidays ?? [] };
}

const spansOf = (pauses: readonly SlaPause[]): Span[] =>
  pauses.map((p) => ({ start: new Date(p.from).getTime(), end: p.to ? new Date(p.to).getTime() : Number.POSITIVE_INFINITY }));

/** When a clock of `minutes` started at `start` is due, given the pauses; null while paused or never. */
const dueOf = (start: Date, minutes: number, schedule: BusinessSchedule | null, pauses: readonly SlaPause[]) => addCountedMinutes(start, minutes, schedule, spansOf(pauses));

/** The earliest due time of an unsettled clock, while running: what the sweeper looks for. */
export function nextDueOf(r: Pick<SlaRecord, 'state' | 'first_response' | 'resolution'>): Date | null {
  if (r.state !== 'running') return null;
  const dues = SLA_TARGETS.map((t) => r[t])
    .filter((c): c is SlaClock => c !== null && !settled(c) && c.due_at !== null)
    .map((c) => new Date(c.due_at as Date).getTime());
  return dues.length ? new Date(Math.min(...dues)) : null;
}

/** The fields a compare-and-set write of `next` sets (not its identity, creation or version). */
function changedFields(next: SlaRecord): Partial<SlaRecord> {
  const { _id, tenant_id, created_at, version, ...set } = next;
  void _id;
  void tenant_id;
  void created_at;
  void version;
  return set;
}

/** Writes `next` over `current` (or inserts it); false when another writer moved it first. */
async function save(current: SlaRecord | null, next: SlaRecord): Promise<boolean> {
  if (!current) return insertSlaRecord({ ...next, version: 1 });
  return writeSlaRecord(next._id, next.version, changedFields(next));
}

/**
 * Reloads record `id` and re-applies `change` until its write lands (the other writer may write
 * in between). `absent`: the record cannot exist yet, so the first try inserts without reading
 * (a record that does exist makes the insert fail, and the next try reads it).
 */
async function update(id: string, change: (current: SlaRecord | null) => Promise<SlaRecord | null>, absent = false): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = absent && attempt === 1 ? null : await findSlaRecord(id);
    const next = await change(current);
    if (!next || (await save(current, next))) return;
    if (attempt >= WRITE_ATTEMPTS) throw new Error(`SLA record ${id} kept changing under the listener`);
  }
}

/** Meets a clock at `at`, recording a breach first when `at` is past its due time and none is recorded yet. */
async function meet(r: SlaRecord, target: SlaTarget, at: Date): Promise<SlaClock | null> {
  const clock = r[target];
  if (!clock || clock.met_at) return clock;
  // Breached already: the reply or resolution is still worth knowing, late.
  if (clock.breached_at) return { ...clock, met_at: at };
  const late = clock.due_at !== null && at.getTime() > new Date(clock.due_at).getTime();
  const breach = late && r.policy_id ? await recordBreach(r, target, at) : null;
  return { ...clock, met_at: at, breached_at: breach ? breach.breached_at : null };
}

/** A clock for `minutes`, due from the record's start; a settled one is kept as it was judged. */
function clockFor(old: SlaClock | null, minutes: number | null, start: Date, schedule: BusinessSchedule | null, pauses: readonly SlaPause[]): SlaClock | null {
  if (old && settled(old)) return old;
  if (minutes === null) return null;
  return { target_minutes: minutes, due_at: dueOf(start, minutes, schedule, pauses), met_at: null, breached_at: null };
}

/** The record after a change of the conversation (event `seq`), or null when no policy ever applied. */
async function afterChange(tenantId: string, policies: readonly SlaPolicy[], r: SlaRecord | null, c: ConversationSnapshot, seq: number): Promise<SlaRecord | null> {
  if (r && r.last_seq >= seq) return null;
  const at = c.updated_at;
  const pauses = (r?.pauses ?? []).map((p) => ({ ...p }));
  const open = pauses.find((p) => p.to === null);
  if (c.status === 'pending' && !open && pauses.length < MAX_PAUSES) pauses.push({ from: at, to: null });
  if (c.status !== 'pending' && open) open.to = at;

  const fixed = r !== null && (settled(r.first_response) || settled(r.resolution));
  let policy: Pick<SlaPolicy, '_id' | 'name' | 'business_hours_only' | 'first_response_minutes' | 'resolution_minutes'> | null = null;
  if (fixed && r) {
    policy = { _id: r.policy_id ?? '', name: r.policy_name ?? '', business_hours_only: r.business_hours_only, first_response_minutes: r.first_response?.target_minutes ?? null, resolution_minutes: r.resolution?.target_minutes ?? null };
  } else if (!STOPPED.has(c.status) || r) {
    policy = choosePolicy(policies, c);
  }
  if (!r && !policy) return null;

  const start = r?.started_at ?? c.created_at;
  const schedule = policy?.business_hours_only ? await scheduleFor(tenantId, c.division_id) : null;
  const state: SlaRecordState = STOPPED.has(c.status) ? 'stopped' : c.status === 'pending' ? 'paused' : 'running';
  const samePolicy = r?.policy_id === (policy?._id ?? null);
  const next: SlaRecord = {
    _id: slaRecordId(tenantId, c.id),
    tenant_id: tenantId,
    conversation_id: c.id,
    policy_id: policy?._id ?? null,
    policy_name: policy?.name ?? null,
    business_hours_only: policy?.business_hours_only ?? false,
    division_id: c.division_id,
    started_at: start,
    state,
    pauses,
    first_response: clockFor(samePolicy ? (r?.first_response ?? null) : null, policy?.first_response_minutes ?? null, start, schedule, pauses),
    resolution: clockFor(samePolicy ? (r?.resolution ?? null) : null, policy?.resolution_minutes ?? null, start, schedule, pauses),
    next_due_at: null,
    last_seq: seq,
    version: r?.version ?? 1,
    created_at: r?.created_at ?? new Date(),
    updated_at: new Date(),
  };
  if (c.status === 'resolved' || c.status === 'closed') next.resolution = await meet(next, 'resolution', at);
  next.next_due_at = nextDueOf(next);
  return next;
}

/**
 * Applies a change of the conversation (updated, assigned, transferred, taken over; `created`
 * for its first event). The listener applies a tenant's events in seq order, so when a
 * conversation is created its record does not exist yet, unless this event was applied before
 * (a replay, which changes nothing): a new conversation no policy applies to has nothing to read.
 */
export async function applyConversationChange(tenantId: string, c: ConversationSnapshot, seq: number, created = false): Promise<void> {
  const sla = await tenantSla(tenantId);
  if (!sla.mayHaveRecords) return;
  if (created && !choosePolicy(sla.policies, c)) return;
  await update(slaRecordId(tenantId, c.id), (r) => afterChange(tenantId, sla.policies, r, c, seq), created);
}

/** Applies an agent's or AI agent's reply stored at `at`: the first one meets the first-response clock. */
export async function applyReply(tenantId: string, conversationId: string, at: Date, seq: number): Promise<void> {
  if (!(await tenantSla(tenantId)).mayHaveRecords) return;
  await update(slaRecordId(tenantId, conversationId), async (r) => {
    if (!r || r.last_seq >= seq || !r.first_response || r.first_response.met_at) return null;
    const next = { ...r, last_seq: seq };
    next.first_response = await meet(next, 'first_response', at);
    next.next_due_at = nextDueOf(next);
    return next;
  });
}

/** Breaches the sweeper recorded on one record (as it read it): the time of each target's. */
export interface BreachMarks {
  record: SlaRecord;
  marks: Partial<Record<SlaTarget, Date>>;
}

/** `r` with the breaches marked, or null when there is nothing to mark (another policy now, or the clock was met in time meanwhile). */
function withMarks(r: SlaRecord | null, policyId: string | null, marks: BreachMarks['marks']): SlaRecord | null {
  if (!r || r.policy_id !== policyId) return null;
  const next = { ...r };
  let changed = false;
  for (const target of SLA_TARGETS) {
    const clock = r[target];
    const at = marks[target];
    if (!at || !clock || clock.breached_at || (clock.met_at && clock.due_at && new Date(clock.met_at) <= new Date(clock.due_at))) continue;
    next[target] = { ...clock, breached_at: at };
    changed = true;
  }
  if (!changed) return null;
  next.next_due_at = nextDueOf(next);
  return next;
}

/**
 * Marks the breaches the sweeper recorded on their records: one compare-and-set write each, all
 * in one command. A record that changed since the sweeper read it (the listener applied a reply
 * meanwhile) is read again and marked on what it is now, unless its clock was met in time.
 */
export async function markBreaches(batch: readonly BreachMarks[]): Promise<void> {
  const writes = batch.flatMap(({ record, marks }) => {
    const next = withMarks(record, record.policy_id, marks);
    return next ? [{ id: record._id, version: record.version, set: changedFields(next) }] : [];
  });
  if ((await writeSlaRecords(writes)) === writes.length) return;
  // Which ones missed is not reported; the reads of the retries group into one, and a landed mark makes its retry a no-op.
  await Promise.all(
    batch.map(({ record, marks }) =>
      update(record._id, async (r) => withMarks(r, record.policy_id, marks)).catch((err: unknown) =>
        logger.warn({ err, recordId: record._id }, 'marking an SLA breach on its record failed; the next sweep marks it'),
      ),
    ),
  );
}

/** A conversation's SLA record, for a caller who may see the conversation (else 404). */
export async function getConversationSla(cmd: Acting & { conversationId: string }): Promise<SlaRecord | null> {
  const c = await findVisibleConversation(cmd.principal, cmd.conversationId);
  return findSlaRecord(slaRecordId(cmd.tenantId, c._id));
}
