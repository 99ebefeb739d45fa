/**
 * WhatsApp Cloud API webhooks as Meta sends them (the shapes of test/fixtures/whatsapp/), signed
 * with `X-Hub-Signature-256`, and the client that posts them.
 */
import { randomBytes } from 'node:crypto';
import { signMetaBody } from '../../channels/meta-signature.js';
import { timedPost, type Answer } from './api.js';

const entry = (phoneNumberId: string, value: Record<string, unknown>) =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId }, ...value } }] }],
  });

const now = () => String(Math.floor(Date.now() / 1000));

/** A fresh provider message id. */
export const wamid = () => `wamid.bench${randomBytes(12).toString('base64url')}`;

/** A customer's text message. */
export function textWebhook(phoneNumberId: string, from: string, id: string, text: string): string {
  return entry(phoneNumberId, { contacts: [{ profile: { name: `Customer ${from.slice(-4)}` }, wa_id: from }], messages: [{ from, id, timestamp: now(), type: 'text', text: { body: text } }] });
}

/** A delivery status of a message we sent. */
export function statusWebhook(phoneNumberId: string, id: string, status: 'delivered' | 'read', recipient: string): string {
  return entry(phoneNumberId, {
    statuses: [{ id, status, timestamp: now(), recipient_id: recipient, conversation: { id: 'bench', origin: { type: 'service' } }, pricing: { billable: true, pricing_model: 'PMP', category: 'service' } }],
  });
}

/** Posts signed webhook bytes to `/api/webhooks/meta` and times the answer. */
export const postWebhook = (baseUrl: string, body: string, appSecret: string): Promise<Answer> =>
  timedPost(`${baseUrl}/api/webhooks/meta`, body, { 'x-hub-signature-256': signMetaBody(body, appSecret) });
