/**
 * Outbound e-mail over SMTP (nodemailer), with the account's own server from
 * `credentials.settings` = `{ smtp: { host, port, secure, user, pass }, from }`.
 *
 * Threading: we generate the Message-ID, so a customer's reply names it in In-Reply-To and the
 * inbound side can thread it; the answer's `externalId` is that Message-ID (no angle brackets,
 * like `InboundEmail.messageId`). In-Reply-To / References come from the `email` content and
 * follow RFC 5322 §3.6.4 (References = the parent's References plus the parent's Message-ID).
 *
 * Failures become ChannelSendError: SMTP 4xx replies are transient (retry), 5xx are permanent
 * (RFC 5321 §4.2.1); a lost connection or timeout is retryable, bad credentials are not.
 *
 * The host is the tenant's, so it goes through the outbound guard (src/net/outbound-guard.ts):
 * resolved once, every address checked against `credentials.outbound`, and the connection made
 * to the checked address (the name stays the TLS server name), so a DNS answer that changes
 * between check and connect cannot lead elsewhere. Credentials only travel over TLS: implicit
 * TLS (`secure`) or STARTTLS required, with the certificate verified; a server that does not
 * offer STARTTLS fails the send before AUTH.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { NodemailerError } from 'nodemailer';
import { z } from 'zod';
import { OutboundTargetError, outboundCa, resolveOutboundTarget, type CheckedTarget } from '../../src/net/outbound-guard.js';
import { ChannelSendError } from '../types.js';
import type { ChannelCredentials, OutboundMessage, SendResult } from '../types.js';

const SmtpSettings = z.object({
  smtp: z.object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    /** true: TLS from the first byte (port 465); false: plain, upgraded by STARTTLS (required with credentials). */
    secure: z.boolean(),
    /** With `secure` false: false stays in plain text, which is only allowed without credentials. */
    starttls: z.boolean().optional(),
    user: z.string().min(1).optional(),
    pass: z.string().optional(),
  }),
  /** The From header, e.g. "Acme Support <support@acme.example>"; defaults to the account's address. */
  from: z.string().min(3).optional(),
});

/** The SMTP settings an e-mail account stores in `credentials.settings`. */
export type EmailSettings = z.infer<typeof SmtpSettings>;

/** Network failures where the same message can go through on a later attempt. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/** A Message-ID without its angle brackets, as InboundEmail carries them. */
const bare = (id: string): string => id.trim().replace(/^<(.*)>$/, '$1');
/** What may stand between the brackets; anything else (spaces, line breaks) would corrupt the header. */
const MESSAGE_ID = /^[^\s<>()",;]+$/;

/** Turns a nodemailer/SMTP failure into a ChannelSendError: 4xx and network errors retryable, 5xx and auth not. */
export function smtpErrorToSendError(error: unknown): ChannelSendError {
  const err = error as NodemailerError;
  if (err.code === 'ETLS' && err.command === 'STARTTLS') {
    // requireTLS: the server would not start TLS, so the credentials were never sent. Retrying will not change that.
    const answer = err.response ? ` (it answered ${err.response})` : '';
    return new ChannelSendError(`SMTP server refused STARTTLS${answer}; credentials are only sent over TLS`, 'smtp_tls_required', false, null);
  }
  const responseCode = typeof err.responseCode === 'number' ? err.responseCode : null;
  const message = err.response ? `SMTP ${err.response}` : `SMTP ${err.code ?? 'error'}: ${err.message}`;
  if (responseCode !== null) {
    return new ChannelSendError(message, responseCode, responseCode >= 400 && responseCode < 500, null);
  }
  const code = typeof err.code === 'string' ? err.code : null;
  return new ChannelSendError(message, code, code !== null && TRANSIENT_CODES.has(code), null);
}

/**
 * The SMTP host resolved and checked under the account's outbound policy. A refused address is a
 * permanent failure naming it; a name that does not resolve is retryable (DNS may come back).
 */
async function checkedTarget(host: string, credentials: ChannelCredentials): Promise<CheckedTarget> {
  try {
    return await resolveOutboundTarget(host, credentials.outbound);
  } catch (err) {
    if (!(err instanceof OutboundTargetError)) throw err;
    if (err.reason === 'refused') throw new ChannelSendError(`SMTP host ${host} ${err.message}: refused by the outbound policy`, 'smtp_host_refused', false, null);
    throw new ChannelSendError(`SMTP host ${host} ${err.message}`, 'EDNS', true, null);
  }
}

/** Sends an `email` content by SMTP and answers the Message-ID we generated as `externalId`. */
export async function sendEmail(credentials: ChannelCredentials, message: OutboundMessage): Promise<SendResult> {
  const parsed = SmtpSettings.safeParse(credentials.settings);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new ChannelSendError(`e-mail account has no usable SMTP settings (${fields})`, 'config', false, null);
  }
  const { content } = message;
  if (content.type !== 'email') {
    throw new ChannelSendError(`the e-mail channel sends email content, not ${content.type}`, 'unsupported_content', false, null);
  }
  if (content.text === undefined && content.html === undefined) {
    throw new ChannelSendError('an e-mail needs a text or html body', 'empty_body', false, null);
  }
  const settings = parsed.data;
  const from = settings.from ?? credentials.accountExternalId;
  // Right side: the sending domain, as RFC 5322 §3.6.4 suggests; the UUID makes it unique.
  const domain = /@([^\s<>@]+)>?\s*$/.exec(from)?.[1] ?? 'omnistream.invalid';
  const messageId = `${randomUUID()}@${domain}`;
  const inReplyTo = content.inReplyTo ? bare(content.inReplyTo) : undefined;
  const references = (content.references ?? []).map(bare);
  if (inReplyTo && !references.includes(inReplyTo)) references.push(inReplyTo);
  const invalid = references.find((id) => !MESSAGE_ID.test(id));
  if (invalid !== undefined) throw new ChannelSendError(`not a Message-ID: ${JSON.stringify(invalid)}`, 'invalid_message_id', false, null);

  const { smtp } = settings;
  const authenticated = Boolean(smtp.user);
  if (authenticated && !smtp.secure && smtp.starttls === false) {
    throw new ChannelSendError('SMTP credentials are only sent over TLS, and this account turns STARTTLS off', 'smtp_tls_required', false, null);
  }
  const target = await checkedTarget(smtp.host, credentials);
  const ca = credentials.outbound?.ca;
  const transport = nodemailer.createTransport({
    // The address that was checked, never the name again (DNS rebinding); the name is the TLS server name.
    host: target.address,
    port: smtp.port,
    secure: smtp.secure,
    // With credentials: STARTTLS or nothing (a server that does not offer it never sees AUTH).
    requireTLS: authenticated && !smtp.secure,
    ignoreTLS: !authenticated && !smtp.secure && smtp.starttls === false,
    tls: {
      ...(target.literal ? {} : { servername: smtp.host }),
      ...(ca ? { ca: outboundCa(ca) } : {}),
      minVersion: 'TLSv1.2',
    },
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? '' } } : {}),
    // Fail within a minute rather than nodemailer's minutes-long defaults; the job retries.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  try {
    await transport.sendMail({
      from,
      to: message.to,
      subject: content.subject,
      ...(content.text !== undefined ? { text: content.text } : {}),
      ...(content.html !== undefined ? { html: content.html } : {}),
      messageId: `<${messageId}>`,
      ...(inReplyTo ? { inReplyTo: `<${inReplyTo}>` } : {}),
      ...(references.length > 0 ? { references: references.map((id) => `<${id}>`) } : {}),
    });
  } catch (error) {
    throw smtpErrorToSendError(error);
  } finally {
    transport.close();
  }
  return { externalId: messageId };
}
