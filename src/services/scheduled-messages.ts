/**
 * Scheduled messages: an agent writes a message now for a later instant. Scheduling checks what
 * can be judged now (the conversation takes replies, the channel carries this kind of message,
 * the instant is ahead and not too far); the messaging window is judged when it is due, by the
 * send path, because the customer may write again before then. Sending is the sweeper's
 * (scheduled-dispatch.ts); cancelling takes it back while it still waits.
 */
import { DateTime } from 'luxon';
import type { Principal } from '../auth/principal.js';
import { AppError, BodyFieldError, ConflictError, isDuplicateKey, NotFoundError, StateError } from '../errors.js';
import { naturalId } from '../ids.js';
import type { Page } from '../models/repo.js';
import { cancelScheduled, scheduledMessages, type ScheduledMessage, type ScheduledStatus } from '../models/scheduled-message.js';
import { findTenant } from '../models/tenant.js';
import { findVisibleConversation } from './conversation-access.js';
import type { OutgoingContent } from './outbound.js';
import { assertChannelSupports, assertConversationAcceptsReplies } from './outbound-rules.js';
import { checkConversationTemplate } from './wa-template-sends.js';
import { appendOutbox, scheduledStatusEvent } from './scheduled-events.js';

/** How far ahead a message may be scheduled. */
export const MAX_SCHEDULE_AHEAD_DAYS = 365;

/** Who acts, in which organization. */
interface Acting {
  /** The caller's organization. */
  tenantId: string;
  /** The caller; decides which conversations are visible. */
  principal: Principal;
}

/** A scheduled message with the tenant's time zone it is rendered in. */
export interface ScheduledView {
  scheduled: ScheduledMessage;
  /** The tenant's current time zone (send_at_local uses it). */
  timeZone: string;
}

/** Schedule one message. */
export interface ScheduleMessage extends Acting {
  conversationId: string;
  content: OutgoingContent;
  replyToMessageId?: string | undefined;
  /** The client's key: a retry with the same key answers the first schedule and schedules nothing. */
  idempotencyKey: string;
  /** ISO 8601 with an offset (an instant), or a local date-time read in the tenant's time zone. */
  sendAt: string;
  /** The time the request is judged at (tests inject it). */
  now?: Date;
}

const OFFSET = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * The instant `text` names: with an offset it is that instant; without, a wall-clock time in
 * `zone`. A local time that does not exist there (skipped by a daylight-saving change) is a 400;
 * one that happens twice (clocks turned back) is the earlier instant, as luxon reads it.
 */
export function resolveSendAt(text: string, zone: string): Date {
  const hasOffset = OFFSET.test(text);
  const dt = hasOffset ? DateTime.fromISO(text, { setZone: true }) : DateTime.fromISO(text, { zone });
  if (!dt.isValid) throw BodyFieldError('send_at', 'must be an ISO 8601 date-time, e.g. 2025-01-31T09:00:00+07:00, or a local 2025-01-31T09:00 in the organization’s time zone');
  if (!hasOffset) {
    const asWritten = DateTime.fromISO(text, { zone: 'UTC' });
    if (dt.toFormat("yyyy-MM-dd'T'HH:mm:ss") !== asWritten.toFormat("yyyy-MM-dd'T'HH:mm:ss")) {
      throw BodyFieldError('send_at', `does not exist in ${zone} (the clocks skip it for daylight saving); choose another time`);
    }
  }
  return dt.toJSDate();
}

/** 400 unless `at` lies after `now` and at most MAX_SCHEDULE_AHEAD_DAYS ahead. */
function assertSchedulable(at: Date, now: Date): void {
  if (at.getTime() <= now.getTime()) throw BodyFieldError('send_at', `must be in the future (it is ${at.toISOString()}; now is ${now.toISOString()})`);
  if (at.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_DAYS * 86_400_000) {
    throw BodyFieldError('send_at', `must be at most ${MAX_SCHEDULE_AHEAD_DAYS} days ahead`);
  }
}

/** The text a content carries, for the channel's length limit. */
const textOf = (c: OutgoingContent): string | null => (c.type === 'text' ? c.text : c.type === 'media' ? (c.media.caption ?? null) : null);

/** The tenant's time zone. */
async function timeZoneOf(tenantId: string): Promise<string> {
  const tenant = await findTenant(tenantId);
  if (!tenant) throw NotFoundError('Organization');
  return tenant.timezone;
}

/**
 * Schedules a message into a conversation the caller may see; `replayed` when an earlier request
 * with the same key already did (the same conversation; another one is a 409).
 */
export async function scheduleMessage(cmd: ScheduleMessage): Promise<{ view: ScheduledView; replayed: boolean }> {
  const c = await findVisibleConversation(cmd.principal, cmd.conversationId);
  const id = naturalId('scheduled-message', cmd.tenantId, cmd.idempotencyKey);
  const timeZone = await timeZoneOf(cmd.tenantId);
  const earlier = await scheduledMessages.findOwnedOrNull(cmd.tenantId, id);
  if (earlier) return replay(earlier, c._id, timeZone);

  const now = cmd.now ?? new Date();
  const sendAt = resolveSendAt(cmd.sendAt, timeZone);
  assertSchedulable(sendAt, now);
  assertConversationAcceptsReplies(c);
  assertChannelSupports(c.channel, cmd.content.type, textOf(cmd.content));
  // Checked again when it is sent: the template may be paused or rejected by then.
  if (cmd.content.type === 'template') await checkConversationTemplate(c, cmd.content.template);
  try {
    const scheduled = await scheduledMessages.insert({
      _id: id,
      tenant_id: cmd.tenantId,
      conversation_id: c._id,
      created_by: cmd.principal.userId,
      idempotency_key: cmd.idempotencyKey,
      content: cmd.content,
      reply_to_message_id: cmd.replyToMessageId ?? null,
      send_at: sendAt,
      time_zone: timeZone,
      status: 'scheduled',
      claim_token: null,
      claimed_at: null,
      claimed_by: null,
      attempts: 0,
      message_id: null,
      failure: null,
      finished_at: null,
      cancelled_at: null,
      cancelled_by: null,
    });
    return { view: { scheduled, timeZone }, replayed: false };
  } catch (err) {
    // A concurrent retry with the same key won the claim.
    if (!isDuplicateKey(err)) throw err;
    return replay(await scheduledMessages.findOwned(cmd.tenantId, id), c._id, timeZone);
  }
}

function replay(s: ScheduledMessage, conversationId: string, timeZone: string): { view: ScheduledView; replayed: boolean } {
  if (s.conversation_id !== conversationId) {
    throw ConflictError('This idempotency_key was already used to schedule a message in another conversation; use a new key per message');
  }
  return { view: { scheduled: s, timeZone }, replayed: true };
}

/** List one conversation's scheduled messages. */
export interface ListScheduledMessages extends Acting {
  conversationId: string;
  status?: ScheduledStatus | undefined;
  page: number;
  limit: number;
}

/** A conversation's scheduled messages in send_at order, optionally of one status. */
export async function listScheduledMessages(q: ListScheduledMessages): Promise<{ page: Page<ScheduledMessage>; timeZone: string }> {
  const c = await findVisibleConversation(q.principal, q.conversationId);
  const filter = { tenant_id: q.tenantId, conversation_id: c._id, ...(q.status ? { status: q.status } : {}) };
  const [page, timeZone] = await Promise.all([scheduledMessages.page(filter, { send_at: 1, _id: 1 }, q.page, q.limit), timeZoneOf(q.tenantId)]);
  return { page, timeZone };
}

/** Cancel one scheduled message. */
export interface CancelScheduledMessage extends Acting {
  id: string;
}

/**
 * Cancels a message that still waits for its time. One in a conversation the caller may not see
 * is a 404 like another tenant's; one already being sent, sent, failed or cancelled is a 422
 * naming its status (nothing changes). The cancel emits `scheduled_message.cancelled` once.
 */
export async function cancelScheduledMessage(cmd: CancelScheduledMessage): Promise<ScheduledView> {
  const s = await scheduledMessages.findOwned(cmd.tenantId, cmd.id);
  try {
    await findVisibleConversation(cmd.principal, s.conversation_id);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) throw NotFoundError('Scheduled message');
    throw err;
  }
  const at = new Date();
  const change = { status: 'cancelled' as const, cancelled_at: at, cancelled_by: cmd.principal.userId, updated_at: at };
  const outbox = s.status === 'scheduled' ? [await scheduledStatusEvent({ ...s, ...change })] : [];
  const cancelled = s.status === 'scheduled' ? await cancelScheduled(s._id, change.cancelled_by, at, outbox) : null;
  if (!cancelled) {
    const now = await scheduledMessages.findOwned(cmd.tenantId, cmd.id);
    throw StateError(`The scheduled message is ${now.status}; only a scheduled message that is still waiting can be cancelled`);
  }
  await appendOutbox(cancelled, outbox, at);
  return { scheduled: cancelled, timeZone: await timeZoneOf(cmd.tenantId) };
}
