/**
 * Outgoing webhooks: a tenant's URLs subscribed to its event types (src/events/types.ts), each
 * with its own signing secret. The secret is made here, shown once (create, rotate), kept
 * encrypted and never shown again but for its last characters. A URL must be http(s) and its
 * host must not be, or resolve to, a non-public address outside OUTBOUND_ALLOWED_NETWORKS
 * (422 naming the field); the sender checks it again at every connection. Deliveries are queued
 * by the listener and sent by services/outgoing-webhook-sender.ts; the test send is here.
 */
import { randomBytes } from 'node:crypto';
import { encryptSecret, SecretDecryptError } from '../crypto/secrets.js';
import { FieldStateError, ForbiddenError, StateError } from '../errors.js';
import { EVENTS, type EventType } from '../events/types.js';
import { newId } from '../ids.js';
import { outgoingWebhooks, type OutgoingWebhook } from '../models/outgoing-webhook.js';
import { outgoingWebhookDeliveries, type DeliveryStatus, type OutgoingWebhookDelivery } from '../models/outgoing-webhook-delivery.js';
import type { Page } from '../models/repo.js';
import { OutboundTargetError, resolveOutboundTarget } from '../net/outbound-guard.js';
import type { Acting } from './agents.js';
import { sendWebhookRequest } from './outgoing-webhook-request.js';
import { attemptOf, deliveryBody, secretContext, wakeWebhooks, webhookSecret } from './outgoing-webhook-sender.js';
import { forgetSubscriptions, MAX_OUTGOING_WEBHOOKS } from './outgoing-webhook-subscriptions.js';
import { outboundPolicy } from './smtp-settings.js';

export { MAX_OUTGOING_WEBHOOKS };

/** The event type of a test send; not a domain event. */
export const TEST_EVENT = 'webhook.test';

/** What each event type means to a receiver; the compiler makes every type have one. */
export const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  [EVENTS.messageCreated]: 'A message was stored: inbound from a customer, or sent by an agent, AI agent or the system',
  [EVENTS.messageUpdated]: 'A message changed: its delivery status (sent, delivered, read, failed) or its content',
  [EVENTS.conversationCreated]: 'A new conversation was opened with a customer',
  [EVENTS.conversationUpdated]: 'A conversation changed: status, tags, priority, division, read state or last message',
  [EVENTS.conversationAssigned]: 'A conversation was assigned to an agent or unassigned',
  [EVENTS.conversationTransferred]: 'A conversation was transferred to another agent or division',
  [EVENTS.conversationTakeover]: 'A supervisor took over a conversation',
  [EVENTS.noteCreated]: 'A private note was added to a conversation',
  [EVENTS.noteUpdated]: 'A private note was edited',
  [EVENTS.noteDeleted]: 'A private note was deleted',
  [EVENTS.contactUpdated]: 'A contact’s details changed',
  [EVENTS.agentStatusChanged]: 'An agent’s presence changed (online, away, busy, offline)',
  [EVENTS.slaBreached]: 'A conversation missed an SLA target (first response or resolution)',
  [EVENTS.csatSubmitted]: 'A customer submitted a CSAT rating',
  [EVENTS.scheduledMessageSent]: 'A scheduled message was sent',
  [EVENTS.scheduledMessageFailed]: 'A scheduled message could not be sent',
  [EVENTS.scheduledMessageCancelled]: 'A scheduled message was cancelled before it was sent',
  [EVENTS.templateStatusChanged]: 'Meta changed a WhatsApp template’s review status or its reason (approved, rejected, paused, disabled...), by webhook or as a sync found',
};

/** Every subscribable event type with its description, in declaration order. */
export const listEventTypes = (): { type: string; description: string }[] => (Object.values(EVENTS) as EventType[]).map((type) => ({ type, description: EVENT_DESCRIPTIONS[type] }));

/** The fields a caller sets on a webhook. */
export interface OutgoingWebhookFields {
  name: string;
  description: string;
  url: string;
  /** Event types, or [ALL_EVENTS]; deduplicated by the schema. */
  events: string[];
  is_active: boolean;
}

/** A new signing secret: `whsec_` and 32 random base64url characters. */
const generateSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

/** The stored form of a webhook's secret. */
const secretFields = (id: string, secret: string) => ({ secret_encrypted: encryptSecret(secret, { context: secretContext(id) }), secret_hint: secret.slice(-4) });

/** Refuses (422 on `url`) a URL whose host is or resolves to a non-public address outside the allowed networks; a name that does not resolve now is checked again at each send. */
async function checkUrl(url: string): Promise<void> {
  try {
    await resolveOutboundTarget(new URL(url).hostname, outboundPolicy());
  } catch (err) {
    if (!(err instanceof OutboundTargetError)) throw err;
    if (err.reason === 'refused') throw FieldStateError('url', `host ${err.message}`, 'outbound_target_refused');
  }
}

/** One page of the tenant's webhooks, oldest first. */
export function listOutgoingWebhooks(cmd: Acting & { page: number; limit: number }): Promise<Page<OutgoingWebhook>> {
  return outgoingWebhooks.page({ tenant_id: cmd.tenantId }, { created_at: 1, _id: 1 }, cmd.page, cmd.limit);
}

/** A webhook and the secret it was just given. */
export interface WebhookWithSecret {
  webhook: OutgoingWebhook;
  secret: string;
}

/** A super admin impersonating an agent never sees a signing secret (403). */
function refuseImpersonatedSecret(cmd: Acting): void {
  if (cmd.principal.impersonatorId) throw ForbiddenError('Webhook signing secrets cannot be revealed while impersonating an agent');
}

/** Creates a webhook with a new secret; 422 past MAX_OUTGOING_WEBHOOKS or for a refused URL. */
export async function createOutgoingWebhook(cmd: Acting & { fields: OutgoingWebhookFields }): Promise<WebhookWithSecret> {
  refuseImpersonatedSecret(cmd);
  await checkUrl(cmd.fields.url);
  if ((await outgoingWebhooks.count({ tenant_id: cmd.tenantId })) >= MAX_OUTGOING_WEBHOOKS) throw StateError(`An organization keeps at most ${MAX_OUTGOING_WEBHOOKS} outgoing webhooks; delete one first`);
  const id = newId();
  const secret = generateSecret();
  const webhook = await outgoingWebhooks.insert({
    _id: id,
    tenant_id: cmd.tenantId,
    ...cmd.fields,
    ...secretFields(id, secret),
    consecutive_failures: 0,
    disabled_reason: null,
    disabled_at: null,
    last_success_at: null,
    last_failure_at: null,
    next_attempt_at: null,
  });
  await forgetSubscriptions(cmd.tenantId);
  return { webhook, secret };
}

/** Change a webhook. */
export interface UpdateOutgoingWebhook extends Acting {
  /** The webhook; another tenant's is a 404. */
  id: string;
  /** Only the fields given change. */
  fields: Partial<OutgoingWebhookFields>;
  /** Give it a new secret (answered once); the old one stops signing at once. */
  rotateSecret: boolean;
}

/**
 * Changes a webhook. Enabling it (is_active true on an inactive one) clears the auto-disable
 * reason and the failure count and sends its pending deliveries, oldest first.
 */
export async function updateOutgoingWebhook(cmd: UpdateOutgoingWebhook): Promise<{ webhook: OutgoingWebhook; secret: string | null }> {
  if (cmd.rotateSecret) refuseImpersonatedSecret(cmd);
  const current = await outgoingWebhooks.findOwned(cmd.tenantId, cmd.id);
  if (cmd.fields.url !== undefined) await checkUrl(cmd.fields.url);
  const enabling = cmd.fields.is_active === true && !current.is_active;
  const secret = cmd.rotateSecret ? generateSecret() : null;
  const set: Partial<OutgoingWebhook> = { ...cmd.fields, ...(secret ? secretFields(current._id, secret) : {}) };
  if (enabling) Object.assign(set, { disabled_reason: null, disabled_at: null, consecutive_failures: 0, next_attempt_at: new Date() });
  if (cmd.fields.is_active === false) set.next_attempt_at = null;
  const webhook = await outgoingWebhooks.update(cmd.tenantId, cmd.id, set);
  await forgetSubscriptions(cmd.tenantId);
  if (enabling) wakeWebhooks([webhook._id], true);
  return { webhook, secret };
}

/** Deletes a webhook and its deliveries (pending ones are never sent). */
export async function deleteOutgoingWebhook(cmd: Acting & { id: string }): Promise<OutgoingWebhook> {
  const webhook = await outgoingWebhooks.findOwned(cmd.tenantId, cmd.id);
  await outgoingWebhooks.remove(cmd.tenantId, cmd.id);
  await forgetSubscriptions(cmd.tenantId);
  await outgoingWebhookDeliveries.removeMany({ tenant_id: cmd.tenantId, webhook_id: webhook._id });
  return webhook;
}

/** List a webhook's deliveries. */
export interface ListDeliveries extends Acting {
  /** The webhook; another tenant's is a 404. */
  webhookId: string;
  status?: DeliveryStatus | undefined;
  page: number;
  limit: number;
}

/** A webhook's deliveries, newest first, attempts included. */
export async function listWebhookDeliveries(cmd: ListDeliveries): Promise<Page<OutgoingWebhookDelivery>> {
  await outgoingWebhooks.findOwned(cmd.tenantId, cmd.webhookId);
  return outgoingWebhookDeliveries.page(
    { tenant_id: cmd.tenantId, webhook_id: cmd.webhookId, ...(cmd.status ? { status: cmd.status } : {}) },
    { created_at: -1, _id: -1 },
    cmd.page,
    cmd.limit,
  );
}

/** What a test send came to. */
export interface WebhookTestResult {
  ok: boolean;
  delivery_id: string;
  status_code: number | null;
  latency_ms: number;
  response_body: string | null;
  error: string | null;
}

/**
 * Sends a sample `webhook.test` event to the webhook now (active or not), signed like every
 * delivery, through the same outbound guard, and records it as a test delivery. Its outcome
 * does not count towards auto-disabling.
 */
export async function testOutgoingWebhook(cmd: Acting & { id: string }): Promise<WebhookTestResult> {
  const webhook = await outgoingWebhooks.findOwned(cmd.tenantId, cmd.id);
  const id = newId();
  const at = new Date();
  const body = deliveryBody({
    id,
    event: TEST_EVENT,
    seq: null,
    tenant_id: cmd.tenantId,
    created_at: at.toISOString(),
    data: { webhook_id: webhook._id, message: 'A test event from OmniStream: this webhook is reachable and its signature can be checked.' },
  });
  let secret: string;
  try {
    secret = webhookSecret(webhook);
  } catch (err) {
    if (!(err instanceof SecretDecryptError)) throw err;
    throw StateError('The webhook’s signing secret cannot be decrypted under the current ENCRYPTION_KEY; rotate it (PATCH rotate_secret) first');
  }
  const result = await sendWebhookRequest({ url: webhook.url, secret, body, event: TEST_EVENT, deliveryId: id });
  await outgoingWebhookDeliveries.insert({
    _id: id,
    tenant_id: cmd.tenantId,
    webhook_id: webhook._id,
    seq: null,
    event_id: null,
    event: TEST_EVENT,
    test: true,
    status: result.ok ? 'delivered' : 'failed',
    attempts: [attemptOf(at, result)],
    attempt_count: 1,
    next_attempt_at: null,
    delivered_at: result.ok ? new Date() : null,
  });
  return { ok: result.ok, delivery_id: id, status_code: result.status_code, latency_ms: result.latency_ms, response_body: result.response_body, error: result.error };
}
