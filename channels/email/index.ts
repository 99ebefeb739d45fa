/**
 * The e-mail channel: Mailgun inbound routes in (verify the body's HMAC signature, parse the
 * parsed-fields or raw-MIME variant), SMTP out through the account's own server.
 */
import type { ChannelAdapter, InboundEvent, WebhookHeaders } from '../types.js';
import { parseMailgunWebhook, readMailgunRecipients } from './parse.js';
import { sendEmail } from './send.js';
import { verifyMailgunWebhook } from './verify.js';

export { MAX_TIMESTAMP_SKEW_SECONDS, signMailgunFields, verifyMailgunSignature, verifyMailgunWebhook } from './verify.js';
export type { MailgunSignatureFields } from './verify.js';
export { extractMessageIds, parseMailgunWebhook, readMailgunRecipients } from './parse.js';
export { sendEmail, smtpErrorToSendError } from './send.js';
export type { EmailSettings } from './send.js';

/**
 * A ChannelAdapter whose `parse` answers a Promise: raw MIME is decoded by mailparser, which only
 * works asynchronously. Callers `await adapter.parse(...)`, which works for the synchronous
 * adapters too; once ChannelAdapter.parse allows `InboundEvent[] | Promise<InboundEvent[]>`, this
 * type is a ChannelAdapter as it stands.
 */
export type EmailChannelAdapter = Omit<ChannelAdapter, 'parse'> & {
  parse(rawBody: Buffer, headers: WebhookHeaders): Promise<InboundEvent[]>;
};

/** The e-mail (Mailgun routes + SMTP) adapter; `secret` for verify is the Mailgun webhook signing key. */
export const emailAdapter: EmailChannelAdapter = {
  name: 'email',
  routedAccounts: async (rawBody, headers) => readMailgunRecipients(rawBody, headers),
  verify: (rawBody, headers, secret) => verifyMailgunWebhook(rawBody, headers, secret),
  parse: (rawBody, headers) => parseMailgunWebhook(rawBody, headers),
  send: (credentials, message) => sendEmail(credentials, message),
};
