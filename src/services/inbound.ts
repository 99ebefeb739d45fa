/**
 * The inbound pipeline (ARCHITECTURE invariant 6): verify a webhook on its raw bytes, store it,
 * acknowledge, then process it — resolve the receiving account's tenant, the contact, the live
 * conversation — and hand each message or status to the conversation's actor. Processing is
 * idempotent (natural ids everywhere), so the recovery pass may safely run it again.
 */
import { createHash } from 'node:crypto';
import { adapterFor } from '../../channels/index.js';
import type { ChannelName, InboundEvent, InboundMessage, InboundStatus, WebhookHeaders } from '../../channels/types.js';
import { askConversation } from '../../actors/conversation/index.js';
import { AppError, UnauthorizedError, ValidationError } from '../errors.js';
import { GroupCommit } from '../group-commit.js';
import { naturalId } from '../ids.js';
import { logger } from '../logger.js';
import { contactOfIdentity } from '../models/contact.js';
import { slotConversationId } from '../models/conversation.js';
import { findMessageRef } from '../models/message.js';
import {
  dueWebhookEvents,
  insertWebhookEvent,
  leaseWebhookEvent,
  recordWebhookAttempts,
  type WebhookAttempt,
  type WebhookEvent,
  type WebhookEventStatus,
} from '../models/webhook-event.js';
import { resolveContact } from './contact-resolution.js';
import { requestAutoAssignment } from './auto-assignment.js';
import { liveConversationId, slotId } from './conversation-opening.js';
import { mediaUrlForProviderMedia } from './media.js';
import { resolveAccountCached } from './account-cache.js';
import { appSecretOf, type ResolvedAccount } from './integration-accounts.js';
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

/**
 * Verifies and stores one delivery; processing starts after the caller has answered. The
 * signing secret may be the tenant's own (an integration's app secret), so the receiving
 * accounts are read from the body first — only to choose the key; nothing is trusted until a
 * key verifies the raw bytes.
 */
export async function receiveWebhook(channel: ChannelName, raw: Buffer, headers: WebhookHeaders): Promise<Received> {
  const adapter = adapterFor(channel);
  let events: InboundEvent[];
  try {
    events = await adapter.parse(raw, headers);
  } catch (err) {
    throw ValidationError(`Invalid ${channel} webhook body: ${(err as Error).message}`);
  }
  const accounts = await resolveAccounts(channel, events);
  const secrets = candidateSecrets(channel, accounts);
  if (secrets.length === 0) throw UnauthorizedError(`No webhook secret is configured for this ${channel} account`);
  const results = secrets.map((s) => adapter.verify(raw, headers, s));
  if (!results.some((r) => r.ok)) {
    const reason = results.find((r): r is { ok: false; reason: string } => !r.ok)?.reason ?? 'signature mismatch';
    throw UnauthorizedError(`Webhook signature rejected: ${reason}`);
  }
  const id = createHash('sha256').update(channel).update('\0').update(raw).digest('hex');
  const now = new Date();
  const stored: WebhookEvent = {
    _id: id,
    channel,
    raw,
    content_type: headers['content-type'] ?? null,
    tenant_id: null,
    status: 'pending',
    attempts: 0,
    // The recovery pass leaves it to this process's worker until then.
    next_attempt_at: new Date(now.getTime() + appContext().config.webhooks.retryAfterMs),
    note: null,
    received_at: now,
    processed_at: null,
  };
  if (!(await insertWebhookEvent(stored))) return { id, duplicate: true };
  return { id, duplicate: false, delivery: { stored, events, accounts } };
}

/** The tenant and account of each provider account the events name (null for an unknown one). */
async function resolveAccounts(channel: ChannelName, events: InboundEvent[]): Promise<Map<string, ResolvedAccount | null>> {
  const ids = [...new Set(events.map((e) => e.accountExternalId))];
  const resolved = await Promise.all(ids.map((a) => resolveAccountCached(channel, a)));
  return new Map(ids.map((id, i) => [id, resolved[i] ?? null]));
}

function candidateSecrets(channel: ChannelName, accounts: Map<string, ResolvedAccount | null>): string[] {
  const tenantSecrets = [...accounts.values()].map((r) => (r ? appSecretOf(r.tenantId, channel, r.integration) : null));
  const { config } = appContext();
  const platform = channel === 'email' ? config.email.webhookSecret : config.meta.appSecret;
  return [...new Set([...tenantSecrets, platform].filter((s): s is string => Boolean(s)))];
}

// Waits between tries of a delivery that failed: long enough, summed (about an hour), to cover
// a delivery status that overtakes the record of its send and provider outages of minutes.
const BACKOFF_MS = [5_000, 15_000, 45_000, 120_000, 300_000, 600_000, 1_200_000, 1_800_000];

/** Processes a stored delivery once and records the outcome; safe to run more than once. */
export async function processWebhook({ stored, events: parsed, accounts }: Delivery): Promise<WebhookEventStatus> {
  let status: WebhookEventStatus = 'processed';
  const notes: string[] = [];
  let tenantId: string | null = null;
  try {
    const events = parsed ?? (await adapterFor(stored.channel).parse(bytesOf(stored.raw), { 'content-type': stored.content_type ?? undefined }));
    for (const event of events) {
      const account = accounts?.has(event.accountExternalId) ? (accounts.get(event.accountExternalId) ?? null) : await resolveAccountCached(stored.channel, event.accountExternalId);
      if (!account) {
        // Meta keeps retrying anything but a 2xx; an account nobody connected is kept and skipped.
        notes.push(`unknown ${stored.channel} account ${event.accountExternalId}`);
        logger.warn({ channel: stored.channel, account: event.accountExternalId, webhook: stored._id }, 'webhook for an unknown account ignored');
        continue;
      }
      if (!account.enabled) {
        notes.push(`${stored.channel} account ${event.accountExternalId} is disabled`);
        continue;
      }
      tenantId = account.tenantId;
      if (event.kind === 'message') await processMessage(account, event);
      else await processStatus(account, event);
    }
    if (events.length > 0 && notes.length === events.length) status = 'ignored';
  } catch (err) {
    status = 'failed';
    notes.push((err as AppError).message);
    logger.error({ err, webhook: stored._id }, 'webhook processing failed');
  }
  const retry = status === 'failed' ? BACKOFF_MS[stored.attempts] : undefined;
  await attemptRecords.add('', [
    {
      id: stored._id,
      attempts: stored.attempts,
      set: {
        status: retry === undefined ? status : 'pending',
        note: notes.join('; ') || null,
        tenant_id: tenantId,
        next_attempt_at: new Date(Date.now() + (retry ?? 0)),
        processed_at: new Date(),
      },
    },
  ]);
  return status;
}

// Outcomes finished while one write of them is under way go together in the next.
const attemptRecords = new GroupCommit<WebhookAttempt, void>(async (_key, outcomes) => {
  await recordWebhookAttempts(outcomes);
  return outcomes.map(() => undefined);
});

/** The stored body as a Buffer (a lean read hands back BSON Binary). */
function bytesOf(raw: Buffer | { buffer: Uint8Array }): Buffer {
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer);
}

async function processMessage(account: ResolvedAccount, m: InboundMessage): Promise<void> {
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
/** What the message carries besides text; provider media ids become our own /api/media URLs. */
async function contentOf(tenantId: string, accountId: string, m: InboundMessage): Promise<Record<string, unknown>> {
  const { location, contacts, choice, reaction, email, unsupportedReason } = m;
  const media = m.media
    ? await Promise.all(
        m.media.map(async (item) => {
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

async function processStatus(account: ResolvedAccount, s: InboundStatus): Promise<void> {
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
