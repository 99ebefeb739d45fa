/**
 * WhatsApp Cloud API webhook body -> InboundEvent[].
 * One POST carries `entry[]`, each with `changes[]`; every change with `field: "messages"` holds
 * `messages[]` (from customers, with `contacts[]` naming them) and/or `statuses[]` (of messages we
 * sent), or only `errors[]`. Every entry and change is read; nothing is deduplicated here (Meta
 * retries and may repeat a message id: the caller claims ids exactly once).
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
 */
import { idString, parseJsonKeepingIds } from '../json.js';
import type { InboundEvent, InboundMedia, InboundMessage, InboundSender, InboundStatus } from '../types.js';
import { readTemplateStatuses } from './template-status.js';

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asText = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const asNumber = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** One error object as Meta writes it in messages, statuses and errors-only changes. */
export interface WhatsappWebhookError {
  code: number | string;
  title?: string;
  message?: string;
  details?: string;
}

/** An errors-only change (no messages, no statuses): a problem on the account, for the log. */
export interface WhatsappAccountError {
  accountExternalId: string;
  errors: WhatsappWebhookError[];
}

const MEDIA_TYPES = ['image', 'audio', 'video', 'document', 'sticker'] as const;
const STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;

/** Parses the body once, keeping 16+ digit ids exact; throws a clear Error for non-JSON (the route answers 400). */
function readBody(rawBody: Buffer): Json | undefined {
  let parsed: unknown;
  try {
    parsed = parseJsonKeepingIds(rawBody.toString('utf8'));
  } catch {
    throw new Error('WhatsApp webhook body is not valid JSON');
  }
  return asObject(parsed);
}

/** The `value` of every `field: "messages"` change, with the receiving account it names. */
function messageChanges(body: Json | undefined): { account: string; value: Json }[] {
  const out: { account: string; value: Json }[] = [];
  for (const entry of asArray(body?.entry)) {
    const e = asObject(entry);
    for (const change of asArray(e?.changes)) {
      const c = asObject(change);
      const value = asObject(c?.value);
      // Other fields (account_update, message_template_status_update, ...) are not conversations.
      if (!c || c.field !== 'messages' || !value) continue;
      // phone_number_id routes to the tenant; the WABA id (entry.id) is the fallback so an event
      // without metadata still reaches "unknown account" handling instead of vanishing.
      const account = idString(asObject(value.metadata)?.phone_number_id) ?? idString(e?.id) ?? '';
      out.push({ account, value });
    }
  }
  return out;
}

/** Meta writes unix seconds as strings; answer RFC 3339 UTC. */
function toIso(ts: unknown): string {
  const seconds = asNumber(ts);
  // A missing timestamp is not documented; receipt time keeps ordering sane instead of 1970.
  return new Date(seconds === undefined ? Date.now() : seconds * 1000).toISOString();
}

function readErrors(v: unknown): WhatsappWebhookError[] {
  const out: WhatsappWebhookError[] = [];
  for (const item of asArray(v)) {
    const e = asObject(item);
    if (!e) continue;
    const code = typeof e.code === 'number' || typeof e.code === 'string' ? e.code : 'unknown';
    const err: WhatsappWebhookError = { code };
    const title = asText(e.title);
    const message = asText(e.message);
    const details = asText(asObject(e.error_data)?.details) ?? asText(e.details);
    if (title) err.title = title;
    if (message) err.message = message;
    if (details) err.details = details;
    out.push(err);
  }
  return out;
}

/**
 * The sender: `from`/`wa_id` is the phone when Meta shares it; users with a username may come
 * with only the business-scoped user id (`from_user_id`, `contacts[].user_id`). The key is the
 * phone when present (the identity every older webhook used), otherwise the BSUID; `bsuid` is set
 * whenever given so the contact layer can merge both identities.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids
 */
function readSender(message: Json, contacts: Json[]): InboundSender | undefined {
  const from = idString(message.from);
  const fromUser = idString(message.from_user_id) ?? idString(message.from_parent_user_id);
  const contact =
    contacts.find((c) => (from !== undefined && idString(c.wa_id) === from) || (fromUser !== undefined && (idString(c.user_id) === fromUser || idString(c.parent_user_id) === fromUser))) ??
    (contacts.length === 1 ? contacts[0] : undefined);
  const phone = from ?? idString(contact?.wa_id);
  const bsuid = idString(message.from_user_id) ?? idString(contact?.user_id) ?? idString(message.from_parent_user_id) ?? idString(contact?.parent_user_id);
  const externalId = phone ?? bsuid;
  if (externalId === undefined) return undefined;
  const sender: InboundSender = { externalId };
  if (phone !== undefined) sender.phone = phone;
  if (bsuid !== undefined) sender.bsuid = bsuid;
  const profile = asObject(contact?.profile);
  const name = asText(profile?.name);
  const username = asText(profile?.username);
  if (name) sender.name = name;
  if (username) sender.username = username;
  return sender;
}

function readMedia(part: Json | undefined): InboundMedia {
  const media: InboundMedia = {};
  const id = idString(part?.id);
  const url = asText(part?.url);
  const mimeType = asText(part?.mime_type);
  const filename = asText(part?.filename);
  const caption = asText(part?.caption);
  const sha256 = asText(part?.sha256);
  if (id) media.providerMediaId = id;
  if (url) media.url = url;
  if (mimeType) media.mimeType = mimeType;
  if (filename) media.filename = filename;
  if (caption) media.caption = caption;
  if (sha256) media.sha256 = sha256;
  return media;
}

function unsupportedReason(message: Json, type: string): string {
  const err = readErrors(message.errors)[0];
  // `unsupported.type` says what the customer did (e.g. "edit", "poll_creation"): worth showing the agent.
  const inner = asText(asObject(message.unsupported)?.type);
  if (err) return [`${err.code}`, err.title, err.details ?? err.message].filter(Boolean).join(': ') + (inner ? ` (${inner})` : '');
  if (inner) return `unsupported message type ${inner}`;
  if (type === 'system') return `system message: ${asText(asObject(message.system)?.body) ?? asText(asObject(message.system)?.type) ?? 'unknown'}`;
  return `message type ${type} is not handled`;
}

/** Fills the content fields of `out` from one message; answers false when the type is not one we handle. */
function readContent(message: Json, type: string, out: InboundMessage): boolean {
  if (type === 'text') {
    out.text = asText(asObject(message.text)?.body) ?? '';
    return true;
  }
  if ((MEDIA_TYPES as readonly string[]).includes(type)) {
    const media = readMedia(asObject(message[type]));
    out.media = [media];
    if (media.caption) out.text = media.caption;
    return true;
  }
  if (type === 'location') {
    const loc = asObject(message.location);
    const latitude = asNumber(loc?.latitude);
    const longitude = asNumber(loc?.longitude);
    if (latitude === undefined || longitude === undefined) return false;
    out.location = { latitude, longitude };
    const name = asText(loc?.name);
    const address = asText(loc?.address);
    const url = asText(loc?.url);
    if (name) out.location.name = name;
    if (address) out.location.address = address;
    if (url) out.location.url = url;
    return true;
  }
  if (type === 'contacts') {
    out.contacts = asArray(message.contacts);
    return true;
  }
  if (type === 'interactive') {
    const interactive = asObject(message.interactive);
    const kind = asText(interactive?.type);
    const reply = kind === 'button_reply' || kind === 'list_reply' ? asObject(interactive?.[kind]) : undefined;
    if (reply) {
      out.choice = {};
      const id = asText(reply.id);
      const title = asText(reply.title);
      if (id) out.choice.id = id;
      if (title) out.choice.title = title;
      if (title) out.text = title;
      return true;
    }
    // WhatsApp Flows answer with nfm_reply: the form's JSON is the payload.
    const nfm = kind === 'nfm_reply' ? asObject(interactive?.nfm_reply) : undefined;
    if (nfm) {
      out.choice = {};
      const name = asText(nfm.name);
      const payload = asText(nfm.response_json);
      if (name) out.choice.id = name;
      if (payload) out.choice.payload = payload;
      const body = asText(nfm.body);
      if (body) out.text = body;
      return true;
    }
    return false;
  }
  if (type === 'button') {
    // Quick-reply button of a template: `text` is the label, `payload` what the template set.
    const button = asObject(message.button);
    out.choice = {};
    const title = asText(button?.text);
    const payload = asText(button?.payload);
    if (title) {
      out.choice.title = title;
      out.text = title;
    }
    if (payload) out.choice.payload = payload;
    return true;
  }
  if (type === 'reaction') {
    const reaction = asObject(message.reaction);
    const target = idString(reaction?.message_id);
    if (target === undefined) return false;
    // Removing a reaction arrives without `emoji` (or with an empty one): null means "removed".
    out.reaction = { messageExternalId: target, emoji: asText(reaction?.emoji) ?? null };
    return true;
  }
  return false;
}

function readMessage(account: string, message: Json, contacts: Json[]): InboundMessage | undefined {
  const externalId = idString(message.id);
  const sender = readSender(message, contacts);
  // Without a message id or any sender identity there is nothing to store or answer.
  if (externalId === undefined || sender === undefined) return undefined;
  const type = asText(message.type) ?? 'unknown';
  const out: InboundMessage = { kind: 'message', channel: 'whatsapp', accountExternalId: account, externalId, sender, timestamp: toIso(message.timestamp), type: 'unsupported' };
  if (readContent(message, type, out)) {
    out.type = type as InboundMessage['type'];
  } else {
    out.type = 'unsupported';
    out.unsupportedReason = unsupportedReason(message, type);
  }
  const replyTo = idString(asObject(message.context)?.id);
  if (replyTo !== undefined) out.replyToExternalId = replyTo;
  return out;
}

function readStatus(account: string, status: Json): InboundStatus | undefined {
  const value = asText(status.status);
  // Other values (e.g. "played" for voice) do not change our delivery state.
  if (!value || !(STATUSES as readonly string[]).includes(value)) return undefined;
  const messageExternalId = idString(status.id);
  if (messageExternalId === undefined) return undefined;
  const out: InboundStatus = { kind: 'status', channel: 'whatsapp', accountExternalId: account, messageExternalId, status: value as InboundStatus['status'], timestamp: toIso(status.timestamp) };
  // recipient_id is the phone when we sent to a phone; a send to a BSUID names it in recipient_user_id.
  const recipient = idString(status.recipient_id) ?? idString(status.recipient_user_id) ?? idString(status.parent_recipient_user_id);
  if (recipient !== undefined) out.recipientExternalId = recipient;
  const errors = readErrors(status.errors);
  if (errors.length > 0) out.errors = errors;
  return out;
}

/** Turns a (verified) WhatsApp webhook body into events, one per message and per status, in body order, then its template status updates. */
export function parseWhatsappWebhook(rawBody: Buffer): InboundEvent[] {
  const events: InboundEvent[] = [];
  const body = readBody(rawBody);
  for (const { account, value } of messageChanges(body)) {
    const contacts = asArray(value.contacts).map(asObject).filter((c): c is Json => c !== undefined);
    for (const m of asArray(value.messages)) {
      const message = asObject(m);
      const event = message ? readMessage(account, message, contacts) : undefined;
      if (event) events.push(event);
    }
    for (const s of asArray(value.statuses)) {
      const status = asObject(s);
      const event = status ? readStatus(account, status) : undefined;
      if (event) events.push(event);
    }
  }
  events.push(...readTemplateStatuses(body));
  return events;
}

/** The account-level `errors[]` of changes that carry them (Meta's way of reporting e.g. rate limits), for the log. */
export function parseWhatsappWebhookErrors(rawBody: Buffer): WhatsappAccountError[] {
  const out: WhatsappAccountError[] = [];
  for (const { account, value } of messageChanges(readBody(rawBody))) {
    const errors = readErrors(value.errors);
    if (errors.length > 0) out.push({ accountExternalId: account, errors });
  }
  return out;
}
