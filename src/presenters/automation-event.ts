/** Automation queue items as the API shows them. */
import { z } from 'zod';
import { AUTOMATION_EVENT_STATES, type AutomationEvent } from '../models/automation-event.js';
import { iso } from './page.js';

/** The queue item JSON shape. */
export const AutomationEventBody = z.object({
  id: z.uuid(),
  conversation_id: z.uuid().nullable(),
  event_seq: z.number().int().describe('The domain event’s seq (per tenant, increasing); items of one conversation are evaluated in this order'),
  event_type: z.string(),
  payload: z.record(z.string(), z.unknown()).describe('The domain event’s data as the rules saw it'),
  fingerprint: z.string().describe('Hex SHA-256 of the canonical event type and payload'),
  duplicate_of: z.uuid().nullable().describe('The earlier item with the same fingerprint within the de-duplication window'),
  state: z.enum(AUTOMATION_EVENT_STATES),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  skip_reason: z.string().nullable().describe('Why it was skipped (duplicate, chain depth...)'),
  next_attempt_at: z.iso.datetime().nullable().describe('A pending item is not claimed before this time (retry backoff)'),
  causation: z.object({ rule_ids: z.array(z.uuid()), depth: z.number().int() }).describe('The rules whose actions caused the event, and the chain’s length (0: not rule-caused)'),
  claimed_by: z.string().nullable().describe('The process that claimed it last'),
  evaluated_rule_ids: z.array(z.uuid()).describe('The rules evaluated on it'),
  reprocess_count: z.number().int(),
  created_at: z.iso.datetime(),
  processed_at: z.iso.datetime().nullable(),
  updated_at: z.iso.datetime(),
});

/** Shapes a queue item. */
export function presentAutomationEvent(e: AutomationEvent): z.infer<typeof AutomationEventBody> {
  return {
    id: e._id,
    conversation_id: e.conversation_id,
    event_seq: e.event_seq,
    event_type: e.event_type,
    payload: { ...e.payload },
    fingerprint: e.fingerprint,
    duplicate_of: e.duplicate_of,
    state: e.state,
    attempts: e.attempts,
    last_error: e.last_error,
    skip_reason: e.skip_reason ?? null,
    next_attempt_at: iso(e.next_attempt_at),
    causation: { rule_ids: [...(e.causation?.rule_ids ?? [])], depth: e.causation?.depth ?? 0 },
    claimed_by: e.claimed_by,
    evaluated_rule_ids: [...(e.evaluated_rule_ids ?? [])],
    reprocess_count: e.reprocess_count ?? 0,
    created_at: iso(e.created_at) as string,
    processed_at: iso(e.processed_at),
    updated_at: iso(e.updated_at) as string,
  };
}
