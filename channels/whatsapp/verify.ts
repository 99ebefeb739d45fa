/**
 * WhatsApp webhook authentication: the POST signature and the GET subscription handshake.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/create-webhook-endpoint
 */
import { timingSafeEqual } from 'node:crypto';
import { verifyMetaSignature } from '../meta-signature.js';
import type { VerifyResult, WebhookHeaders } from '../types.js';

/** Checks `X-Hub-Signature-256` over the raw body with the app secret, before anything parses it. */
export function verifyWhatsappWebhook(rawBody: Buffer, headers: WebhookHeaders, appSecret: string): VerifyResult {
  return verifyMetaSignature(rawBody, headers['x-hub-signature-256'], appSecret);
}

/** The query of Meta's GET verification request (`hub.mode`, `hub.verify_token`, `hub.challenge`). */
export type SubscriptionQuery = URLSearchParams | Record<string, string | string[] | undefined>;

const first = (query: SubscriptionQuery, key: string): string | undefined => {
  if (query instanceof URLSearchParams) return query.get(key) ?? undefined;
  const v = query[key];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Answers Meta's subscription check: the `hub.challenge` to echo back (200) when `hub.mode` is
 * "subscribe" and the token matches ours, or null (the route answers 403).
 */
export function answerSubscriptionChallenge(query: SubscriptionQuery, verifyToken: string): string | null {
  const mode = first(query, 'hub.mode');
  const token = first(query, 'hub.verify_token');
  const challenge = first(query, 'hub.challenge');
  if (mode !== 'subscribe' || !token || !challenge || !verifyToken) return null;
  const given = Buffer.from(token);
  const expected = Buffer.from(verifyToken);
  return given.length === expected.length && timingSafeEqual(given, expected) ? challenge : null;
}
