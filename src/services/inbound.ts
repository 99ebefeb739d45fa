/**
 * The inbound pipeline (ARCHITECTURE invariant 6): verify a webhook on its raw bytes, store it,
 * acknowledge, then process it — resolve the receiving account's tenant, the contact, the live
 * conversation — and hand each message or status to the conversation's actor. Processing is
 * idempotent (natural ids everywhere), so the recovery pass may safely run it again.
 *
 * Before verification only the receiving accounts are read (each adapter's bounded, linear
 * `routedAccounts`), to choose the secrets to try; the full parse runs on verified bytes. Each
 * event is then processed only for an account its signers speak for (webhook-signers.ts).
 */
import { createHash } from 'node:crypto';
import { adapterFor } from '../../channels/index.js';
import type { ChannelName, InboundEvent, InboundMessage, InboundStatus, WebhookHeaders } from '../../channels/types.js';
import { askConversation } from '../../actors/conversation/index.js';
import { AppError, ValidationError } from '../errors.js';
import { GroupCommit } from '../group-commit.js';
import { naturalId } from '../ids.js';
import { logger } from '../logger.js';
import { contactOfIdentity } from '../models/contact.js';
import { slotConversationId } from '../models/conversation.js';
import { findMessageRef } from '../models/message.js';
import {
  dueWebhookEvents,
  findWebhookEventState,
  insertWebhookEvent,
  leaseWebhookEvent,
  recordWebhookAttempts,
  reopenWebhookEvent,
  type SignedBy,
  type WebhookAttempt,
  type WebhookEvent,
  type WebhookEventStatus,
} from '../models/webhook-event.js';
import { resolveContact } from './contact-resolution.js';
import { requestAutoAssignment } from './auto-assignment.js';
import { liveConversationId, slotId } from './conversation-opening.js';
import { mediaUrlForProviderMedia, storeInboundAttachment } from './media.js';
import { resolveAccountCached } from './account-cache.js';
import type { ResolvedAccount } from './integration-accounts.js';
import { placeRawBody, rawBodyOf } from './webhook-bodies.js';
import { SIGNED_BY_NOBODY, speaksFor, verifySigners } from './webhook-signers.js';
import { processTemplateStatus } from './wa-templates.js';
import { observeWebhookLag } from './metrics.js';
import { appContext } from '../context.js';

/** What the webhook route answers once the delivery is durable. */
export interface Received {
  id: string;
  duplicate: boolean;
  /** The stored delivery and its accounts, for the caller to hand to the worker (absent for a duplicate). */
  delivery?: Delivery;
}

/**
 * A stored delivery on its way to processing, with what its verification already parsed and
 * resolved (both absent when processing starts from the database: recovery).
 */
export interface Delivery {
  stored: WebhookEvent;
  events?: InboundEvent[];
  /** By provider account id. */
  accounts?: Map<string, ResolvedAccount | null>;
}

const messageOf = (err: unknown) => (err as Error).message;

/**
 * Verifies and stores one delivery; processing starts after the caller has answered. The
 * signing secret may be the tenant's own (an integration's app secret), so the receiving
 * accounts are read from the body first (`routed`, when the route already read them) — only
 * to choose the keys; nothing is trusted, or parsed further, until a key verifies the raw bytes.
 */
export async function receiveWebhook(channel: ChannelName, raw: Buffer, headers: WebhookHeaders, routed?: string[]): Promise<Received> {
  const adapter = adapterFor(channel);
  let named: string[];
  try {
    named = routed ?? (await adapter.routedAccounts(raw, headers));
  } catch (err) {
    throw ValidationError(`Invalid ${channel} webhook body: ${messageOf(err)}`);
  }
  const accounts = await resolveAccounts(channel, named);
  const signedBy = await verifySigners(channel, raw, headers, accounts.values());
  let events: InboundEvent[];
  try {
    events = await adapter.parse(raw, headers);
  } catch (err) {
    throw ValidationError(`Invalid ${channel} webhook body: ${messageOf(err)}`);
  }
  const id = createHash('sha256').update(channel).update('\0').update(raw).digest('hex');
  const now = new Date();
  const next = new Date(now.getTime() + appContext().config.webhooks.retryAfterMs);
  const stored: WebhookEvent = {
    _id: id,
    channel,
    ...(await placeRawBody(id, raw)),
    content_type: headers['content-type'] ?? null,
    signed_by: signedBy,
    waiting_for: [],
    tenant_id: null,
    status: 'pending',
    attempts: 0,
    // The recovery pass leaves it to this process's worker until then.
    next_attempt_at: next,
    note: null,
    received_at: now,
    processed_at: null,
  };
  if (await insertWebhookEvent(stored)) return { id, duplicate: false, delivery: { stored, events, accounts } };
  const reopened = await reopenIfWaiting(channel, id, signedBy, accounts, next);
  if (!reopened) return { id, duplicate: true };
  return { id, duplicate: false, delivery: { stored: { ...reopened, raw: stored.raw }, events, accounts } };
}

/**
 * A provider's retry of a delivery already finished: taken up again (once, of retries arriving
 * together) when it was waiting for an account that is connected now; otherwise a duplicate.
 */
async function reopenIfWaiting(channel: ChannelName, id: string, signedBy: SignedBy, accounts: Map<string, ResolvedAccount | null>, next: Date): Promise<Omit<WebhookEvent, 'raw'> | null> {
  const state = await findWebhookEventState(id);
  const waiting = state?.waiting_for ?? [];
  if (!state || state.status === 'pending' || waiting.length === 0) return null;
  const now = await Promise.all(waiting.map((a) => (accounts.has(a) ? accounts.get(a) : resolveAccountCached(channel, a))));
  if (!now.some(Boolean)) return null;
  if (!(await reopenWebhookEvent(state, signedBy, next))) return null;
  return { ...state, status: 'pending', signed_by: signedBy, next_attempt_at: next, note: null };
}

/** The tenant and account of each provider account named (null for an unknown one). */
async function resolveAccounts(channel: ChannelName, named: string[]): Promise<Map<string, ResolvedAccount | null>> {
  const ids = [...new Set(named)];
  const resolved = await Promise.all(ids.map((a) => resolveAccountCached(channel, a)));
  return new Map(ids.map((id, i) => [id, resolved[i] ?? null]));
}

// Waits between tries of a delivery that failed: long enough, summed (about an hour), to cover
// a delivery status that overtakes the record of its send and provider outages of minutes.
const BACKOFF_MS = [5_000, 15_000, 45_000, 120_000, 300_000, 600_000, 1_200_000, 1_800_000];

/** How a try of a delivery ended, and the write that records it (lingering: see attemptRecords). */
export interface Processed {
  status: WebhookEventStatus;
  recorded: Promise<void>;
}

/** Processes a stored delivery once; its outcome's record follows (`recorded`). Safe to run more than once. */
export async function processWebhook({ stored, events: parsed, accounts }: Delivery): Promise<Processed> {
  let status: WebhookEventStatus = 'processed';
  const notes = new Set<string>();
  const waiting = new Set<string>();
  let skipped = 0;
  let tenantId: string | null = null;
  const signedBy = stored.signed_by ?? SIGNED_BY_NOBODY;
  try {
    const events = parsed ?? (await adapterFor(stored.channel).parse(await rawBodyOf(stored), { 'content-type': stored.content_type ?? undefined }));
    for (const event of events) {
      const name = event.accountExternalId;
      const account = accounts?.has(name) ? (accounts.get(name) ?? null) : await resolveAccountCached(stored.channel, name);
      const skip = (note: string) => {
        skipped++;
        notes.add(note);
      };
      if (!account) {
        // Meta keeps retrying anything but a 2xx; an account nobody connected is kept and skipped,
        // and a retry after it is connected takes the delivery up again.
        waiting.add(name);
        skip(`unknown ${stored.channel} account ${name}`);
        logger.warn({ channel: stored.channel, account: name, webhook: stored._id }, 'webhook for an unknown account ignored');
        continue;
      }
      if (!speaksFor(signedBy, account.tenantId)) {
        // Verified, but by another organization's secret: it may not touch this account.
        skip(`${stored.channel} account ${name} belongs to an organization whose secret did not sign this delivery`);
        logger.warn({ channel: stored.channel, account: name, webhook: stored._id }, 'webhook event for an account its signer does not own ignored');
        continue;
      }
      if (!account.enabled) {
        skip(`${stored.channel} account ${name} is disabled`);
        continue;
      }
      tenantId = account.tenantId;
      if (event.kind === 'message') await processMessage(account, event);
      else if (event.kind === 'template_status') await processTemplateStatus(account, event);
      else await processStatus(account, event);
    }
    if (events.length > 0 && skipped === events.length) status = 'ignored';
  } catch (err) {
    status = 'failed';
    notes.add((err as AppError).message);
    logger.error({ err, webhook: stored._id }, 'webhook processing failed');
  }
  const retry = status === 'failed' ? BACKOFF_MS[stored.attempts] : undefined;
  const processedAt = new Date();
  if (status !== 'failed') observeWebhookLag(stored.channel, stored.received_at, processedAt);
  const recorded = attemptRecords.add('', [
    {
      id: stored._id,
      attempts: stored.attempts,
      set: {
        status: retry === undefined ? status : 'pending',
        note: [...notes].join('; ') || null,
        tenant_id: tenantId,
        waiting_for: [...waiting],
        next_attempt_at: new Date(processedAt.getTime() + (retry ?? 0)),
        processed_at: processedAt,
      },
    },
  ]);
  return { status, recorded: recorded.then(() => undefined) };
}

/** Writes the outcomes still lingering now, without waiting out the linger (a stopping worker). */
export const flushWebhookRecords = () => attemptRecords.flush();

// Outcomes of a quarter second go together in one write: nobody waits on it (the worker's slot
// is free once processing ends), and a crash before it only means the recovery pass runs those
// deliveries again (processing is idempotent).
const ATTEMPT_RECORD_LINGER_MS = 250;
const attemptRecords = new GroupCommit<WebhookAttempt, void>(
  async (_key, outcomes) => {
    await recordWebhookAttempts(outcomes);
    return outcomes.map(() => undefined);
  },
  500,
  ATTEMPT_RECORD_LINGER_MS,
);

/** Takes one verified inbound message through contact, conversation actor and auto-assignment (the webchat namespace calls it too). */
export async function processMessage(account: ResolvedAccount, m: InboundMessage): Promise<void> {
  const { tenantId } = account;
  // An echo is the business writing (from us or another tool): the customer is its recipient.
  const customer = m.isEcho ? { externalId: m.recipientExternalId ?? m.sender.externalId } : m.sender;
  const { contact, created: newContact } = await resolveContact(tenantId, m.channel, customer, m.isEcho ? null : new Date(m.timestamp));
  const { id: conversationId, claimed } = await liveConversationId(tenantId, contact._id, newContact);
  const { created } = await askConversation(conversationId, 'inbound', {
    message: {
      _id: naturalId('message', tenantId, m.channel, m.externalId),
      tenant_id: tenantId,
      contact_id: contact._id,
      channel: m.channel,
      direction: m.isEcho ? 'outbound' : 'inbound',
      sender_type: m.isEcho ? 'external' : 'contact',
      sender_id: m.isEcho ? null : contact._id,
      external_id: m.externalId,
      idempotency_key: null,
      type: m.type,
      text: m.text ?? m.email?.text ?? null,
      content: await contentOf(tenantId, account.account._id, m),
      status: m.isEcho ? 'sent' : 'received',
      delivery_errors: [],
      reply_to_external_id: m.replyToExternalId ?? null,
      sent_at: m.timestamp,
    },
    start: { contact_id: contact._id, channel: m.channel, account_id: account.account._id, division_id: null },
    fresh: claimed,
  });
  // A new customer conversation asks the tenant's auto-assigner for an agent (or waits in line).
  if (created && !m.isEcho) await requestAutoAssignment(tenantId, conversationId, null);
}
/**
 * What the message carries besides text. Provider media ids become our own /api/media URLs;
 * attachments that came inside the webhook (e-mail) are stored as media first and named by
 * URL, so their bytes never enter the message, its events, a Redis publish or a socket frame.
 */
async function contentOf(tenantId: string, accountId: string, m: InboundMessage): Promise<Record<string, unknown>> {
  const { location, contacts, choice, reaction, email, unsupportedReason } = m;
  const media = m.media
    ? await Promise.all(
        m.media.map(async ({ bytes, ...item }, index) => {
          if (bytes) {
            const stored = await storeInboundAttachment(tenantId, m.channel, m.externalId, index, accountId, { bytes, mimeType: item.mimeType, filename: item.filename });
            return { ...item, url: stored.url, mimeType: stored.contentType, filename: stored.filename, size: stored.size };
          }
          if (!item.providerMediaId) return item;
          const details = { ...(item.mimeType ? { mimeType: item.mimeType } : {}), ...(item.filename ? { filename: item.filename } : {}) };
          return { ...item, url: await mediaUrlForProviderMedia(tenantId, m.channel, item.providerMediaId, accountId, details) };
        }),
      )
    : undefined;
  return Object.fromEntries(
    Object.entries({ media, location, contacts, choice, reaction, email, unsupported_reason: unsupportedReason }).filter(([, v]) => v !== undefined),
  );
}

// A status may overtake the record of our own send (the provider answers the send and fires
// the webhook at once); a fresh one for an unknown message is retried by the recovery pass.
const STATUS_RETRY_WINDOW_MS = 5 * 60_000;

/** Applies one delivery status through the message's conversation actor; throws while the send is not recorded yet. */
export async function processStatus(account: ResolvedAccount, s: InboundStatus): Promise<void> {
  if (!s.messageExternalId) {
    if (s.watermark && s.recipientExternalId && (s.status === 'delivered' || s.status === 'read')) {
      const conversationId = await liveConversationOf(account.tenantId, s.channel, s.recipientExternalId);
      if (conversationId) await askConversation(conversationId, 'delivery_watermark', { status: s.status, watermark: s.watermark });
    }
    return;
  }
  const ref = await findMessageRef(account.tenantId, s.channel, s.messageExternalId);
  if (!ref) {
    if (Date.now() - Date.parse(s.timestamp) < STATUS_RETRY_WINDOW_MS) throw new Error(`status for message ${s.messageExternalId} arrived before its send was recorded; will retry`);
    return; // a status for a message sent from elsewhere
  }
  await askConversation(ref.conversation_id, 'delivery_status', { messageId: ref.message_id, status: s.status, ...(s.errors ? { errors: s.errors } : {}) });
}

/** The live conversation of the customer with this channel identity, if any. */
async function liveConversationOf(tenantId: string, channel: ChannelName, identity: string): Promise<string | null> {
  const contactId = await contactOfIdentity(tenantId, channel, identity);
  return contactId ? slotConversationId(slotId(tenantId, contactId)) : null;
}

/**
 * Hands deliveries still pending at their `next_attempt_at` (a crash between store and
 * process, or a failed try whose backoff is over) to `run`, each taken for one try first so
 * that processes running the pass at once never try the same delivery twice. Answers how many.
 */
export async function recoverDueWebhooks(run: (stored: WebhookEvent) => Promise<unknown>, limit = 200): Promise<number> {
  const now = new Date();
  const due = await dueWebhookEvents(now, limit);
  const retryAfterMs = appContext().config.webhooks.retryAfterMs;
  let taken = 0;
  await Promise.all(
    due.map(async (stored) => {
      if (!(await leaseWebhookEvent(stored, new Date(now.getTime() + retryAfterMs)))) return;
      taken++;
      await run(stored);
    }),
  );
  return taken;
}
