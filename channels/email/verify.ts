/**
 * Mailgun webhook authentication. Mailgun puts the signature in the form body, not in a header:
 * `signature` = hex HMAC-SHA256(webhook signing key, timestamp + token).
 * https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
 *
 * The signature covers only timestamp and token, not the message, so a captured request could be
 * replayed with another body. Two things close that: timestamps more than 15 minutes off are
 * refused, and the token is the message's `externalId`, so the idempotent inbound store drops a
 * second request carrying the same token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VerifyResult, WebhookHeaders } from '../types.js';
import { pickFormFields, type FormFields } from './form.js';

/** How far Mailgun's `timestamp` may be from our clock, either way. */
export const MAX_TIMESTAMP_SKEW_SECONDS = 15 * 60;

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** The three signature fields of a Mailgun POST. */
export interface MailgunSignatureFields {
  timestamp: string | undefined;
  token: string | undefined;
  signature: string | undefined;
}

/** Checks Mailgun's signature fields with the signing key, in constant time, and the timestamp's freshness. */
export function verifyMailgunSignature(fields: MailgunSignatureFields, signingKey: string, nowMs: number = Date.now()): VerifyResult {
  if (!signingKey) return { ok: false, reason: 'no Mailgun signing key configured' };
  const { timestamp, token, signature } = fields;
  if (!timestamp || !token || !signature) return { ok: false, reason: 'missing timestamp, token or signature field' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'timestamp is not a number of seconds' };
  if (!HEX_SHA256.test(signature)) return { ok: false, reason: 'signature is not a hex HMAC-SHA256' };
  const given = Buffer.from(signature, 'hex');
  const expected = createHmac('sha256', signingKey).update(timestamp + token).digest();
  // timingSafeEqual throws on unequal lengths; the regex fixes the length, check anyway.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature does not match timestamp and token' };
  }
  // Checked after the HMAC, so this reason means a genuine request that is old (replayed) or a skewed clock.
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_TIMESTAMP_SKEW_SECONDS) {
    return { ok: false, reason: 'timestamp is more than 15 minutes away from now' };
  }
  return { ok: true };
}

// Timestamps are 12 digits, tokens 50 characters, signatures 64 hex digits: generous bounds.
const MAX_SIGNATURE_FIELD = 512;

/** Verifies a Mailgun route POST from its raw bytes: picks the three signature fields (nothing else is decoded), then checks them. */
export function verifyMailgunWebhook(rawBody: Buffer, headers: WebhookHeaders, signingKey: string, nowMs: number = Date.now()): VerifyResult {
  let form: FormFields;
  try {
    form = pickFormFields(rawBody, headers, ['timestamp', 'token', 'signature'], MAX_SIGNATURE_FIELD);
  } catch (error) {
    return { ok: false, reason: `unreadable body: ${(error as Error).message}` };
  }
  const fields = { timestamp: form.texts('timestamp'), token: form.texts('token'), signature: form.texts('signature') };
  // A repeated field would make it ambiguous which value was signed.
  if (fields.timestamp.length > 1 || fields.token.length > 1 || fields.signature.length > 1) {
    return { ok: false, reason: 'timestamp, token or signature given more than once' };
  }
  return verifyMailgunSignature(
    { timestamp: fields.timestamp[0]?.trim(), token: fields.token[0]?.trim(), signature: fields.signature[0]?.trim() },
    signingKey,
    nowMs,
  );
}

/** Computes the signature fields Mailgun would post for a token (tests and local tools). */
export function signMailgunFields(signingKey: string, token: string, timestampSeconds: number = Math.floor(Date.now() / 1000)): { timestamp: string; token: string; signature: string } {
  const timestamp = String(timestampSeconds);
  return { timestamp, token, signature: createHmac('sha256', signingKey).update(timestamp + token).digest('hex') };
}
