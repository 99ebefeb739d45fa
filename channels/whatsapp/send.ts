/**
 * Outbound through the WhatsApp Cloud API: messages, mark-as-read and media download.
 * Every call goes to `{graphUrl}/{graphVersion}/...` from the credentials (configuration), so tests
 * run against a local fake Graph API and production against Meta.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages
 */
import { createHash } from 'node:crypto';
import { idString, parseJsonOrNull } from '../json.js';
import { ChannelSendError } from '../types.js';
import type { ChannelCredentials, OutboundContent, OutboundMessage, SendResult } from '../types.js';

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/** How long one Graph call may take before it counts as a (retryable) network failure. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Graph error codes that mean "later may work": 1/2 temporary API errors, 4 app rate limit,
 * 80007 WABA rate limit, 130429 throughput, 131048 spam rate limit, 131056 pair rate limit,
 * 133004 server temporarily unavailable. Everything else 4xx (100 bad parameter, 131026
 * undeliverable, 131047 outside the 24-hour window, ...) will fail the same way again.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
 */
const RETRYABLE_CODES = new Set([1, 2, 4, 80007, 130429, 131048, 131056, 133004]);

/** Maps a Graph error answer (`{ error: { message, type, code, error_subcode, error_data, fbtrace_id } }`) to a ChannelSendError. */
export function graphErrorToSendError(httpStatus: number, body: unknown): ChannelSendError {
  const error = asObject(asObject(body)?.error);
  const code = typeof error?.code === 'number' || typeof error?.code === 'string' ? error.code : null;
  const details = asObject(error?.error_data)?.details;
  const parts = [typeof error?.message === 'string' ? error.message : `Graph API answered HTTP ${httpStatus}`];
  if (typeof details === 'string' && details) parts.push(details);
  const trace = [error?.error_subcode !== undefined ? `subcode ${String(error.error_subcode)}` : '', typeof error?.fbtrace_id === 'string' ? `fbtrace_id ${error.fbtrace_id}` : ''].filter(Boolean);
  const message = parts.join(': ') + (trace.length ? ` (${trace.join(', ')})` : '');
  const retryable = httpStatus >= 500 || httpStatus === 429 || (code !== null && RETRYABLE_CODES.has(Number(code)));
  return new ChannelSendError(message, code, retryable, httpStatus);
}

const base = (c: ChannelCredentials): string => `${c.graphUrl.replace(/\/+$/, '')}/${c.graphVersion}`;

function authHeaders(c: ChannelCredentials): Record<string, string> {
  if (!c.accessToken) throw new ChannelSendError('WhatsApp account has no access token', null, false, null);
  return { authorization: `Bearer ${c.accessToken}` };
}

/** One Graph call; answers the raw response, turning network failures into retryable errors. */
async function graphFetch(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    // The request may or may not have reached Meta; the caller's idempotency key covers a retry.
    throw new ChannelSendError(`Graph API unreachable: ${(err as Error).message}`, null, true, null);
  }
}

/** A Graph call answering JSON; non-2xx becomes a ChannelSendError. Ids stay exact strings. */
async function graphJson(url: string, init: RequestInit): Promise<Json> {
  const res = await graphFetch(url, init);
  const body = parseJsonOrNull(await res.text());
  if (!res.ok) throw graphErrorToSendError(res.status, body);
  const obj = asObject(body);
  if (!obj) throw new ChannelSendError(`Graph API answered HTTP ${res.status} without a JSON object`, null, false, res.status);
  return obj;
}

async function postMessages(c: ChannelCredentials, payload: Json): Promise<Json> {
  return graphJson(`${base(c)}/${c.accountExternalId}/messages`, {
    method: 'POST',
    headers: { ...authHeaders(c), 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
}

/** Business-scoped user ids look like `US.13491208655302741918` (or `US.ENT.…` for parent ids). */
const BSUID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]+$/;

/**
 * The recipient fields: a phone goes in `to`; a business-scoped user id goes in `recipient`
 * (users with a username may never share their phone).
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids
 */
function recipientFields(to: string): Json {
  return BSUID.test(to) ? { recipient: to } : { to };
}

const refuse = (message: string): ChannelSendError => new ChannelSendError(message, null, false, null);

/** WhatsApp limits: 3 reply buttons (title ≤ 20 chars), 10 list rows (title ≤ 24 chars). */
function quickRepliesToInteractive(text: string, replies: { title: string; payload: string }[]): Json {
  if (replies.length === 0) throw refuse('quick replies need at least one reply');
  if (replies.length <= 3 && replies.every((r) => r.title.length <= 20)) {
    return { type: 'button', body: { text }, action: { buttons: replies.map((r) => ({ type: 'reply', reply: { id: r.payload, title: r.title } })) } };
  }
  if (replies.length > 10) throw refuse('WhatsApp lists hold at most 10 choices');
  if (replies.some((r) => r.title.length > 24)) throw refuse('WhatsApp list choices are at most 24 characters');
  return { type: 'list', body: { text }, action: { button: 'Choose', sections: [{ rows: replies.map((r) => ({ id: r.payload, title: r.title })) }] } };
}

/** The `type` and its object of a messages request. */
function contentFields(content: OutboundContent): Json {
  switch (content.type) {
    case 'text':
      return { type: 'text', text: { body: content.text, preview_url: content.previewUrl ?? false } };
    case 'media': {
      if (Boolean(content.link) === Boolean(content.providerMediaId)) throw refuse('media needs exactly one of link or media id');
      const media: Json = content.link ? { link: content.link } : { id: content.providerMediaId };
      if (content.caption) {
        // Audio and stickers cannot carry a caption; refusing beats silently dropping the text.
        if (content.mediaType === 'audio' || content.mediaType === 'sticker') throw refuse(`${content.mediaType} cannot carry a caption`);
        media.caption = content.caption;
      }
      if (content.filename && content.mediaType === 'document') media.filename = content.filename;
      return { type: content.mediaType, [content.mediaType]: media };
    }
    case 'template': {
      const template: Json = { name: content.name, language: { code: content.language } };
      if (content.components && content.components.length > 0) template.components = content.components;
      return { type: 'template', template };
    }
    case 'interactive':
      return { type: 'interactive', interactive: content.interactive };
    case 'reaction':
      return { type: 'reaction', reaction: { message_id: content.messageExternalId, emoji: content.emoji } };
    case 'quick_replies':
      return { type: 'interactive', interactive: quickRepliesToInteractive(content.text, content.replies) };
    case 'email':
      throw refuse('e-mail content cannot be sent on WhatsApp');
  }
}

/** Builds the JSON body of POST /{phone_number_id}/messages for one outbound message. */
export function buildWhatsappMessageBody(message: OutboundMessage): Json {
  const body: Json = { messaging_product: 'whatsapp', recipient_type: 'individual', ...recipientFields(message.to), ...contentFields(message.content) };
  if (message.replyToExternalId) body.context = { message_id: message.replyToExternalId };
  return body;
}

/** Sends one message; answers Meta's message id (`messages[0].id`, a wamid). */
export async function sendWhatsappMessage(credentials: ChannelCredentials, message: OutboundMessage): Promise<SendResult> {
  const answer = await postMessages(credentials, buildWhatsappMessageBody(message));
  const first = asObject(Array.isArray(answer.messages) ? answer.messages[0] : undefined);
  const externalId = idString(first?.id);
  // Accepted without an id: retrying could send twice, so not retryable.
  if (externalId === undefined) throw new ChannelSendError('Graph API accepted the message without a message id', null, false, 200);
  return { externalId };
}

/**
 * Marks a customer's message (and the ones before it) as read, which shows blue ticks.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read
 */
export async function markRead(credentials: ChannelCredentials, messageExternalId: string): Promise<void> {
  const answer = await postMessages(credentials, { messaging_product: 'whatsapp', status: 'read', message_id: messageExternalId });
  if (answer.success !== true) throw new ChannelSendError('Graph API did not confirm the read receipt', null, true, 200);
}

/** What Graph says about a media id: a short-lived download URL and the file's facts. */
export interface WhatsappMediaInfo {
  id: string;
  url: string;
  mimeType?: string;
  /** Hex SHA-256 of the file, as Graph reports it. */
  sha256?: string;
  fileSize?: number;
}

/**
 * Looks up a media id (GET /{media-id}); the URL it answers lives about 5 minutes and needs the token.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media#retrieve-media-url
 */
export async function fetchMediaUrl(credentials: ChannelCredentials, mediaId: string): Promise<WhatsappMediaInfo> {
  // phone_number_id makes Graph check the media belongs to this number.
  const query = new URLSearchParams({ phone_number_id: credentials.accountExternalId });
  const answer = await graphJson(`${base(credentials)}/${encodeURIComponent(mediaId)}?${query}`, { method: 'GET', headers: authHeaders(credentials) });
  if (typeof answer.url !== 'string' || !answer.url) throw new ChannelSendError('Graph API answered a media id without a URL', null, false, 200);
  const info: WhatsappMediaInfo = { id: idString(answer.id) ?? mediaId, url: answer.url };
  if (typeof answer.mime_type === 'string') info.mimeType = answer.mime_type;
  if (typeof answer.sha256 === 'string') info.sha256 = answer.sha256;
  // file_size arrives as a number or a numeric string depending on the API version.
  const size = Number(answer.file_size);
  if (answer.file_size !== undefined && Number.isFinite(size)) info.fileSize = size;
  return info;
}

/** A downloaded media file. */
export interface WhatsappMediaFile extends WhatsappMediaInfo {
  bytes: Buffer;
  /** Whether the bytes hash to Graph's sha256 (null when Graph gave none). */
  checksumOk: boolean | null;
}

/** WhatsApp's largest media (documents) is 100 MB. */
const DEFAULT_MAX_MEDIA_BYTES = 100 * 1024 * 1024;

/** Reads a response body, stopping as soon as it passes `maxBytes` (Graph's file_size may be absent). */
async function readCapped(res: Response, maxBytes: number, mediaId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    // Leaving the loop by throwing cancels the stream, so the rest is never downloaded.
    if (total > maxBytes) throw new ChannelSendError(`media ${mediaId} is larger than ${maxBytes} bytes`, null, false, null);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Downloads a media id's bytes: the URL lookup, then GET of that URL with the same Bearer token. */
export async function downloadMedia(credentials: ChannelCredentials, mediaId: string, maxBytes = DEFAULT_MAX_MEDIA_BYTES): Promise<WhatsappMediaFile> {
  const info = await fetchMediaUrl(credentials, mediaId);
  if (info.fileSize !== undefined && info.fileSize > maxBytes) throw new ChannelSendError(`media ${mediaId} is ${info.fileSize} bytes, above ${maxBytes}`, null, false, null);
  const res = await graphFetch(info.url, { method: 'GET', headers: authHeaders(credentials) });
  if (!res.ok) {
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    throw graphErrorToSendError(res.status, body);
  }
  const bytes = await readCapped(res, maxBytes, mediaId);
  const checksumOk = info.sha256 && /^[0-9a-f]{64}$/i.test(info.sha256) ? createHash('sha256').update(bytes).digest('hex') === info.sha256.toLowerCase() : null;
  return { ...info, mimeType: info.mimeType ?? res.headers.get('content-type') ?? undefined, bytes, checksumOk };
}
