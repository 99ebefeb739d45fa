/**
 * Sends outgoing-webhook deliveries (queued by src/events/listeners/outgoing-webhooks.ts), one
 * webhook at a time per process and one process at a time per webhook: a Redis lease per
 * webhook (actors/lease.ts, kind `outgoing-webhook`) makes its holder the only sender, so a
 * webhook's deliveries leave in seq order. The holder sends the oldest pending ones first.
 *
 * - A 2xx answer delivers. A timeout, a network error, a refused connection, a 5xx, a 408 or a
 *   429 is transient: the delivery is tried again after the next wait of
 *   OUTGOING_WEBHOOK_RETRY_MS (a longer Retry-After is honoured, up to the last wait), and the
 *   webhook's later deliveries wait behind it (order holds; other webhooks are not held).
 * - Any other answer (3xx, since redirects are not followed, or a 4xx) is the receiver refusing
 *   this delivery: sending the same bytes again would get the same answer, so it is failed at
 *   once and the next delivery goes.
 * - Every failed attempt counts on the webhook (`consecutive_failures`, reset by a success).
 *   When a delivery has used all its attempts, or the count reaches that many attempts (a
 *   receiver refusing everything), the webhook is disabled with the last error as its reason.
 *   Its pending deliveries stay pending and go out, in order, when it is enabled again.
 *
 * The webhook's `next_attempt_at` marker says when to look again; the sweep job wakes active
 * webhooks whose marker is due, so a restart or a lost timer delays a delivery by a sweep at
 * most. Delivery is at least once (a lost lease mid-send may send twice): receivers dedupe on
 * the delivery id (`x-omnistream-delivery`).
 */
import { acquireLease, releaseLease, renewLease } from '../../actors/lease.js';
import { appContext } from '../context.js';
import { decryptSecret, SecretDecryptError } from '../crypto/secrets.js';
import { logger } from '../logger.js';
import { findDocById } from '../models/driver.js';
import { findEventsByIds } from '../models/event.js';
import { findTenant } from '../models/tenant.js';
import { pendingDeliveries, pruneDeliveries, recordAttempt, recordDelivered, type DeliveryAttempt, type OutgoingWebhookDelivery } from '../models/outgoing-webhook-delivery.js';
import { disableWebhook, dueWebhooks, OutgoingWebhookModel, recordWebhookOutcome, setWebhookMarker, type OutgoingWebhook } from '../models/outgoing-webhook.js';
import { sendWebhookRequest, type WebhookResponse } from './outgoing-webhook-request.js';
import { forgetSubscriptions } from './outgoing-webhook-subscriptions.js';

const LEASE_KIND = 'outgoing-webhook';
// Deliveries read per step of a drain (one read of the webhook, its deliveries and their events).
const BATCH = 100;
// Webhooks woken per sweep.
const SWEEP_LIMIT = 500;
// Settled deliveries past their retention deleted per sweep.
const PRUNE_LIMIT = 1_000;

/** The context a webhook's secret is bound to. */
export const secretContext = (webhookId: string) => `outgoing-webhook:${webhookId}:secret`;

/** The webhook's signing secret in the clear. */
export const webhookSecret = (w: Pick<OutgoingWebhook, '_id' | 'secret_encrypted'>): string => decryptSecret(w.secret_encrypted, { context: secretContext(w._id) });

/** The JSON body of a delivery. */
export function deliveryBody(d: { id: string; event: string; seq: number | null; tenant_id: string; created_at: string; data: unknown }): string {
  return JSON.stringify({ id: d.id, event: d.event, seq: d.seq, tenant_id: d.tenant_id, created_at: d.created_at, data: d.data });
}

/** An attempt as stored, from a request's outcome. */
export const attemptOf = (at: Date, r: WebhookResponse): DeliveryAttempt => ({ at, status_code: r.status_code, latency_ms: r.latency_ms, error: r.error, response_body: r.response_body });

/** True when trying the same request again may succeed. */
const transient = (r: WebhookResponse) => r.status_code === null || r.status_code >= 500 || r.status_code === 408 || r.status_code === 429;

/** Deliveries of one webhook that succeeded since the last record: written in one go, with one success on the webhook. */
class DeliveredRun {
  private items: { id: string; attempt: DeliveryAttempt }[] = [];

  constructor(private readonly webhookId: string) {}

  add(id: string, attempt: DeliveryAttempt): void {
    this.items.push({ id, attempt });
  }

  async record(): Promise<void> {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    await recordDelivered(items);
    await recordWebhookOutcome(this.webhookId, true, (items.at(-1) as (typeof items)[number]).attempt.at);
  }
}

/** This process's sender. */
class OutgoingWebhookSender {
  /** Webhooks draining here; `again`: woken meanwhile, look once more after. */
  private readonly running = new Map<string, { again: boolean; done: Promise<void> }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  /**
   * Sends the webhook's pending deliveries here unless another process already does. While a
   * retry timer of this process waits for the webhook's oldest delivery, nothing can go before
   * it, so a wake (each queued event) waits for the timer too, unless `force`d (re-enabled).
   */
  wake(webhookId: string, force = false): void {
    if (this.closed) return;
    if (this.timers.has(webhookId)) {
      if (!force) return;
      clearTimeout(this.timers.get(webhookId));
      this.timers.delete(webhookId);
    }
    const current = this.running.get(webhookId);
    if (current) {
      current.again = true;
      return;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = this.run(webhookId, state)
      .catch((err: unknown) => logger.error({ err, webhookId }, 'sending outgoing-webhook deliveries failed; the sweep takes it up again'))
      .finally(() => {
        this.running.delete(webhookId);
        if (state.again && !this.closed) this.wake(webhookId);
      });
    this.running.set(webhookId, state);
  }

  /** Stops taking work, cancels retry timers and waits for the sends under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  private wakeAt(webhookId: string, at: Date): void {
    clearTimeout(this.timers.get(webhookId));
    const timer = setTimeout(() => {
      this.timers.delete(webhookId);
      this.wake(webhookId);
    }, Math.max(0, at.getTime() - Date.now()));
    this.timers.set(webhookId, timer.unref());
  }

  private async run(webhookId: string, state: { again: boolean }): Promise<void> {
    const { redis, actors, config } = appContext();
    const leaseMs = config.outgoingWebhooks.timeoutMs + 15_000;
    const lease = await acquireLease(redis, LEASE_KIND, webhookId, actors.processId, leaseMs);
    // The holder drains what was queued; one that just finished leaves its marker for the sweep.
    if (!lease.acquired) return;
    // Renewed before a send only once a third of the lease has passed, not a Redis round trip per delivery.
    let confirmedAt = Date.now();
    const renew = async () => {
      if (Date.now() - confirmedAt < leaseMs / 3) return true;
      const askedAt = Date.now();
      const held = await renewLease(redis, LEASE_KIND, webhookId, actors.processId, lease.fence, leaseMs);
      if (held) confirmedAt = askedAt;
      return held;
    };
    try {
      for (;;) {
        state.again = false;
        if (!(await this.drainBatch(webhookId, renew)) && !state.again) return;
      }
    } finally {
      await releaseLease(redis, LEASE_KIND, webhookId, actors.processId, lease.fence).catch(() => false);
    }
  }

  /** Sends up to a batch of the webhook's pending deliveries in order; true when there may be more to send now. */
  private async drainBatch(webhookId: string, renew: () => Promise<boolean>): Promise<boolean> {
    if (this.closed) return false;
    const webhook = await findDocById<OutgoingWebhook>(OutgoingWebhookModel, webhookId);
    if (!webhook || !webhook.is_active) return false;
    // A suspended organization's deliveries wait, marker kept: the sweep sends them once it is resumed.
    if ((await findTenant(webhook.tenant_id))?.status !== 'active') return false;
    let batch = await pendingDeliveries(webhookId, BATCH);
    if (batch.length === 0) {
      // Clear the marker, then look again: a delivery queued meanwhile set no marker (one was set).
      await setWebhookMarker(webhookId, null);
      batch = await pendingDeliveries(webhookId, BATCH);
      if (batch.length === 0) return false;
      await setWebhookMarker(webhookId, new Date());
    }
    const events = new Map((await findEventsByIds(webhook.tenant_id, batch.map((d) => d.event_id as string))).map((e) => [e.id, e]));
    let secret: string;
    try {
      secret = webhookSecret(webhook);
    } catch (err) {
      if (!(err instanceof SecretDecryptError)) throw err;
      await this.disable(webhook, `Its signing secret cannot be decrypted (${err.message}): ENCRYPTION_KEY changed? Rotate the secret (rotate_secret) and enable it again`);
      return false;
    }
    // Successes are recorded together when the batch ends or before a failure is: a crash in
    // between sends them again, which at-least-once delivery allows (receivers dedupe on the id).
    const delivered = new DeliveredRun(webhookId);
    try {
      for (const d of batch) {
        if (this.closed) return false;
        if (d.next_attempt_at && d.next_attempt_at.getTime() > Date.now()) {
          await delivered.record();
          await setWebhookMarker(webhookId, d.next_attempt_at);
          this.wakeAt(webhookId, d.next_attempt_at);
          return false;
        }
        if (!(await renew())) return false;
        const event = events.get(d.event_id as string);
        if (!event) {
          await recordAttempt(d._id, { at: new Date(), status_code: null, latency_ms: 0, error: 'the event is no longer in the log', response_body: null }, 'failed', null);
          continue;
        }
        const body = deliveryBody({ id: d._id, event: event.event, seq: event.seq, tenant_id: event.tenant_id, created_at: event.created_at, data: event.data });
        const at = new Date();
        const result = await sendWebhookRequest({ url: webhook.url, secret, body, event: event.event, deliveryId: d._id });
        if (result.ok) {
          delivered.add(d._id, attemptOf(at, result));
          continue;
        }
        await delivered.record();
        if (!(await this.settleFailure(webhook, d, at, result))) return false;
      }
    } finally {
      await delivered.record();
    }
    return batch.length === BATCH;
  }

  /** Records a failed attempt; true when the next delivery may go now. */
  private async settleFailure(webhook: OutgoingWebhook, d: OutgoingWebhookDelivery, at: Date, result: WebhookResponse): Promise<boolean> {
    const attempt = attemptOf(at, result);
    const { retryMs } = appContext().config.outgoingWebhooks;
    const maxAttempts = retryMs.length + 1;
    const attempts = d.attempt_count + 1;
    const after = await recordWebhookOutcome(webhook._id, false, at);
    if (transient(result) && attempts < maxAttempts) {
      const last = retryMs[retryMs.length - 1] as number;
      const wait = Math.max(retryMs[attempts - 1] as number, Math.min(last, (result.retry_after_s ?? 0) * 1000));
      const next = new Date(Date.now() + wait);
      await recordAttempt(d._id, attempt, 'pending', next);
      await setWebhookMarker(webhook._id, next);
      this.wakeAt(webhook._id, next);
      return false;
    }
    await recordAttempt(d._id, attempt, 'failed', null);
    if (attempts >= maxAttempts || (after?.consecutive_failures ?? 0) >= maxAttempts) {
      const reason = `Delivery ${d._id} (${d.event}, seq ${d.seq}) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}, ${after?.consecutive_failures ?? attempts} failed in a row; last error: ${result.error}`;
      await this.disable(webhook, reason);
      return false;
    }
    return true;
  }

  /** Disables the webhook with `reason` (its pending deliveries stay pending) and forgets it as a subscriber everywhere. */
  private async disable(webhook: OutgoingWebhook, reason: string): Promise<void> {
    if (!(await disableWebhook(webhook._id, reason, new Date()))) return;
    logger.warn({ webhookId: webhook._id, tenantId: webhook.tenant_id, reason }, 'outgoing webhook disabled');
    await forgetSubscriptions(webhook.tenant_id);
  }
}

let sender: OutgoingWebhookSender | null = null;

/** This process's sender (made at first use). */
function currentSender(): OutgoingWebhookSender {
  sender ??= new OutgoingWebhookSender();
  return sender;
}

/** Wakes the sender of each webhook in this process; `force` also cuts short a retry wait of this process (a webhook enabled again). */
export function wakeWebhooks(ids: readonly string[], force = false): void {
  const s = currentSender();
  for (const id of ids) s.wake(id, force);
}

/**
 * The sweep job's pass: wakes every active webhook whose marker is due, and deletes a batch of
 * delivered or failed deliveries older than OUTGOING_WEBHOOK_RETENTION_DAYS.
 */
export async function sweepOutgoingWebhooks(now = new Date()): Promise<{ woken: number; pruned: number }> {
  const due = await dueWebhooks(now, SWEEP_LIMIT);
  wakeWebhooks(due.map((w) => w._id));
  const { retentionDays } = appContext().config.outgoingWebhooks;
  const pruned = await pruneDeliveries(new Date(now.getTime() - retentionDays * 86_400_000), PRUNE_LIMIT);
  return { woken: due.length, pruned };
}

/** Stops this process's sender (server shutdown): no new sends, retry timers cancelled, sends under way finished. */
export async function stopOutgoingWebhookSender(): Promise<void> {
  const s = sender;
  sender = null;
  await s?.close();
}
