/**
 * Mailgun inbound routes -> InboundEvent[]. A route's forward("https://.../webhook") posts either
 * the fully parsed message (fields below, UTF-8, `attachment-N` files) or, when the URL ends in
 * "mime", the raw message in `body-mime`, which mailparser decodes (charsets, encoded words,
 * transfer encodings, attachments).
 * https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/receive-http
 *
 * Ids: `externalId` is Mailgun's `token` (50 random characters, unique per POST, and the value the
 * signature covers); the RFC 5322 Message-ID is chosen by the sender and goes to `email.messageId`
 * for threading only. Malformed bodies throw an Error (the route answers 400).
 */
import { parseAddressHeader, simpleParser } from 'mailparser';
import type { EmailAddress } from 'mailparser';
import type { InboundEmail, InboundEvent, InboundMedia, InboundMessage, InboundSender, WebhookHeaders } from '../types.js';
import { FormFields, pickFormFields, readFormBody } from './form.js';
import type { FormPart } from './form.js';

/** The most receiving addresses one POST may name (Mailgun posts one per matched route). */
export const MAX_RECIPIENTS = 50;

// A message's text and HTML each stay below this in the message (and so in its events, Redis
// publishes and socket frames); a longer one is cut and `email.truncated` says so. The full
// original stays in the stored delivery.
const MAX_BODY_CHARS = 512 * 1024;

/** What both variants yield before it is addressed to each receiving account. */
interface EmailContent {
  sender: InboundSender;
  /** What an agent reads first: the reply without the quoted thread when Mailgun could strip it. */
  text: string | undefined;
  email: InboundEmail;
  media: InboundMedia[];
}

/** The SMTP envelope and signature fields common to both variants. */
interface Envelope {
  recipients: string[];
  token: string;
  timestamp: string;
}

/** Parses a verified Mailgun route POST (parsed fields or raw MIME) into one `email` message per receiving address. */
export async function parseMailgunWebhook(rawBody: Buffer, headers: WebhookHeaders): Promise<InboundEvent[]> {
  const form = new FormFields(readFormBody(rawBody, headers));
  const envelope = readEnvelope(form);
  const mime = form.part('body-mime');
  const content = mime ? await readMimeVariant(mime, form) : readParsedVariant(form);
  return envelope.recipients.map((account): InboundMessage => {
    const message: InboundMessage = {
      kind: 'message',
      channel: 'email',
      accountExternalId: account,
      externalId: envelope.token,
      sender: content.sender,
      timestamp: new Date(Number(envelope.timestamp) * 1000).toISOString(),
      type: 'email',
      email: { ...content.email, messageId: content.email.messageId || envelope.token },
    };
    if (content.text !== undefined) message.text = cut(content.text, message.email as InboundEmail);
    if (content.media.length > 0) message.media = content.media;
    return message;
  });
}

/** `text` cut to MAX_BODY_CHARS, marking `email` truncated when it was. */
function cut(text: string, email: InboundEmail): string {
  if (text.length <= MAX_BODY_CHARS) return text;
  email.truncated = true;
  return text.slice(0, MAX_BODY_CHARS);
}

/** A bare `local@domain` token: an `@` with something on both sides, no brackets or parentheses. */
function isBareMessageId(token: string): boolean {
  // Checked by hand: the pattern /^[^()<>\s]+@[^()<>\s]+$/ backtracks quadratically on `a@a@a@…(`.
  const at = token.indexOf('@', 1);
  return at > 0 && at < token.length - 1 && !/[()<>]/.test(token);
}

// Room for a thread of about a thousand messages' ids.
const MAX_ID_HEADER_CHARS = 64 * 1024;

/** Message-IDs in a header value, angle brackets stripped: References lists several, In-Reply-To may add comments. */
export function extractMessageIds(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(' ') : (value ?? '');
  // Threading needs the newest ids, which References lists last; a longer header is cut from the
  // front so a crafted megabyte header costs no more than a real one.
  const text = joined.length > MAX_ID_HEADER_CHARS ? joined.slice(-MAX_ID_HEADER_CHARS) : joined;
  // Linear: a match starts only at `<`, and the run after it stops at the next bracket.
  const bracketed = [...text.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] as string);
  if (bracketed.length > 0) return bracketed;
  // Some senders omit the brackets; take the bare tokens, skipping comments.
  return text.split(/\s+/).filter(isBareMessageId);
}

function readEnvelope(form: FormFields): Envelope {
  const token = form.text('token')?.trim();
  if (!token) throw new Error('Mailgun POST without a token field');
  const timestamp = form.text('timestamp')?.trim();
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw new Error('Mailgun POST without a numeric timestamp field');
  return { recipients: recipientsOf(form), token, timestamp };
}

/** True for `local@domain` as SMTP carries it: one visible word, an `@` with something on both sides. */
function isMailbox(address: string): boolean {
  if (address.length > 320) return false;
  const at = address.lastIndexOf('@');
  if (at < 1 || at === address.length - 1) return false;
  for (let i = 0; i < address.length; i++) {
    const code = address.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || address[i] === '<' || address[i] === '>' || address[i] === ',') return false;
  }
  return true;
}

/**
 * The inbound addresses the tenant configured: what Mailgun's route matched (SMTP RCPT TO,
 * comma-separated), lower-cased. Read by hand, in one pass: it runs before verification.
 */
function recipientsOf(form: FormFields): string[] {
  const recipients = new Set<string>();
  for (const piece of (form.text('recipient') ?? '').split(',')) {
    let address = piece.trim();
    const open = address.lastIndexOf('<');
    if (open >= 0 && address.endsWith('>')) address = address.slice(open + 1, -1).trim();
    if (address === '') continue;
    if (!isMailbox(address)) throw new Error('Mailgun POST with a recipient that is not an e-mail address');
    recipients.add(address.toLowerCase());
    if (recipients.size > MAX_RECIPIENTS) throw new Error(`Mailgun POST with more than ${MAX_RECIPIENTS} recipients`);
  }
  if (recipients.size === 0) throw new Error('Mailgun POST without a recipient address');
  return [...recipients];
}

// RCPT TO lists of MAX_RECIPIENTS addresses fit in this.
const MAX_RECIPIENT_FIELD = 32 * 1024;

/**
 * The receiving addresses of a Mailgun POST, decoding nothing but the `recipient` field, so the
 * route can pick the tenant's signing key and verify before any other parsing runs on
 * unauthenticated bytes.
 */
export function readMailgunRecipients(rawBody: Buffer, headers: WebhookHeaders): string[] {
  return recipientsOf(pickFormFields(rawBody, headers, ['recipient'], MAX_RECIPIENT_FIELD));
}

/** Mailboxes of an address header, addresses lower-cased and kept in ASCII (punycode) as SMTP uses them. */
function addressesIn(value: string | string[] | undefined): { address: string; name: string }[] {
  if (value === undefined || value.length === 0) return [];
  const parsed: EmailAddress[] = parseAddressHeader(value, { flatten: true, decodePunycode: false }).value;
  return parsed.flatMap((a) => (a.address ? [{ address: a.address.toLowerCase(), name: a.name }] : []));
}

function senderFrom(...candidates: (string | string[] | undefined)[]): InboundSender {
  for (const candidate of candidates) {
    const first = addressesIn(candidate)[0];
    if (first) return first.name ? { externalId: first.address, email: first.address, name: first.name } : { externalId: first.address, email: first.address };
  }
  throw new Error('e-mail without a From or sender address');
}

/** An attachment's bytes, to be stored as a media document before the message is (never inline in it). */
function mediaOf(data: Buffer, mimeType: string | undefined, filename: string | undefined): InboundMedia {
  const media: InboundMedia = { bytes: data, mimeType: mimeType || 'application/octet-stream', size: data.length };
  if (filename) media.filename = filename;
  return media;
}

/** `message-headers`: a JSON array of [name, value] pairs in message order, read into lower-cased names. */
function readMessageHeaders(form: FormFields): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  const text = form.text('message-headers');
  if (text === undefined) return headers;
  let pairs: unknown;
  try {
    pairs = JSON.parse(text);
  } catch {
    throw new Error('message-headers is not JSON');
  }
  if (!Array.isArray(pairs)) throw new Error('message-headers is not a JSON array of [name, value] pairs');
  for (const pair of pairs) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new Error('message-headers is not a JSON array of [name, value] pairs');
    }
    const name = pair[0].toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), pair[1]]);
  }
  return headers;
}

/** The fully parsed variant: Mailgun's UTF-8 fields, `message-headers`, `attachment-N` files. */
function readParsedVariant(form: FormFields): EmailContent {
  const headers = readMessageHeaders(form);
  // message-headers is complete and ordered; the top-level copies cover posts without it.
  const header = (name: string): string[] => headers.get(name.toLowerCase()) ?? form.texts(name);
  const bodyPlain = form.text('body-plain');
  const stripped = form.text('stripped-text');
  const html = form.texts('body-html');
  const email: InboundEmail = {
    messageId: extractMessageIds(header('Message-Id'))[0] ?? '',
    references: extractMessageIds(header('References')),
    subject: form.text('subject') ?? header('Subject')[0] ?? '',
    from: '',
    to: addressesIn(header('To')).map((a) => a.address),
    cc: addressesIn(header('Cc')).map((a) => a.address),
  };
  const inReplyTo = extractMessageIds(header('In-Reply-To'))[0];
  if (inReplyTo) email.inReplyTo = inReplyTo;
  if (bodyPlain !== undefined) email.text = cut(bodyPlain, email);
  if (html.length > 0) email.html = cut(html.join('\n'), email);
  const sender = senderFrom(form.text('from'), header('From'), form.text('sender'));
  email.from = sender.externalId;
  return {
    sender,
    text: stripped?.trim() ? stripped : bodyPlain,
    email,
    media: [...readAttachmentFiles(form), ...readStoredAttachments(form)],
  };
}

/** `attachment-1` .. `attachment-N` files, checked against `attachment-count` so none is lost silently. */
function readAttachmentFiles(form: FormFields): InboundMedia[] {
  const numberOf = (p: FormPart): number => Number(p.name.slice('attachment-'.length));
  const files = form.parts.filter((p) => /^attachment-\d+$/.test(p.name)).sort((a, b) => numberOf(a) - numberOf(b));
  const countText = form.text('attachment-count');
  if (countText !== undefined) {
    const count = Number(countText.trim());
    if (!Number.isInteger(count) || count < 0) throw new Error('attachment-count is not a number');
    if (count !== files.length) throw new Error(`attachment-count is ${count} but ${files.length} attachment files arrived`);
  }
  return files.map((f) => mediaOf(f.data, f.mimeType, f.filename));
}

/**
 * A store(notify=...) route posts `attachments` as JSON ([{url, content-type, name, size}]) instead
 * of files; the files stay on Mailgun and are fetched later by URL with the API key.
 * https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/store-retreive
 */
function readStoredAttachments(form: FormFields): InboundMedia[] {
  const text = form.text('attachments');
  if (text === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new Error('attachments is not JSON');
  }
  if (!Array.isArray(list)) throw new Error('attachments is not a JSON array');
  return list.flatMap((item: unknown): InboundMedia[] => {
    if (typeof item !== 'object' || item === null) return [];
    const entry = item as Record<string, unknown>;
    if (typeof entry['url'] !== 'string') return [];
    const media: InboundMedia = { url: entry['url'] };
    if (typeof entry['content-type'] === 'string') media.mimeType = entry['content-type'];
    if (typeof entry['name'] === 'string') media.filename = entry['name'];
    if (typeof entry['size'] === 'number') media.size = entry['size'];
    return [media];
  });
}

/** The raw MIME variant: `body-mime` bytes, kept exact by the form reader, decoded by mailparser. */
async function readMimeVariant(part: FormPart, form: FormFields): Promise<EmailContent> {
  if (part.data.toString('latin1').trim() === '') throw new Error('body-mime is empty');
  const mail = await simpleParser(part.data, { keepCidLinks: true, skipTextToHtml: true, checksumAlgo: false });
  // Raw header values, so addresses are read exactly like the parsed variant's (ASCII domains).
  const raw = (key: string): string[] =>
    mail.headerLines.filter((h) => h.key === key).map((h) => h.line.slice(h.line.indexOf(':') + 1));
  const sender = senderFrom(raw('from'), form.text('from'), form.text('sender'));
  const email: InboundEmail = {
    messageId: extractMessageIds(mail.messageId)[0] ?? '',
    references: extractMessageIds(mail.references),
    subject: mail.subject ?? form.text('subject') ?? '',
    from: sender.externalId,
    to: addressesIn(raw('to')).map((a) => a.address),
    cc: addressesIn(raw('cc')).map((a) => a.address),
  };
  const inReplyTo = extractMessageIds(mail.inReplyTo)[0];
  if (inReplyTo) email.inReplyTo = inReplyTo;
  if (mail.text !== undefined) email.text = cut(mail.text, email);
  if (typeof mail.html === 'string') email.html = cut(mail.html, email);
  return {
    sender,
    text: mail.text,
    email,
    media: mail.attachments.map((a) => mediaOf(a.content, a.contentType, a.filename)),
  };
}
