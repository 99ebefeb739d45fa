/**
 * The WhatsApp Cloud API channel: verify (X-Hub-Signature-256), parse (entry[].changes[] of
 * field "messages") and send (POST /{phone_number_id}/messages), plus the helpers the routes and
 * the send path need around them.
 */
import { accountsNamed, readMetaRouting } from '../meta-routing.js';
import type { ChannelAdapter, WebhookHeaders } from '../types.js';
import { parseWhatsappWebhook } from './parse.js';
import { sendWhatsappMessage } from './send.js';
import { verifyWhatsappWebhook } from './verify.js';

export { answerSubscriptionChallenge, verifyWhatsappWebhook } from './verify.js';
export { parseWhatsappWebhook, parseWhatsappWebhookErrors } from './parse.js';
export type { WhatsappAccountError, WhatsappWebhookError } from './parse.js';
export { buildWhatsappMessageBody, downloadMedia, fetchMediaUrl, graphErrorToSendError, markRead, sendWhatsappMessage } from './send.js';
export type { WhatsappMediaFile, WhatsappMediaInfo } from './send.js';

/** The customer-service window: free-form messages are allowed for 24 hours after the customer's last message. */
export const CUSTOMER_SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Whether a free-form (non-template) message may be sent now: only within 24 hours of the
 * customer's last inbound message; outside it Meta refuses with 131047 and only templates go.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages#customer-service-windows
 */
export function isInsideCustomerServiceWindow(lastInboundAt: Date | null, now: Date): boolean {
  if (lastInboundAt === null) return false;
  const elapsed = now.getTime() - lastInboundAt.getTime();
  // A clock skew can put the last message slightly in the future: still inside.
  return elapsed < CUSTOMER_SERVICE_WINDOW_MS;
}

/** The WhatsApp Cloud API adapter. */
export const whatsappAdapter = {
  name: 'whatsapp',
  routedAccounts: async (rawBody: Buffer, _headers?: WebhookHeaders) => accountsNamed('whatsapp', await readMetaRouting(rawBody)),
  verify: (rawBody, headers, secret) => verifyWhatsappWebhook(rawBody, headers, secret),
  parse: (rawBody: Buffer, _headers?: WebhookHeaders) => parseWhatsappWebhook(rawBody),
  send: (credentials, message) => sendWhatsappMessage(credentials, message),
} satisfies ChannelAdapter;
