/**
 * Outbound for Messenger and Instagram through the Graph API Send API, one code path for both.
 *
 * Messenger: `POST {graph}/{version}/{PAGE-ID}/messages` with the Page access token.
 * https://developers.facebook.com/docs/messenger-platform/reference/send-api
 * Instagram: `POST {graph}/{version}/me/messages`, the one path both Instagram set-ups document
 * (Instagram Login on graph.instagram.com with the Instagram user token, and the Page-linked
 * Messenger API for Instagram on graph.facebook.com with the Page token, where `me` is the Page).
 * https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api
 *
 * The token travels as `Authorization: Bearer`: Instagram Login documents exactly that, and the
 * Graph API accepts it for Page tokens too (the WhatsApp Cloud API on the same host documents
 * it); Messenger's samples put `access_token` in the query string, which would copy the token
 * into every proxy and access log on the way.
 */
import { parseJsonOrNull, idString } from '../json.js';
import { ChannelSendError } from '../types.js';
import type { ChannelCredentials, OutboundContent, OutboundMessage, SendResult } from '../types.js';
import type { MetaMessagingChannel } from './parse.js';

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Graph error codes worth retrying later: unknown/service errors (1, 2), rate limits (4, 17, 32,
 * 341, 613, 80002, 80006, 80007, 130429, 131048, 131056) and Messenger's temporary send failure (1200).
 * https://developers.facebook.com/docs/graph-api/guides/error-handling
 * https://developers.facebook.com/docs/messenger-platform/error-codes
 */
const RETRYABLE_CODES = new Set([1, 2, 4, 17, 32, 341, 613, 1200, 80002, 80006, 80007, 130429, 131048, 131056]);
/** Codes that mean the request itself is wrong (permissions, parameters, token, recipient unavailable). */
const PERMANENT_CODES = new Set([10, 100, 190, 200, 230, 368, 551, 2018001, 2018108, 2018278, 2022]);

type GraphBody = Record<string, unknown>;

/** Sends one outbound message; answers the provider's `message_id`. */
export async function sendMetaMessage(channel: MetaMessagingChannel, credentials: ChannelCredentials, message: OutboundMessage): Promise<SendResult> {
  const { content } = message;
  if (content.type === 'reaction') return sendReaction(channel, credentials, message.to, content);
  if (content.type === 'media' && content.caption) {
    // Messenger and Instagram attachments carry no caption: the caption follows as its own text.
    const first = await postMessage(channel, credentials, messageBody(channel, message.to, attachmentMessage(channel, content)));
    try {
      await postMessage(channel, credentials, messageBody(channel, message.to, { text: content.caption }));
    } catch (err) {
      // The attachment is out: retrying the whole send would deliver it twice.
      const reason = err instanceof Error ? err.message : String(err);
      throw new ChannelSendError(`attachment ${first.externalId} sent but its caption failed: ${reason}`, err instanceof ChannelSendError ? err.providerCode : null, false, err instanceof ChannelSendError ? err.httpStatus : null);
    }
    return first;
  }
  return postMessage(channel, credentials, messageBody(channel, message.to, messageContent(channel, content)));
}

/**
 * Shows the customer that their last message was seen (`sender_action: mark_seen`).
 * https://developers.facebook.com/docs/messenger-platform/send-messages/sender-actions
 */
export async function markSeen(channel: MetaMessagingChannel, credentials: ChannelCredentials, to: string): Promise<void> {
  await callSendApi(channel, credentials, { recipient: { id: to }, sender_action: 'mark_seen' });
}

/** `recipient` + `message`; Messenger also wants `messaging_type` (RESPONSE: inside the 24-hour window). */
function messageBody(channel: MetaMessagingChannel, to: string, message: GraphBody): GraphBody {
  return channel === 'messenger' ? { recipient: { id: to }, messaging_type: 'RESPONSE', message } : { recipient: { id: to }, message };
}

function messageContent(channel: MetaMessagingChannel, content: OutboundContent): GraphBody {
  switch (content.type) {
    case 'text':
      return { text: content.text };
    case 'media':
      return attachmentMessage(channel, content);
    case 'quick_replies':
      // https://developers.facebook.com/docs/messenger-platform/send-messages/quick-replies
      return { text: content.text, quick_replies: content.replies.map((r) => ({ content_type: 'text', title: r.title, payload: r.payload })) };
    default:
      // Templates and interactive messages are WhatsApp shapes; e-mail is another channel.
      throw new ChannelSendError(`${channel} cannot send ${content.type} content`, null, false, null);
  }
}

/** Sticker and document map to the Send API's `image` and `file`; by URL (reusable) or uploaded attachment id. */
function attachmentMessage(channel: MetaMessagingChannel, content: Extract<OutboundContent, { type: 'media' }>): GraphBody {
  const type = content.mediaType === 'document' ? 'file' : content.mediaType === 'sticker' ? 'image' : content.mediaType;
  // https://developers.facebook.com/docs/messenger-platform/send-messages#sending_attachments
  if (content.link) return { attachment: { type, payload: { url: content.link, is_reusable: true } } };
  if (content.providerMediaId) return { attachment: { type, payload: { attachment_id: content.providerMediaId } } };
  throw new ChannelSendError(`${channel} media needs a link or an uploaded attachment id`, null, false, null);
}

/**
 * `sender_action: react` with the target `message_id` and an emoji; an empty emoji removes the
 * reaction (`unreact`, payload with `message_id` only).
 * https://developers.facebook.com/docs/messenger-platform/send-messages/sender-actions
 */
async function sendReaction(channel: MetaMessagingChannel, credentials: ChannelCredentials, to: string, content: Extract<OutboundContent, { type: 'reaction' }>): Promise<SendResult> {
  const remove = content.emoji === '';
  const body = remove
    ? { recipient: { id: to }, sender_action: 'unreact', payload: { message_id: content.messageExternalId } }
    : { recipient: { id: to }, sender_action: 'react', payload: { message_id: content.messageExternalId, reaction: content.emoji } };
  const answer = await callSendApi(channel, credentials, body);
  // A reaction has no message of its own when Meta answers without one; derive a stable id
  // that cannot collide with the reacted message.
  const externalId = idString(answer.message_id) ?? `${content.messageExternalId}#${remove ? 'unreact' : 'react'}`;
  return { externalId };
}

async function postMessage(channel: MetaMessagingChannel, credentials: ChannelCredentials, body: GraphBody): Promise<SendResult> {
  const answer = await callSendApi(channel, credentials, body);
  const externalId = idString(answer.message_id);
  // Meta accepted the message; without its id we cannot track it, and a retry would send it twice.
  if (!externalId) throw new ChannelSendError(`${channel} accepted the message but answered no message_id`, null, false, 200);
  return { externalId };
}

function sendUrl(channel: MetaMessagingChannel, credentials: ChannelCredentials): string {
  const base = credentials.graphUrl.replace(/\/+$/, '');
  const sender = channel === 'messenger' ? encodeURIComponent(credentials.accountExternalId) : 'me';
  return `${base}/${encodeURIComponent(credentials.graphVersion)}/${sender}/messages`;
}

async function callSendApi(channel: MetaMessagingChannel, credentials: ChannelCredentials, body: GraphBody): Promise<GraphBody> {
  if (!credentials.accessToken) throw new ChannelSendError(`${channel} account ${credentials.accountExternalId} has no access token`, null, false, null);
  const timeoutMs = typeof credentials.settings?.timeoutMs === 'number' ? credentials.settings.timeoutMs : DEFAULT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(sendUrl(channel, credentials), {
      method: 'POST',
      headers: { authorization: `Bearer ${credentials.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // Network failure or timeout: Meta may or may not have the message; the caller decides on retry.
    throw new ChannelSendError(`${channel} Graph API unreachable: ${err instanceof Error ? err.message : String(err)}`, null, true, null);
  }
  const text = await response.text();
  const json = parseJsonOrNull(text);
  if (!response.ok) throw toChannelSendError(channel, response.status, json, text);
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as GraphBody) : {};
}

/**
 * Maps a Graph error answer (`{ error: { message, type, code, error_subcode, is_transient, fbtrace_id } }`)
 * to a ChannelSendError: retryable for rate limits, temporary failures and 5xx/429 without a
 * permanent code; not for bad parameters, permissions, tokens or unreachable recipients.
 */
export function toChannelSendError(channel: MetaMessagingChannel, httpStatus: number, body: unknown, rawText = ''): ChannelSendError {
  const error = typeof body === 'object' && body !== null && 'error' in body ? (body as { error: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) {
    const retryable = httpStatus >= 500 || httpStatus === 429;
    return new ChannelSendError(`${channel} Graph API answered HTTP ${httpStatus}${rawText ? `: ${rawText.slice(0, 200)}` : ''}`, null, retryable, httpStatus);
  }
  const e = error as Record<string, unknown>;
  const code = typeof e.code === 'number' ? e.code : typeof e.code === 'string' && /^\d+$/.test(e.code) ? Number(e.code) : null;
  const subcode = typeof e.error_subcode === 'number' ? e.error_subcode : null;
  const message = typeof e.message === 'string' ? e.message : `HTTP ${httpStatus}`;
  const permanentCode = code !== null && PERMANENT_CODES.has(code);
  // A permanent subcode (e.g. 2018001 "no matching user") outranks a transient-looking code.
  const permanentSubcode = subcode !== null && PERMANENT_CODES.has(subcode);
  const retryable =
    !permanentSubcode &&
    ((code !== null && RETRYABLE_CODES.has(code)) || e.is_transient === true || (!permanentCode && (httpStatus >= 500 || httpStatus === 429)));
  const detail = subcode !== null ? ` (subcode ${subcode})` : '';
  return new ChannelSendError(`${channel}: ${message}${detail}`, code, retryable, httpStatus);
}
