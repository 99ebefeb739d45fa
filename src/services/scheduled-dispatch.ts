/**
 * Sends scheduled messages when they are due: the body of the periodic sweeper job. Each pass
 * reads a batch of due ids (and claims whose claimer died) with an indexed query, takes each by
 * an `_id` compare-and-set, and hands the ones it won to the shared send path with the scheduled
 * message's id as the idempotency key. So the sweeper running twice, in two processes, or again
 * after a crash never sends twice: a second claim finds it taken, a second send finds the
 * stored message (outbound.ts), and the provider hand-over is itself claimed once.
 *
 * Outcomes: the provider took it -> sent (with the message id); a refusal by the channel's rules
 * at the due time (outside WhatsApp's 24-hour window for a free-form message, a closed
 * conversation, a disconnected account) or the provider's error -> failed with the reason; any
 * other error (the database, an actor timeout) -> kept claimed and tried again once the claim goes
 * stale after a backoff (ACTOR_LEASE_MS doubling), and failed after MAX_ATTEMPTS. A final status
 * (sent, failed) emits its event once (scheduled-events.ts).
 */
import { appContext } from '../context.js';
import { AppError } from '../errors.js';
import { newId } from '../ids.js';
import { logger } from '../logger.js';
import type { DeliveryError } from '../../actors/conversation/outbound.js';
import {
  claimScheduled,
  dueScheduledIds,
  settleClaim,
  staleClaimIds,
  type ScheduledFailure,
  type ScheduledMessage,
} from '../models/scheduled-message.js';
import { sendOutbound } from './outbound.js';
import { appendOutbox, appendStaleOutboxes, scheduledStatusEvent } from './scheduled-events.js';

/** Claims that fail this often for reasons other than a refusal end failed. */
export const MAX_ATTEMPTS = 5;

/** Ids read and claimed per batch: a batch is claimed at once, then sent PARALLEL at a time. */
const BATCH_SIZE = 50;

/** Sends in flight at once per process (each is a few actor messages and one provider call). */
const PARALLEL = 16;

/** How one pass works; every field has a default from configuration. */
export interface DispatchOptions {
  /** The time the pass judges "due" and "stale" at (tests inject it). */
  now?: Date;
  /** Ids read and claimed per batch. */
  batchSize?: number;
  /** Sends in flight at once. */
  parallel?: number;
  /** A claim older than this is taken over (its claimer died or stalled); SCHEDULED_MESSAGES_CLAIM_LEASE_MS. */
  claimLeaseMs?: number;
  /** A pass starts no new batch after this long, so the job lets go of its lock regularly. */
  budgetMs?: number;
}

/** What one pass did. */
export interface DispatchReport {
  claimed: number;
  sent: number;
  failed: number;
  /** Claims given back to try again (errors that are not refusals, sends still pending elsewhere). */
  retried: number;
}

type Outcome = 'sent' | 'failed' | 'retried';

/** Runs `fn` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Sends every scheduled message due now, batch by batch, within the pass's budget. */
export async function dispatchDueScheduledMessages(opts: DispatchOptions = {}): Promise<DispatchReport> {
  const config = appContext().config.scheduledMessages;
  const batchSize = opts.batchSize ?? BATCH_SIZE;
  const parallel = opts.parallel ?? PARALLEL;
  const leaseMs = opts.claimLeaseMs ?? config.claimLeaseMs;
  const budgetMs = opts.budgetMs ?? 20_000;
  const began = Date.now();
  const report: DispatchReport = { claimed: 0, sent: 0, failed: 0, retried: 0 };
  // Final statuses whose event a process died before appending (scheduled-events.ts).
  await appendStaleOutboxes(new Date((opts.now ?? new Date()).getTime() - leaseMs), batchSize);
  while (Date.now() - began < budgetMs) {
    const now = opts.now ?? new Date();
    const seen = [...(await staleClaimIds(new Date(now.getTime() - leaseMs), batchSize)), ...(await dueScheduledIds(now, batchSize))];
    if (seen.length === 0) break;
    const claim = { token: newId(), at: new Date(), by: appContext().actors.processId };
    const won = (await Promise.all(seen.map((s) => claimScheduled(s._id, s, claim)))).filter((s): s is ScheduledMessage => s !== null);
    report.claimed += won.length;
    await eachLimited(won, parallel, async (s) => {
      report[await fire(s, claim.token)] += 1;
    });
    // Everything read was taken by another process: it is on it; the next pass looks again.
    if (won.length === 0 || seen.length < batchSize) break;
  }
  return report;
}

/** A provider's delivery error as a scheduled message's failure reason. */
const failureOf = (e: DeliveryError | undefined): ScheduledFailure => ({
  code: e?.code === null || e?.code === undefined ? 'provider_error' : String(e.code),
  message: e?.message ?? 'The provider refused the message',
});

/**
 * Records a final status under the claim, with its event in the same write (so a crash after
 * the write still emits it, through the sweeper), then appends the event.
 */
async function finish(s: ScheduledMessage, token: string, set: Partial<ScheduledMessage>): Promise<void> {
  const at = new Date();
  const change = { ...set, updated_at: at };
  const outbox = [await scheduledStatusEvent({ ...s, ...change })];
  if (await settleClaim(s._id, token, { ...change, outbox, outbox_at: at })) await appendOutbox(s, outbox, at);
}

/** Sends one claimed scheduled message and records the outcome under the claim. */
async function fire(s: ScheduledMessage, token: string): Promise<Outcome> {
  let set: Partial<ScheduledMessage>;
  try {
    const { message } = await sendOutbound({
      tenantId: s.tenant_id,
      conversationId: s.conversation_id,
      // The scheduled message's id: however often this runs, one message is stored and sent.
      idempotencyKey: s._id,
      sender: { type: 'agent', id: s.created_by },
      content: s.content,
      replyToMessageId: s.reply_to_message_id,
    });
    if (message.status === 'pending') {
      // A claimer that died mid-send handed it over and its answer is unknown; the stuck-send
      // sweeper settles the message, and the claim, left to go stale, records how it ended.
      await settleClaim(s._id, token, { message_id: message._id });
      return 'retried';
    }
    const failed = message.status === 'failed';
    set = {
      status: failed ? 'failed' : 'sent',
      message_id: message._id,
      failure: failed ? failureOf(message.delivery_errors[0] as DeliveryError | undefined) : null,
      finished_at: new Date(),
    };
  } catch (err) {
    if (err instanceof AppError && [400, 404, 422].includes(err.status)) {
      // The channel's rules refused it at its due time (window, closed conversation, account...).
      set = { status: 'failed', failure: { code: err.code, message: err.message }, finished_at: new Date() };
    } else if (s.attempts >= MAX_ATTEMPTS) {
      logger.warn({ err, scheduledMessage: s._id, attempts: s.attempts }, 'scheduled message not sent; giving up');
      set = { status: 'failed', failure: { code: 'send_error', message: `Sending failed ${s.attempts} times; schedule it again or send it now` }, finished_at: new Date() };
    } else {
      logger.warn({ err, scheduledMessage: s._id, attempts: s.attempts }, 'scheduled message not sent; will try again');
      // Kept claimed, dated so that it goes stale (and is taken up again) only after a backoff: the
      // usual cause is a conversation whose actor a dead process still holds, which frees itself
      // after ACTOR_LEASE_MS, so tries are spaced by that, doubling (10 s .. 160 s by default).
      const backoffMs = appContext().config.actorLeaseMs * 2 ** (s.attempts - 1);
      await settleClaim(s._id, token, { claim_token: null, claimed_by: null, claimed_at: new Date(Date.now() + backoffMs) });
      return 'retried';
    }
  }
  await finish(s, token, set);
  return set.status === 'sent' ? 'sent' : 'failed';
}
