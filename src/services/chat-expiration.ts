/**
 * Chat expiration: a rule per channel ("expire after N hours without a customer reply", with an
 * optional closing message), and the one function that expires idle conversations, which both
 * the periodic sweeper (jobs/chat-expiration.job.ts) and POST /api/conversations/expire call.
 *
 * "Without a customer reply" counts from the customer's last message (Rocket.Chat's "close
 * abandoned rooms after no visitor reply", rather than Chatwoot's auto-resolve on any activity):
 * an agent who keeps writing to a customer who does not answer does not keep the chat alive. A
 * conversation the customer never wrote in counts from its last message, or its creation.
 *
 * Every expiry goes through the conversation's actor, which re-checks idleness on its current
 * state, so a customer who writes during a sweep keeps their conversation. The closing message
 * goes through the shared send path with a key per conversation, so a rerun never sends it twice,
 * and only while the channel allows it (WhatsApp, Messenger and Instagram: within 24 hours of the
 * customer's last message); when it cannot go, the conversation expires without it.
 */
import type { ChannelName } from '../../channels/types.js';
import { META_CHANNELS } from '../models/integration.js';
import { AppError, FieldStateError } from '../errors.js';
import { naturalId } from '../ids.js';
import { logger } from '../logger.js';
import { chatExpirationRules, enabledExpirationRules, saveExpirationRule, type ChatExpirationRule } from '../models/chat-expiration-rule.js';
import { conversations, findConversationById, type Conversation } from '../models/conversation.js';
import type { Scoped } from '../models/repo.js';
import { lastActivityOf } from '../../actors/conversation/lifecycle.js';
import { CUSTOMER_SERVICE_WINDOW_MS } from '../../channels/whatsapp/index.js';
import { changeConversation } from './conversations.js';
import { sendOutbound } from './outbound.js';

/** Most conversations one call expires; the answer says when more remain. */
export const EXPIRE_BATCH = 500;

/** How many conversations are expired at the same time. */
const PARALLEL = 8;

/** Who acts on the organization's settings. */
interface TenantCommand {
  /** The caller's organization. */
  tenantId: string;
}

/** The organization's rules, one per configured channel, in channel order. */
export async function listExpirationRules(cmd: TenantCommand): Promise<ChatExpirationRule[]> {
  return chatExpirationRules.find({ tenant_id: cmd.tenantId }, { channel: 1, _id: 1 });
}

/** Create or replace the rule of one channel. */
export interface UpsertExpirationRule extends TenantCommand {
  channel: ChannelName;
  enabled: boolean;
  expireAfterHours: number;
  closingMessage: string | null;
}

/**
 * Writes the channel's rule (201 when new). A closing message that the channel's window could
 * never let through is a 422: on Meta channels a free-form message goes only within 24 hours of
 * the customer's last message, so with 24 hours or more of silence it would always be dropped.
 */
export async function upsertExpirationRule(cmd: UpsertExpirationRule): Promise<{ created: boolean; rule: ChatExpirationRule }> {
  const windowHours = CUSTOMER_SERVICE_WINDOW_MS / 3_600_000;
  if (cmd.closingMessage && META_CHANNELS.includes(cmd.channel) && cmd.expireAfterHours >= windowHours) {
    throw FieldStateError(
      'closing_message',
      `could never be sent: on ${cmd.channel} a free-form message goes only within ${windowHours} hours of the customer's last message, and this rule waits ${cmd.expireAfterHours}; use fewer than ${windowHours} hours or no closing message`,
    );
  }
  const id = naturalId('chat-expiration-rule', cmd.tenantId, cmd.channel);
  const created = await saveExpirationRule(
    { _id: id, tenant_id: cmd.tenantId, channel: cmd.channel, enabled: cmd.enabled, expire_after_hours: cmd.expireAfterHours, closing_message: cmd.closingMessage },
    new Date(),
  );
  return { created, rule: await chatExpirationRules.findOwned(cmd.tenantId, id) };
}

/** One expiry run over one organization's conversations. */
export interface ExpireIdle extends TenantCommand {
  /** Conversations whose customer has been silent since before this time. */
  cutoff: Date;
  /** Only this channel's conversations (a rule); all channels when absent. */
  channel?: ChannelName;
  /** Narrows the candidates further (the conversations a caller may see). */
  scope?: Record<string, unknown>;
  /** The closing message to send first, per channel (from the enabled rules). */
  closingMessages: Partial<Record<ChannelName, string>>;
}

/** What an expiry run did. */
export interface ExpireOutcome {
  expired: string[];
  /** Closing messages this run sent (a rerun finds them sent and sends none). */
  closingSent: number;
  hasMore: boolean;
}

/** The idle filter: the customer's last message, else the last message, else creation, before the cutoff. */
const idleSince = (cutoff: Date) => [
  { last_inbound_at: { $lt: cutoff } },
  { last_inbound_at: null, last_message_at: { $lt: cutoff } },
  { last_inbound_at: null, last_message_at: null, created_at: { $lt: cutoff } },
];

/**
 * Expires open and pending conversations idle since before the cutoff, oldest first, at most
 * EXPIRE_BATCH, each through its actor (sending the channel's closing message first when there
 * is one). One conversation's failure is logged and leaves it for the next run.
 */
export async function expireIdleConversations(cmd: ExpireIdle): Promise<ExpireOutcome> {
  const filter: Scoped = {
    ...(cmd.scope ?? {}),
    tenant_id: cmd.tenantId,
    ...(cmd.channel ? { channel: cmd.channel } : {}),
    status: { $in: ['open', 'pending'] },
    $and: [{ $or: idleSince(cmd.cutoff) }],
  };
  const candidates = await conversations.find(filter, { last_message_at: 1, _id: 1 }, EXPIRE_BATCH + 1);
  const batch = candidates.slice(0, EXPIRE_BATCH);
  const outcome: ExpireOutcome = { expired: [], closingSent: 0, hasMore: candidates.length > EXPIRE_BATCH };
  const results = new Array<string | null>(batch.length).fill(null);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < batch.length; i = next++) {
      const c = batch[i] as Conversation;
      try {
        const { expired, closingSent } = await expireOne(c, cmd.cutoff, cmd.closingMessages[c.channel]);
        if (expired) results[i] = c._id;
        if (closingSent) outcome.closingSent += 1;
      } catch (err) {
        logger.error({ err, conversation: c._id }, 'conversation expiry failed');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, batch.length) }, worker));
  outcome.expired = results.filter((id): id is string => id !== null);
  return outcome;
}

/** The key of a conversation's one closing message. */
const closingKey = (conversationId: string) => `chat-expiration:${conversationId}`;

/** Sends the closing message (if any, and allowed), then expires through the actor. */
async function expireOne(c: Conversation, cutoff: Date, closing: string | undefined): Promise<{ expired: boolean; closingSent: boolean }> {
  let closingSent = false;
  // Only to a customer who wrote: our own message would otherwise be the activity the idle check reads.
  if (closing && c.last_inbound_at) {
    const current = await findConversationById(c._id);
    if (!current || (current.status !== 'open' && current.status !== 'pending') || lastActivityOf(current) >= cutoff) return { expired: false, closingSent };
    try {
      const { message, replayed } = await sendOutbound({
        tenantId: c.tenant_id,
        conversationId: c._id,
        idempotencyKey: closingKey(c._id),
        sender: { type: 'system', id: null },
        content: { type: 'text', text: closing },
      });
      closingSent = !replayed && message.status !== 'failed';
    } catch (err) {
      // Refused by the channel's rules (outside the window, a disconnected account): expire without it.
      if (!(err instanceof AppError && err.status < 500)) throw err;
      logger.info({ conversation: c._id, reason: err.message }, 'closing message not sent');
    }
  }
  const reply = await changeConversation(c._id, 'set_status', { status: 'expired', idleSince: cutoff.toISOString() });
  return { expired: reply.changed, closingSent };
}

/** The closing messages of a tenant's enabled rules, per channel. */
export async function closingMessagesOf(tenantId: string): Promise<Partial<Record<ChannelName, string>>> {
  const rules = await chatExpirationRules.find({ tenant_id: tenantId, enabled: true });
  return Object.fromEntries(rules.filter((r) => r.closing_message).map((r) => [r.channel, r.closing_message as string]));
}

/** What one sweep did. */
export interface SweepReport {
  rules: number;
  expired: number;
  closingSent: number;
}

/**
 * Applies every enabled rule of every organization: each channel's conversations silent for
 * longer than its rule, batch after batch until none remain or the budget is spent.
 */
export async function applyExpirationRules(now = new Date(), budgetMs = 40_000): Promise<SweepReport> {
  const began = Date.now();
  const rules = await enabledExpirationRules();
  const report: SweepReport = { rules: rules.length, expired: 0, closingSent: 0 };
  for (const rule of rules) {
    const cutoff = new Date(now.getTime() - rule.expire_after_hours * 3_600_000);
    const closingMessages = rule.closing_message ? { [rule.channel]: rule.closing_message } : {};
    for (;;) {
      const done = await expireIdleConversations({ tenantId: rule.tenant_id, channel: rule.channel, cutoff, closingMessages });
      report.expired += done.expired.length;
      report.closingSent += done.closingSent;
      if (!done.hasMore || done.expired.length === 0 || Date.now() - began > budgetMs) break;
    }
    if (Date.now() - began > budgetMs) break;
  }
  return report;
}
