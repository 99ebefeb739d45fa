/**
 * Messenger and Instagram webhooks share one shape (`object`, `entry[].messaging[]`, or
 * `entry[].standby[]` while another app holds the thread under the handover protocol), so one
 * parser serves both, told which channel it reads for.
 * Messenger: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events
 * Instagram: https://developers.facebook.com/docs/instagram-platform/webhooks/examples
 *
 * Every id is read through `parseJsonKeepingIds`/`idString`: PSIDs, IGSIDs and app ids can be
 * longer than 2^53 and arrive as JSON numbers.
 */
import { idString, parseJsonKeepingIds } from '../json.js';
import { accountsNamed, readMetaRouting } from '../meta-routing.js';
import type { InboundContentType, InboundEvent, InboundMedia, InboundMessage, InboundStatus } from '../types.js';

/** The two channels that speak the Messenger Platform webhook format. */
export type MetaMessagingChannel = 'messenger' | 'instagram';

/** The webhook `object` each channel's payloads carry. */
export const WEBHOOK_OBJECT: Record<MetaMessagingChannel, string> = { messenger: 'page', instagram: 'instagram' };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asObject = (v: unknown): Json => (isObject(v) ? v : {});
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asString = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Meta times are epoch milliseconds; a few Instagram samples use seconds, so small values are scaled. */
function toIso(value: unknown): string | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0) return undefined;
  const ms = n < 1e12 ? n * 1000 : n;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The accounts (Page or Instagram account ids, `entry[].id`) a body names, read before it is verified. */
export async function routedMetaAccounts(rawBody: Buffer, channel: MetaMessagingChannel): Promise<string[]> {
  return accountsNamed(channel, await readMetaRouting(rawBody));
}

/** Parses a verified Messenger (`object: "page"`) or Instagram (`object: "instagram"`) webhook body. */
export function parseMetaMessaging(rawBody: Buffer, channel: MetaMessagingChannel): InboundEvent[] {
  const text = rawBody.toString('utf8');
  let body: unknown;
  try {
    body = parseJsonKeepingIds(text);
  } catch {
    throw new Error(`${channel} webhook body is not JSON`);
  }
  const root = asObject(body);
  // A page payload posted to the Instagram route (or the reverse) is not ours to read.
  if (root.object !== WEBHOOK_OBJECT[channel]) return [];
  const events: InboundEvent[] = [];
  for (const entryValue of asArray(root.entry)) {
    const entry = asObject(entryValue);
    const accountExternalId = idString(entry.id);
    if (!accountExternalId) continue;
    const fallbackTime = toIso(entry.time) ?? new Date(0).toISOString();
    // `standby` carries the same events as `messaging` while another app owns the thread.
    for (const item of [...asArray(entry.messaging), ...asArray(entry.standby)]) {
      if (!isObject(item)) continue;
      events.push(...parseMessagingEvent(item, { channel, accountExternalId, fallbackTime }));
    }
  }
  return events;
}

interface EventContext {
  channel: MetaMessagingChannel;
  accountExternalId: string;
  fallbackTime: string;
}

function parseMessagingEvent(event: Json, ctx: EventContext): InboundEvent[] {
  const senderId = idString(asObject(event.sender).id);
  const recipientId = idString(asObject(event.recipient).id);
  const timestamp = toIso(event.timestamp) ?? ctx.fallbackTime;
  if (isObject(event.message)) {
    const message = parseMessage(event.message, { ...ctx, senderId, recipientId, timestamp });
    return message ? [message] : [];
  }
  if (isObject(event.reaction)) {
    const reaction = parseReaction(event.reaction, { ...ctx, senderId, timestamp });
    return reaction ? [reaction] : [];
  }
  if (isObject(event.postback)) {
    const postback = parsePostback(event.postback, { ...ctx, senderId, timestamp });
    return postback ? [postback] : [];
  }
  if (isObject(event.read)) return parseRead(event.read, { ...ctx, senderId, timestamp });
  if (isObject(event.delivery)) return parseDelivery(event.delivery, { ...ctx, senderId, timestamp });
  // Opt-ins, referrals, handover and policy notices are not conversation content.
  return [];
}

interface MessageContext extends EventContext {
  senderId: string | undefined;
  recipientId?: string | undefined;
  timestamp: string;
}

function baseMessage(ctx: MessageContext, externalId: string, senderId: string, type: InboundContentType): InboundMessage {
  return { kind: 'message', channel: ctx.channel, accountExternalId: ctx.accountExternalId, externalId, sender: { externalId: senderId }, timestamp: ctx.timestamp, type };
}

/**
 * One `message` object: text, attachments, quick reply, reply, story reply/mention, echo,
 * unsend (`is_deleted`) or `is_unsupported`.
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
 */
function parseMessage(message: Json, ctx: MessageContext): InboundMessage | undefined {
  const mid = asString(message.mid);
  if (!mid || !ctx.senderId) return undefined;
  // The unsend names the original mid; a distinct id keeps it from being dropped as a retry of it.
  const deleted = message.is_deleted === true;
  const out = baseMessage(ctx, deleted ? `${mid}#deleted` : mid, ctx.senderId, 'text');
  if (message.is_echo === true) {
    // Echo: the business (our app or another tool) wrote to the customer, who is the recipient.
    // https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes
    out.isEcho = true;
    if (ctx.recipientId) out.recipientExternalId = ctx.recipientId;
  }
  if (deleted) return { ...out, type: 'unsupported', unsupportedReason: `the sender deleted message ${mid} (is_deleted)` };
  const text = asString(message.text);
  if (text !== undefined) out.text = text;
  const replyTo = asObject(message.reply_to);
  const replyMid = asString(replyTo.mid);
  if (replyMid) out.replyToExternalId = replyMid;
  const quickReply = asObject(message.quick_reply);
  const quickPayload = asString(quickReply.payload);
  if (quickPayload !== undefined) out.choice = { payload: quickPayload, ...(text !== undefined ? { title: text } : {}) };

  if (message.is_unsupported === true) {
    return { ...out, type: 'unsupported', unsupportedReason: 'the provider marked this message unsupported (is_unsupported)' };
  }
  const attachments = asArray(message.attachments).filter(isObject);
  if (isObject(replyTo.story)) {
    // Instagram story reply: an answer to one of the account's stories. The story's CDN URL comes
    // first in `media` (it expires with the story); the story id stands in for the replied message.
    // https://developers.facebook.com/docs/instagram-platform/webhooks/examples
    const storyUrl = asString(replyTo.story.url);
    const storyId = idString(replyTo.story.id);
    const media = [...(storyUrl ? [{ url: storyUrl }] : []), ...attachments.map(toMedia).filter((m): m is InboundMedia => m !== undefined)];
    return { ...out, type: 'story_reply', ...(media.length > 0 ? { media } : {}), ...(storyId ? { replyToExternalId: storyId } : {}) };
  }
  if (attachments.length > 0) return applyAttachments(out, attachments, message);
  if (text === undefined) return { ...out, type: 'unsupported', unsupportedReason: 'message without text or attachments' };
  return out;
}

const MEDIA_TYPES: Record<string, InboundContentType> = { image: 'image', video: 'video', audio: 'audio', file: 'document' };
/** Link-like shares: Messenger `fallback`, Instagram `share`, reels and posts. */
const LINK_TYPES = new Set(['fallback', 'share', 'reel', 'ig_reel', 'ig_post', 'post']);

/** Sets type and media from `attachments[]`; the first attachment decides the type. */
function applyAttachments(out: InboundMessage, attachments: Json[], message: Json): InboundMessage {
  const first = attachments[0] as Json;
  const firstType = asString(first.type) ?? '';
  const media: InboundMedia[] = attachments.map(toMedia).filter((m): m is InboundMedia => m !== undefined);
  const withMedia = (type: InboundContentType): InboundMessage => ({ ...out, type, ...(media.length > 0 ? { media } : {}) });
  // Messenger stickers (the thumbs-up included) arrive as image attachments carrying sticker_id.
  if (message.sticker_id !== undefined || asObject(first.payload).sticker_id !== undefined || firstType === 'sticker') return withMedia('sticker');
  const mediaType = MEDIA_TYPES[firstType];
  if (mediaType) return withMedia(mediaType);
  if (firstType === 'story_mention') return withMedia('story_mention');
  if (firstType === 'location') {
    const payload = asObject(first.payload);
    const coordinates = asObject(payload.coordinates);
    const latitude = Number(coordinates.lat);
    const longitude = Number(coordinates.long);
    if (Number.isFinite(latitude) && Number.isFinite(longitude) && coordinates.lat !== undefined && coordinates.long !== undefined) {
      const name = asString(first.title);
      const url = asString(first.url) ?? asString(payload.url);
      return { ...out, type: 'location', location: { latitude, longitude, ...(name ? { name } : {}), ...(url ? { url } : {}) } };
    }
    return { ...out, type: 'unsupported', unsupportedReason: 'location attachment without coordinates' };
  }
  if (LINK_TYPES.has(firstType)) {
    // A shared link or post: keep the URL as the text the agent reads when the customer typed none.
    const link = media[0];
    const text = out.text ?? [link?.caption, link?.url].filter(Boolean).join('\n');
    if (!text) return { ...withMedia('unsupported'), unsupportedReason: `${firstType} attachment without a URL` };
    return { ...withMedia('text'), text };
  }
  return { ...withMedia('unsupported'), unsupportedReason: `attachment type ${firstType || '(none)'} is not supported` };
}

function toMedia(attachment: Json): InboundMedia | undefined {
  const payload = asObject(attachment.payload);
  const url = asString(payload.url) ?? asString(attachment.url);
  const title = asString(payload.title) ?? asString(attachment.title);
  if (!url && !title) return undefined;
  return { ...(url ? { url } : {}), ...(title ? { caption: title } : {}) };
}

/**
 * `message_reactions`: react/unreact naming the reacted message. The event has no id of its own,
 * so one is derived from the target, the action and the time: stable across Meta's retries,
 * distinct from the reacted message.
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reactions
 */
function parseReaction(reaction: Json, ctx: MessageContext): InboundMessage | undefined {
  const mid = asString(reaction.mid);
  if (!mid || !ctx.senderId) return undefined;
  const action = reaction.action === 'unreact' ? 'unreact' : 'react';
  const emoji = action === 'unreact' ? null : asString(reaction.emoji) ?? asString(reaction.reaction) ?? null;
  const externalId = `${mid}#${action}@${Date.parse(ctx.timestamp)}`;
  return { ...baseMessage(ctx, externalId, ctx.senderId, 'reaction'), reaction: { messageExternalId: mid, emoji } };
}

/**
 * `messaging_postbacks`: a tapped postback button, ice breaker or persistent-menu item.
 * Older payloads have no `mid`; then the id is derived from sender and time.
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messaging_postbacks
 */
function parsePostback(postback: Json, ctx: MessageContext): InboundMessage | undefined {
  if (!ctx.senderId) return undefined;
  const title = asString(postback.title);
  const payload = asString(postback.payload);
  const externalId = asString(postback.mid) ?? `postback:${ctx.senderId}@${Date.parse(ctx.timestamp)}`;
  const out = baseMessage(ctx, externalId, ctx.senderId, 'postback');
  out.choice = { ...(title ? { title } : {}), ...(payload !== undefined ? { payload } : {}) };
  if (title) out.text = title;
  return out;
}

function baseStatus(ctx: MessageContext, status: InboundStatus['status']): InboundStatus {
  return {
    kind: 'status',
    channel: ctx.channel,
    accountExternalId: ctx.accountExternalId,
    status,
    timestamp: ctx.timestamp,
    ...(ctx.senderId ? { recipientExternalId: ctx.senderId } : {}),
  };
}

/**
 * Read receipts. Messenger (`message_reads`) gives a watermark: everything sent up to that time
 * is read. Instagram (`messaging_seen`) names the message read by its mid.
 */
function parseRead(read: Json, ctx: MessageContext): InboundStatus[] {
  const mid = asString(read.mid);
  const watermark = toIso(read.watermark);
  if (!mid && !watermark) return [];
  return [{ ...baseStatus(ctx, 'read'), ...(mid ? { messageExternalId: mid } : {}), ...(watermark ? { watermark } : {}) }];
}

/**
 * `message_deliveries` (Messenger only): the mids delivered, when given, and a watermark
 * meaning every message sent before it was delivered.
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-deliveries
 */
function parseDelivery(delivery: Json, ctx: MessageContext): InboundStatus[] {
  const watermark = toIso(delivery.watermark);
  const mids = asArray(delivery.mids).map(asString).filter((m): m is string => m !== undefined);
  const extra = watermark ? { watermark } : {};
  if (mids.length > 0) return mids.map((mid) => ({ ...baseStatus(ctx, 'delivered'), messageExternalId: mid, ...extra }));
  return watermark ? [{ ...baseStatus(ctx, 'delivered'), watermark }] : [];
}
