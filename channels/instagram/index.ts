/**
 * Instagram messaging: `object: "instagram"` webhooks and the Instagram Send API. The logic is
 * shared with Messenger in `../meta-messaging/`; this module only names the channel.
 * https://developers.facebook.com/docs/instagram-platform/webhooks
 */
import { verifyMetaSignature } from '../meta-signature.js';
import { parseMetaMessaging, routedMetaAccounts } from '../meta-messaging/parse.js';
import { markSeen as markSeenOn, sendMetaMessage } from '../meta-messaging/send.js';
import type { ChannelAdapter, ChannelCredentials, WebhookHeaders } from '../types.js';

/** The Instagram adapter: X-Hub-Signature-256 verify, `entry[].messaging[]`/`standby[]` parse, `/me/messages` send. */
export const instagramAdapter = {
  name: 'instagram',
  routedAccounts: (rawBody: Buffer, _headers?: WebhookHeaders) => routedMetaAccounts(rawBody, 'instagram'),
  verify: (rawBody, headers, secret) => verifyMetaSignature(rawBody, headers['x-hub-signature-256'], secret),
  parse: (rawBody: Buffer, _headers?: WebhookHeaders) => parseMetaMessaging(rawBody, 'instagram'),
  send: (credentials, message) => sendMetaMessage('instagram', credentials, message),
} satisfies ChannelAdapter;

/** Marks the customer's last Instagram message as seen (`sender_action: mark_seen`). */
export function markSeen(credentials: ChannelCredentials, to: string): Promise<void> {
  return markSeenOn('instagram', credentials, to);
}
