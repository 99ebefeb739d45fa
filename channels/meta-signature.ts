/**
 * Meta webhook authentication, shared by WhatsApp, Messenger and Instagram.
 * Meta signs the payload with the app secret: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>` over
 * the raw request bytes exactly as sent (non-ASCII escaped as \uXXXX, `/` as `\/`), so the check
 * must run on the received Buffer, never on re-serialized JSON.
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VerifyResult } from './types.js';

const PREFIX = 'sha256=';
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** Checks an `X-Hub-Signature-256` header against the HMAC-SHA256 of the raw body, in constant time. */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, appSecret: string): VerifyResult {
  if (!appSecret) return { ok: false, reason: 'no app secret configured' };
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  const value = header.trim();
  if (!value.toLowerCase().startsWith(PREFIX)) return { ok: false, reason: 'X-Hub-Signature-256 is not sha256=<hex>' };
  const hex = value.slice(PREFIX.length);
  if (!HEX_SHA256.test(hex)) return { ok: false, reason: 'X-Hub-Signature-256 is not sha256=<hex>' };
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  // timingSafeEqual throws on unequal lengths; the regex above fixes the length, check anyway.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'X-Hub-Signature-256 does not match the body' };
  }
  return { ok: true };
}

/** Computes the `sha256=<hex>` header value Meta would send for a body (tests and local tools). */
export function signMetaBody(rawBody: Buffer | string, appSecret: string): string {
  return PREFIX + createHmac('sha256', appSecret).update(rawBody).digest('hex');
}
