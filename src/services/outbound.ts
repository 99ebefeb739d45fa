/**
 * The shared send path: every outbound message (an agent's reply, a scheduled message, an AI
 * agent's answer) goes through `sendOutbound`. It stores the message once per idempotency key
 * through the conversation's actor (`outbound.create`, status pending, message.created), sends
 * it through the channel adapter with the conversation's account, and hands the provider's answer
 * back to the actor (`outbound.result`: sent with its provider id, or failed with the error,
 * message.updated). A retried request with the same key finds the stored message and sends
 * nothing, even when the retries arrive at once: the `_id` claim has exactly one winner.
 * A WhatsApp template send is checked against the stored template first (services/wa-template-sends.ts).
 */
import { askConversation } from '../../actors/conversation/index.js';
import type { DeliveryError, OutboundDraft } from '../../actors/conversation/outbound.js';
import { adapterFor } from '../../channels/index.js';
import { markSeen as markInstagramSeen } from '../../channels/instagram/index.js';
import { markSeen as markMessengerSeen } from '../../channels/messenger/index.js';
import { markRead as markWhatsappRead } from '../../channels/whatsapp/index.js';
import { ChannelSendError, type OutboundContent, type OutboundMessage } from '../../channels/types.js';
import { AppError, BodyFieldError, ConflictError, StateError } from '../errors.js';
import { naturalId } from '../ids.js';
import { logger } from '../logger.js';
import { contacts, type Contact } from '../models/contact.js';
import { conversations, type Conversation } from '../models/conversation.js';
import { findIntegration, type Integration } from '../models/integration.js';
import { integrationAccounts, type IntegrationAccount } from '../models/integration-account.js';
import { messages, reviveMessage, stuckSends, type Message } from '../models/message.js';
import { assertMessageWithinPlan } from './billing-usage.js';
import { credentialsFor } from './integration-accounts.js';
import { countOutboundSend } from './metrics.js';
import { assertDeliverable } from './outbound-rules.js';
import { checkTemplateSend } from './wa-template-sends.js';

/** WhatsApp's media kinds; Messenger and Instagram map them to their attachment types. */
export type MediaType = 'image' | 'audio' | 'video' | 'document' | 'sticker';

/** What to send, as the API describes it. */
export type OutgoingContent =
  | { type: 'text'; text: string }
  | { type: 'media'; media: { type: MediaType; url?: string | undefined; mediaId?: string | undefined; caption?: string | undefined; filename?: string | undefined } }
  | { type: 'template'; template: { name: string; language: string; components?: Record<string, unknown>[] | undefined } }
  | { type: 'interactive'; interactive: Record<string, unknown> }
  | { type: 'reaction'; reaction: { messageId: string; emoji: string } };

/** Send one message into a conversation. */
export interface SendOutbound {
  /** The conversation's organization. */
  tenantId: string;
  /** The conversation; the caller has already checked it may see it. */
  conversationId: string;
  /** The client's key for this message: a retry with the same key returns the first message. */
  idempotencyKey: string;
  /** Who writes. */
  sender: { type: 'agent' | 'ai' | 'system'; id: string | null };
  content: OutgoingContent;
  /** Our id of the customer's (or our) message this one answers, in the same conversation. */
  replyToMessageId?: string | null | undefined;
  /** Text messages: kept in the message's content beside what the channel carries, and announced with it (an AI answer's sources); never sent. */
  annotations?: Record<string, unknown> | undefined;
}

/** The stored message after the send, and whether it came from an earlier request with the same key. */
export interface SendOutcome {
  message: Message;
  replayed: boolean;
}

/** The `_id` an idempotency key gives a message. */
export const outboundMessageId = (tenantId: string, idempotencyKey: string): string => naturalId('outbound', tenantId, idempotencyKey);

/** How long a retry waits for the first request's send to settle before answering it as pending. */
const SETTLE_WAIT_MS = 10_000;

/**
 * Sends a message once per idempotency key. Refusals (closed conversation, outside the
 * messaging window, content the channel cannot carry, no usable account) are errors and store
 * nothing; a provider failure is a stored message with status `failed` and the provider's error.
 */
export async function sendOutbound(cmd: SendOutbound): Promise<SendOutcome> {
  const id = outboundMessageId(cmd.tenantId, cmd.idempotencyKey);
  const earlier = await messages.findOwnedOrNull(cmd.tenantId, id);
  if (earlier) return replay(earlier, cmd.conversationId);
  await assertMessageWithinPlan(cmd.tenantId, cmd.sender.type);

  const conversation = await conversations.findOwned(cmd.tenantId, cmd.conversationId);
  const usable = await usableAccount(conversation);
  const content =
    cmd.content.type === 'template' && conversation.channel === 'whatsapp'
      ? { type: 'template' as const, template: await checkTemplateSend(cmd.tenantId, usable.account, usable.integration, cmd.content.template) }
      : cmd.content;
  const draft = await draftOf({ ...cmd, content }, conversation, id);
  const { created, message } = await askConversation(conversation._id, 'outbound.create', { kind: cmd.content.type, message: draft });
  if (!created) return replay(reviveMessage(message), cmd.conversationId);
  return { message: await deliver(reviveMessage(message), conversation, usable), replayed: false };
}

async function replay(m: Message, conversationId: string): Promise<SendOutcome> {
  if (m.conversation_id !== conversationId) {
    throw ConflictError('This idempotency_key was already used for a message in another conversation; use a new key per message');
  }
  return { message: await settled(m), replayed: true };
}

/** The message once its first request has sent it, or as it is after SETTLE_WAIT_MS. */
async function settled(m: Message): Promise<Message> {
  const end = Date.now() + SETTLE_WAIT_MS;
  let current = m;
  while (current.status === 'pending' && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    current = await messages.findOwned(m.tenant_id, m._id);
  }
  return current;
}

/**
 * Sends a stored pending message through its channel and records the answer through the actor.
 * Refuses private notes and echoes; a message that is no longer pending is answered as it is,
 * so nothing is ever sent twice from here.
 */
export async function deliverMessage(tenantId: string, messageId: string): Promise<Message> {
  const m = await messages.findOwned(tenantId, messageId);
  return deliver(m, await conversations.findOwned(tenantId, m.conversation_id));
}

/** deliverMessage with what the caller has read already (the account it checked before storing the message). */
async function deliver(m: Message, conversation: Conversation, checked?: UsableAccount): Promise<Message> {
  assertDeliverable(m);
  if (m.status !== 'pending') return m;
  const tenantId = m.tenant_id;
  const messageId = m._id;
  // One hand-over per message, whichever process tries: the sweeper and a slow first request never both send.
  const { granted } = await askConversation(conversation._id, 'outbound.attempt', { messageId });
  if (!granted) return messages.findOwned(tenantId, messageId);
  let outcome: { status: 'sent'; externalId: string } | { status: 'failed'; error: DeliveryError };
  try {
    const { account, integration } = checked ?? (await usableAccount(conversation));
    const contact = await contacts.findOwned(tenantId, conversation.contact_id);
    const outbound: OutboundMessage = { to: recipientOf(contact), content: channelContent(m) };
    if (m.reply_to_external_id) outbound.replyToExternalId = m.reply_to_external_id;
    const { externalId } = await adapterFor(conversation.channel).send(credentialsFor(account, integration), outbound);
    outcome = { status: 'sent', externalId };
  } catch (err) {
    outcome = { status: 'failed', error: deliveryError(err) };
    logger.warn({ err, tenantId, messageId, channel: conversation.channel }, 'outbound message failed');
  }
  countOutboundSend(conversation.channel, outcome.status);
  const recorded = await askConversation(conversation._id, 'outbound.result', { messageId, outcome });
  // Unchanged: another request settled it first; as stored, then.
  return recorded.message ? reviveMessage(recorded.message) : messages.findOwned(tenantId, messageId);
}

/** How long a message may stay pending before the sweeper takes it for stuck. */
const STUCK_AFTER_MS = 2 * 60_000;

/**
 * Settles sends a crash left pending: a message never handed to the provider is sent now (its
 * one try); one handed over whose answer was never recorded may have reached the customer, so it
 * is marked failed with `outcome_unknown` rather than sent a second time. Answers how many.
 */
export async function sweepStuckSends(now = new Date()): Promise<number> {
  const stuck = await stuckSends(new Date(now.getTime() - STUCK_AFTER_MS), 100);
  for (const m of stuck) {
    try {
      if (!m.send_attempted_at) {
        await deliverMessage(m.tenant_id, m._id);
        continue;
      }
      const error: DeliveryError = {
        code: 'outcome_unknown',
        message: 'The server stopped while handing this message to the provider; it may or may not have been delivered, so it was not sent again. Check with the customer and send it again with a new idempotency_key if needed.',
        retryable: false,
        http_status: null,
      };
      await askConversation(m.conversation_id, 'outbound.result', { messageId: m._id, outcome: { status: 'failed', error } });
    } catch (err) {
      logger.error({ err, messageId: m._id }, 'settling a stuck send failed');
    }
  }
  return stuck.length;
}

/** A failure as the message keeps it: the provider's code and message, or ours for a refusal. */
function deliveryError(err: unknown): DeliveryError {
  if (err instanceof ChannelSendError) return { code: err.providerCode, message: err.message, retryable: err.retryable, http_status: err.httpStatus };
  if (err instanceof AppError) return { code: err.code, message: err.message, retryable: false, http_status: null };
  // A bug or a database failure: the agent sees that it failed, the log has why.
  return { code: 'internal_error', message: 'Sending failed unexpectedly; try again with a new idempotency_key', retryable: true, http_status: null };
}

/** An account a conversation can send through, with its integration. */
interface UsableAccount {
  account: IntegrationAccount;
  integration: Integration;
}

/** The account a conversation sends through: its own, else its channel's default; 422 when none is usable. */
async function usableAccount(c: Conversation): Promise<UsableAccount> {
  const integration = await findIntegration(c.tenant_id, c.channel);
  const accountId = c.account_id ?? integration?.default_account_id ?? null;
  const account = accountId ? await integrationAccounts.findOwnedOrNull(c.tenant_id, accountId) : null;
  if (!account) throw StateError(`The ${c.channel} account of this conversation is no longer connected`);
  if (account.status !== 'active' || !integration?.is_enabled) {
    throw StateError(`The ${c.channel} account "${account.name}" or its integration is disabled; enable it to send`);
  }
  return { account, integration };
}

/** The customer's address on the channel: the phone on WhatsApp when known, else the identity they wrote from. */
function recipientOf(contact: Contact): string {
  if (contact.channel === 'whatsapp') return contact.phone ?? contact.external_id;
  if (contact.channel === 'email') return contact.email ?? contact.external_id;
  return contact.external_id;
}

/** Builds the stored fields of a new message: content in the inbound messages' shape, reply and reaction targets resolved. */
async function draftOf(cmd: SendOutbound, c: Conversation, id: string): Promise<OutboundDraft> {
  const base = {
    _id: id,
    tenant_id: cmd.tenantId,
    sender_type: cmd.sender.type,
    sender_id: cmd.sender.id,
    idempotency_key: cmd.idempotencyKey,
    reply_to_external_id: cmd.replyToMessageId ? await targetExternalId(c, cmd.replyToMessageId, 'reply_to_message_id') : null,
    sent_at: new Date().toISOString(),
  };
  const content = cmd.content;
  switch (content.type) {
    case 'text':
      return { ...base, type: 'text', text: content.text, content: { ...cmd.annotations, ...(c.channel === 'email' ? { email: await emailThreadOf(c) } : {}) } };
    case 'media': {
      const { type, url, mediaId, caption, filename } = content.media;
      const media = { ...(url ? { url } : {}), ...(mediaId ? { providerMediaId: mediaId } : {}), ...(caption ? { caption } : {}), ...(filename ? { filename } : {}) };
      return { ...base, type, text: caption ?? null, content: { media: [media] } };
    }
    case 'template':
      return { ...base, type: 'template', text: null, content: { template: { name: content.template.name, language: content.template.language, components: content.template.components ?? [] } } };
    case 'interactive': {
      const body = content.interactive.body;
      const text = typeof body === 'object' && body !== null && typeof (body as { text?: unknown }).text === 'string' ? (body as { text: string }).text : null;
      return { ...base, type: 'interactive', text, content: { interactive: content.interactive } };
    }
    case 'reaction': {
      const externalId = await targetExternalId(c, content.reaction.messageId, 'reaction.message_id');
      return { ...base, type: 'reaction', text: null, content: { reaction: { messageId: content.reaction.messageId, messageExternalId: externalId, emoji: content.reaction.emoji } } };
    }
  }
}

/** The provider id of a message of this conversation that a reply or reaction points at. */
async function targetExternalId(c: Conversation, messageId: string, field: string): Promise<string> {
  const target = await messages.findOwnedOrNull(c.tenant_id, messageId);
  if (!target || target.conversation_id !== c._id) {
    const message = 'must be the id of a message in this conversation';
    throw BodyFieldError(field, message);
  }
  if (!target.external_id) throw StateError('That message never reached the channel (it has no provider id), so it cannot be answered or reacted to');
  return target.external_id;
}

/** E-mail replies thread under the customer's latest e-mail (RFC 5322 In-Reply-To / References). */
async function emailThreadOf(c: Conversation): Promise<Record<string, unknown>> {
  const [last] = await messages.find({ tenant_id: c.tenant_id, conversation_id: c._id, direction: 'inbound', type: 'email' }, { sent_at: -1, _id: -1 }, 1);
  const email = (last?.content.email ?? null) as { messageId?: string; references?: string[]; subject?: string } | null;
  const subject = email?.subject?.trim() || 'your message';
  return {
    subject: /^re:/i.test(subject) ? subject : `Re: ${subject}`,
    ...(email?.messageId ? { inReplyTo: email.messageId, references: [...(email.references ?? []), email.messageId] } : {}),
  };
}

const MEDIA_TYPES: readonly string[] = ['image', 'audio', 'video', 'document', 'sticker'];

/** The adapter's content for a stored outbound message (the inverse of draftOf). */
function channelContent(m: Message): OutboundContent {
  const content = m.content as Record<string, Record<string, unknown> | Record<string, unknown>[] | undefined>;
  if (m.type === 'text' && m.channel === 'email') {
    const email = (content.email ?? {}) as { subject?: string; inReplyTo?: string; references?: string[] };
    return { type: 'email', subject: email.subject ?? 'Re: your message', text: m.text ?? '', ...(email.inReplyTo ? { inReplyTo: email.inReplyTo } : {}), ...(email.references ? { references: email.references } : {}) };
  }
  if (m.type === 'text') return { type: 'text', text: m.text ?? '' };
  if (MEDIA_TYPES.includes(m.type)) {
    const [media] = (content.media ?? []) as { url?: string; providerMediaId?: string; caption?: string; filename?: string }[];
    return {
      type: 'media',
      mediaType: m.type as MediaType,
      ...(media?.url ? { link: media.url } : {}),
      ...(media?.providerMediaId ? { providerMediaId: media.providerMediaId } : {}),
      ...(media?.caption ? { caption: media.caption } : {}),
      ...(media?.filename ? { filename: media.filename } : {}),
    };
  }
  if (m.type === 'template') {
    const t = content.template as { name: string; language: string; components: unknown[] };
    return { type: 'template', name: t.name, language: t.language, ...(t.components.length ? { components: t.components } : {}) };
  }
  if (m.type === 'interactive') return { type: 'interactive', interactive: content.interactive as Record<string, unknown> };
  if (m.type === 'reaction') {
    const r = content.reaction as { messageExternalId: string; emoji: string };
    return { type: 'reaction', messageExternalId: r.messageExternalId, emoji: r.emoji };
  }
  throw StateError(`A ${m.type} message cannot be sent`);
}

/**
 * Tells the customer's app that the business has read them: WhatsApp's blue ticks on the latest
 * inbound message, Messenger/Instagram "seen". Best effort: a refused receipt is logged, never an
 * error to the agent who read the conversation.
 */
export async function sendReadReceipt(c: Conversation): Promise<void> {
  if (c.channel === 'email') return;
  try {
    const [{ account, integration }, contact] = await Promise.all([usableAccount(c), contacts.findOwned(c.tenant_id, c.contact_id)]);
    const credentials = credentialsFor(account, integration);
    if (c.channel === 'whatsapp') {
      // Same-second provider timestamps are common: the later arrival breaks the tie.
      const [latest] = await messages.find({ tenant_id: c.tenant_id, conversation_id: c._id, direction: 'inbound' }, { sent_at: -1, created_at: -1, _id: -1 }, 1);
      if (latest?.external_id) await markWhatsappRead(credentials, latest.external_id);
    } else {
      await (c.channel === 'messenger' ? markMessengerSeen : markInstagramSeen)(credentials, recipientOf(contact));
    }
  } catch (err) {
    logger.warn({ err, conversation: c._id }, 'read receipt not sent');
  }
}
