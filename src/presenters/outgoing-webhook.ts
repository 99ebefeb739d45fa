/** Outgoing webhooks and their deliveries as the API shows them. The secret leaves the process only in the create answer and a rotation's. */
import { z } from 'zod';
import type { OutgoingWebhookDelivery } from '../models/outgoing-webhook-delivery.js';
import type { OutgoingWebhook } from '../models/outgoing-webhook.js';
import { iso } from './page.js';

/** The outgoing webhook JSON shape (no secret). */
export const OutgoingWebhookBody = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  url: z.string(),
  events: z.array(z.string()).describe('Event types it receives; ["*"]: every type'),
  is_active: z.boolean(),
  secret_hint: z.string().describe('The signing secret’s last characters, as `whsec_…abcd`; the secret itself is shown only on create and rotate'),
  consecutive_failures: z.number().int().describe('Failed attempts in a row; a success resets it'),
  disabled_reason: z.string().nullable().describe('Why it was disabled automatically (its last error); null otherwise. Enabling it again clears it'),
  disabled_at: z.iso.datetime().nullable(),
  last_success_at: z.iso.datetime().nullable(),
  last_failure_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** The create (and rotate) answer: the webhook plus its signing secret, shown this once. */
export const OutgoingWebhookWithSecretBody = OutgoingWebhookBody.extend({
  secret: z.string().describe('The signing secret (`whsec_...`); it is shown only in this answer, so store it now'),
});

/** The update answer: `secret` only when it was rotated. */
export const UpdatedOutgoingWebhookBody = OutgoingWebhookBody.extend({
  secret: z.string().optional().describe('Present only with rotate_secret: the new signing secret, shown only in this answer'),
});

/** Shapes a webhook. */
export function presentOutgoingWebhook(w: OutgoingWebhook): z.infer<typeof OutgoingWebhookBody> {
  return {
    id: w._id,
    name: w.name,
    description: w.description,
    url: w.url,
    events: [...w.events],
    is_active: w.is_active,
    secret_hint: `whsec_…${w.secret_hint}`,
    consecutive_failures: w.consecutive_failures,
    disabled_reason: w.disabled_reason,
    disabled_at: iso(w.disabled_at),
    last_success_at: iso(w.last_success_at),
    last_failure_at: iso(w.last_failure_at),
    created_at: iso(w.created_at) as string,
    updated_at: iso(w.updated_at) as string,
  };
}

/** Shapes a webhook with its new secret. */
export const presentOutgoingWebhookWithSecret = (w: OutgoingWebhook, secret: string): z.infer<typeof OutgoingWebhookWithSecretBody> => ({ ...presentOutgoingWebhook(w), secret });

const AttemptBody = z.object({
  at: z.iso.datetime(),
  status_code: z.number().int().nullable().describe('The receiver’s HTTP status; null when none came (timeout, network error, refused target)'),
  latency_ms: z.number().int(),
  error: z.string().nullable(),
  response_body: z.string().nullable().describe('The start of the receiver’s answer (at most 1,024 characters)'),
});

/** The delivery JSON shape, with every attempt. */
export const OutgoingWebhookDeliveryBody = z.object({
  id: z.uuid().describe('Also the `id` of the body sent and the `x-omnistream-delivery` header'),
  webhook_id: z.uuid(),
  event: z.string(),
  seq: z.number().int().nullable().describe('The event’s seq; null for a test send'),
  event_id: z.string().nullable(),
  test: z.boolean().describe('Sent by POST /api/outgoing-webhooks/{id}/test'),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempt_count: z.number().int(),
  attempts: z.array(AttemptBody),
  next_attempt_at: z.iso.datetime().nullable().describe('When a pending delivery is tried (again); it also waits for the webhook’s earlier deliveries'),
  delivered_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
});

/** Shapes a delivery. */
export function presentOutgoingWebhookDelivery(d: OutgoingWebhookDelivery): z.infer<typeof OutgoingWebhookDeliveryBody> {
  return {
    id: d._id,
    webhook_id: d.webhook_id,
    event: d.event,
    seq: d.seq,
    event_id: d.event_id,
    test: d.test,
    status: d.status,
    attempt_count: d.attempt_count,
    attempts: d.attempts.map((a) => ({ at: iso(a.at) as string, status_code: a.status_code, latency_ms: Math.round(a.latency_ms), error: a.error, response_body: a.response_body })),
    next_attempt_at: iso(d.next_attempt_at),
    delivered_at: iso(d.delivered_at),
    created_at: iso(d.created_at) as string,
  };
}

/** The test send's answer. */
export const WebhookTestResultBody = z.object({
  ok: z.boolean().describe('The receiver answered 2xx'),
  delivery_id: z.uuid().describe('The recorded test delivery (listed with the webhook’s deliveries, `test: true`)'),
  status_code: z.number().int().nullable(),
  latency_ms: z.number().int(),
  response_body: z.string().nullable(),
  error: z.string().nullable(),
});

/** One subscribable event type. */
export const EventTypeBody = z.object({ type: z.string(), description: z.string() });
