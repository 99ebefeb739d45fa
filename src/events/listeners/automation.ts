/**
 * The automation listener: each domain event a live rule of the tenant triggers on becomes one
 * automation queue item (services/automation-worker.ts evaluates it). The item's `_id` derives
 * from tenant and seq, so the event handled twice (at-least-once replay) is queued once. Its
 * fingerprint is the sha256 of the canonical payload; an identical payload already queued within
 * DEDUPE_WINDOW_MS is stored skipped, `duplicate_of` the first, and not evaluated again.
 * A failure retries the event (the queue must not lose it).
 */
import { createHash } from 'node:crypto';
import { isDuplicateKey } from '../../errors.js';
import { automationEventId, automationEvents, firstWithFingerprint } from '../../models/automation-event.js';
import { rulesTriggeredBy } from '../../models/automation-rule.js';
import { conversationIdOf } from '../../services/automation-context.js';
import { wakeAutomationWorker } from '../../services/automation-worker.js';
import type { DurableListener } from '../listener.js';
import { EVENTS, type DomainEvent, type EventType } from '../types.js';

/** Event types a rule's trigger may name. */
export const AUTOMATION_TRIGGER_EVENTS: readonly EventType[] = [
  EVENTS.messageCreated,
  EVENTS.messageUpdated,
  EVENTS.conversationCreated,
  EVENTS.conversationUpdated,
  EVENTS.conversationAssigned,
  EVENTS.conversationTransferred,
  EVENTS.conversationTakeover,
  EVENTS.noteCreated,
  EVENTS.contactUpdated,
  EVENTS.slaBreached,
  EVENTS.csatSubmitted,
  EVENTS.scheduledMessageSent,
  EVENTS.scheduledMessageFailed,
];

/** Identical payloads queued within this window are one. */
export const DEDUPE_WINDOW_MS = 60_000;

/** JSON with object keys sorted at every level, so equal payloads give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Hex sha256 of the canonical event type and payload. */
export const payloadFingerprint = (eventType: string, payload: unknown): string => createHash('sha256').update(canonical({ event: eventType, payload })).digest('hex');

/** Queues the event as an automation item (once); true when this call stored it. */
export async function queueAutomationEvent(e: DomainEvent): Promise<boolean> {
  const payload = (e.data && typeof e.data === 'object' ? e.data : { value: e.data }) as Record<string, unknown>;
  const id = automationEventId(e.tenant_id, e.seq);
  const fingerprint = payloadFingerprint(e.event, payload);
  const first = await firstWithFingerprint(e.tenant_id, fingerprint, new Date(Date.now() - DEDUPE_WINDOW_MS), id);
  try {
    await automationEvents.insert({
      _id: id,
      tenant_id: e.tenant_id,
      conversation_id: conversationIdOf(e.event, payload),
      event_seq: e.seq,
      domain_event_id: e.id,
      event_type: e.event,
      payload,
      fingerprint,
      duplicate_of: first?._id ?? null,
      state: first ? 'skipped' : 'pending',
      attempts: 0,
      last_error: null,
      skip_reason: first ? `duplicate payload of ${first._id} within ${DEDUPE_WINDOW_MS / 1000} s` : null,
      next_attempt_at: null,
      causation: { rule_ids: [], depth: 0 },
      claimed_by: null,
      evaluated_rule_ids: [],
      reprocess_count: 0,
      processed_at: first ? new Date() : null,
    });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** The durable automation listener. */
export const automationListener: DurableListener = {
  name: 'automation',
  runs: 'durable',
  onFailure: 'retry',
  events: AUTOMATION_TRIGGER_EVENTS,
  async handle(e: DomainEvent) {
    // Only events some live rule triggers on are queued (one indexed look-up).
    const [rule] = await rulesTriggeredBy(e.tenant_id, e.event);
    if (!rule) return;
    await queueAutomationEvent(e);
    wakeAutomationWorker(e.tenant_id);
  },
};
