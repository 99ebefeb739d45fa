/**
 * Messenger (Facebook Page inbox): `object: "page"` webhooks and the Page Send API. The logic is
 * shared with Instagram in `../meta-messaging/`; this module only names the channel.
 * https://developers.facebook.com/docs/messenger-platform/webhooks
 */
import { verifyMetaSignature } from '../meta-signature.js';
import { parseMetaMessaging, routedMetaAccounts } from '../meta-messaging/parse.js';
import { markSeen as markSeenOn, sendMetaMessage } from '../meta-messaging/send.js';
import type { ChannelAdapter, ChannelCredentials, WebhookHeaders } from '../types.js';

/** The Messenger adapter: X-Hub-Signature-256 verify, `entry[].messaging[]`/`standby[]` parse, Send API send. */
export const messengerAdapter = {
  name: 'messenger',
  routedAccounts: (rawBody: Buffer, _headers?: WebhookHeaders) => routedMetaAccounts(rawBody, 'messenger'),
  verify: (rawBody, headers, secret) => verifyMetaSignature(rawBody, headers['x-hub-signature-256'], secret),
  parse: (rawBody: Buffer, _headers?: WebhookHeaders) => parseMetaMessaging(rawBody, 'messenger'),
  send: (credentials, message) => sendMetaMessage('messenger', credentials, message),
} satisfies ChannelAdapter;

/** Marks the customer's last Messenger message as seen (`sender_action: mark_seen`). */
export function markSeen(credentials: ChannelCredentials, to: string): Promise<void> {
  return markSeenOn('messenger', credentials, to);
}
