/**
 * The automation queue as operators see it: lists of items (overall, of a conversation, of a
 * rule, of a payload fingerprint), one item, the CSV export, and the operations: retry one
 * failed item, retry every failed one, clean up old failed ones, reprocess an item with the
 * current rules. Retries hand the item back to the worker's own claim path (pending, due now,
 * attempts from zero so its backoff starts over) and wake the worker; nothing here evaluates rules.
 */
import type { Readable } from 'node:stream';
import { NotFoundError, StateError } from '../errors.js';
import { automationEvents, moveAutomationEvent, type AutomationEvent, type AutomationEventState } from '../models/automation-event.js';
import { deleteFailedEvents, eventCursor, requeueFailedEvents } from '../models/automation-reports.js';
import { findLiveRule, type AutomationRule } from '../models/automation-rule.js';
import type { AutomationRun } from '../models/automation-run.js';
import { conversations } from '../models/conversation.js';
import type { Page, Scoped, Sort } from '../models/repo.js';
import type { Acting } from './agents.js';
import { reprocessAutomationEvent, wakeAutomationWorker } from './automation-worker.js';
import { streamCsv } from './csv-export.js';

/** The tenant's live rule, or 404 (missing, deleted, another tenant's). */
export async function automationRuleOrNotFound(tenantId: string, id: string): Promise<AutomationRule> {
  const rule = await findLiveRule(tenantId, id);
  if (!rule) throw NotFoundError('Automation rule');
  return rule;
}

/** Filters every item list takes. */
export interface EventFilters {
  state?: AutomationEventState | undefined;
  eventType?: string | undefined;
  conversationId?: string | undefined;
  /** Only items evaluated by this rule. */
  ruleId?: string | undefined;
  fingerprint?: string | undefined;
  /** Only duplicates (true) or only originals (false). */
  duplicate?: boolean | undefined;
  /** Created at or after. */
  from?: Date | undefined;
  /** Created before. */
  to?: Date | undefined;
}

/** A page of items. */
export interface ListEvents extends Acting, EventFilters {
  page: number;
  limit: number;
}

const NEWEST_FIRST: Sort = { created_at: -1, _id: -1 };

/** The scoped filter of an item list; the leading fields are those of an index of automation_events. */
export function eventFilter(tenantId: string, f: EventFilters): Scoped {
  const filter: Scoped = { tenant_id: tenantId };
  if (f.state) filter.state = f.state;
  if (f.conversationId) filter.conversation_id = f.conversationId;
  if (f.ruleId) filter.evaluated_rule_ids = f.ruleId;
  if (f.fingerprint) filter.fingerprint = f.fingerprint;
  if (f.eventType) filter.event_type = f.eventType;
  if (f.duplicate !== undefined) filter.duplicate_of = f.duplicate ? { $ne: null } : null;
  if (f.from || f.to) filter.created_at = { ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lt: f.to } : {}) };
  return filter;
}

/** The tenant's items, newest first. */
export const listEvents = (q: ListEvents): Promise<Page<AutomationEvent>> => automationEvents.page(eventFilter(q.tenantId, q), NEWEST_FIRST, q.page, q.limit);

/** A conversation's items in seq order (the order they are evaluated in); 404 for another tenant's conversation. */
export async function listConversationEvents(q: ListEvents & { conversationId: string }): Promise<Page<AutomationEvent>> {
  await conversations.findOwned(q.tenantId, q.conversationId);
  return automationEvents.page(eventFilter(q.tenantId, q), { event_seq: 1 }, q.page, q.limit);
}

/** The items a rule was evaluated on, newest first; 404 for a missing or deleted rule. */
export async function listRuleEvents(q: ListEvents & { ruleId: string }): Promise<Page<AutomationEvent>> {
  await automationRuleOrNotFound(q.tenantId, q.ruleId);
  return listEvents(q);
}

/** One item. */
export const getEvent = (q: Acting & { id: string }): Promise<AutomationEvent> => automationEvents.findOwned(q.tenantId, q.id);

/** The columns of the events export. */
export const EVENT_CSV_COLUMNS = [
  'id',
  'created_at',
  'event_type',
  'event_seq',
  'conversation_id',
  'state',
  'attempts',
  'last_error',
  'skip_reason',
  'fingerprint',
  'duplicate_of',
  'causation_depth',
  'processed_at',
  'payload',
] as const;

/** Export items. */
export interface ExportEvents extends Acting, EventFilters {
  bom: boolean;
}

/** The matching items as CSV, newest first, streamed from a cursor (the payload as JSON in one cell). */
export function exportEvents(q: ExportEvents): Readable {
  return streamCsv(eventCursor(eventFilter(q.tenantId, q), NEWEST_FIRST), {
    columns: EVENT_CSV_COLUMNS,
    bom: q.bom,
    row: (e) => [
      e._id,
      e.created_at,
      e.event_type,
      e.event_seq,
      e.conversation_id,
      e.state,
      e.attempts,
      e.last_error,
      e.skip_reason,
      e.fingerprint,
      e.duplicate_of,
      e.causation?.depth ?? 0,
      e.processed_at,
      e.payload,
    ],
  });
}

/**
 * Retries one failed item: back to pending, due now, attempts from zero (the worker's backoff
 * starts over if it fails again), and the worker woken. 422 when the item is not failed.
 */
export async function retryEvent(q: Acting & { id: string }): Promise<AutomationEvent> {
  const current = await automationEvents.findOwned(q.tenantId, q.id);
  const moved = await moveAutomationEvent(q.tenantId, q.id, ['failed'], { state: 'pending', attempts: 0, next_attempt_at: null, claimed_by: null, processed_at: null });
  if (!moved) throw StateError(`Only a failed item can be retried; this one is ${current.state} (reprocess evaluates a finished item again)`);
  await wakeAutomationWorker(q.tenantId);
  return moved;
}

/** Retry every failed item. */
export interface RetryFailed extends Acting {
  eventType?: string | undefined;
  conversationId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** Retries every failed item matching the filters as retryEvent does; how many were requeued. */
export async function retryFailedEvents(q: RetryFailed): Promise<{ retried: number }> {
  const retried = await requeueFailedEvents(eventFilter(q.tenantId, { ...q, state: 'failed' }), new Date());
  if (retried > 0) await wakeAutomationWorker(q.tenantId);
  return { retried };
}

/** Clean up failed items. */
export interface CleanupFailed extends Acting {
  /** Failed items created more than this many hours ago. */
  olderThanHours: number;
  /** Count only. */
  dryRun: boolean;
}

/** Deletes (or, in a dry run, counts) the failed items older than the age; their runs stay in the run log. */
export async function cleanupFailedEvents(q: CleanupFailed): Promise<{ deleted: number; dry_run: boolean; older_than: Date }> {
  const before = new Date(Date.now() - q.olderThanHours * 3_600_000);
  const deleted = q.dryRun
    ? await automationEvents.count({ tenant_id: q.tenantId, state: 'failed', created_at: { $lt: before } })
    : await deleteFailedEvents(q.tenantId, before);
  return { deleted, dry_run: q.dryRun, older_than: before };
}

/** Evaluates an item again with the current rules (the worker's reprocess pass; 409 while it is processing); the item as it is after, and the new runs. */
export async function reprocessEvent(q: Acting & { id: string }): Promise<{ event: AutomationEvent; runs: AutomationRun[] }> {
  await automationEvents.findOwned(q.tenantId, q.id);
  const runs = await reprocessAutomationEvent(q.tenantId, q.id);
  return { event: await automationEvents.findOwned(q.tenantId, q.id), runs };
}
