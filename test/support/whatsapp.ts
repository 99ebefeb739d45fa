/**
 * WhatsApp over real signed webhooks, for tests that need conversations and messages: connect a
 * tenant's number over HTTP, build a webhook body the way Meta sends it, sign and post it, and
 * wait until the pipeline has threaded it (conversations are never inserted by hand).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { signMetaBody } from '../../channels/meta-signature.js';
import { naturalId } from '../../src/ids.js';
import { conversations } from '../../src/models/conversation.js';
import { messages } from '../../src/models/message.js';
import { fakeGraph } from '../setup.js';
import type { RecordedRequest } from './fake-graph.js';
import { api } from './http.js';
import { ownerToken } from './meta-owner.js';
import type { TestSession } from './session.js';

/** `n` random decimal digits, never starting with 0 (phone numbers, provider ids). */
export const digits = (n: number) =>
  Array.from(randomBytes(n), (b) => String(b % 10))
    .join('')
    .replace(/^0/, '1');

/** A tenant's connected WhatsApp number. */
export interface WhatsappAccount {
  /** The integration's own app secret (signs this tenant's webhooks). */
  appSecret: string;
  /** Meta's phone_number_id of the connected number. */
  phoneNumberId: string;
  /** Our integration account id. */
  accountId: string;
}

/** Gives the session's tenant a WhatsApp integration (its own app secret) and one connected number. */
export async function connectWhatsapp(s: TestSession): Promise<WhatsappAccount> {
  const appSecret = randomBytes(16).toString('hex');
  const phoneNumberId = digits(15);
  const integration = await s.call('PUT', '/api/integrations/whatsapp', { body: { app_secret: appSecret, verify_token: `verify-${digits(6)}` } });
  expect(integration.status, JSON.stringify(integration.body)).to.be.oneOf([200, 201]);
  const account = await s.call('POST', '/api/integration-accounts', {
    body: { channel: 'whatsapp', external_id: phoneNumberId, name: 'Support line', access_token: ownerToken(phoneNumberId, { display_phone_number: '15550783881' }) },
  });
  expect(account.status, JSON.stringify(account.body)).to.equal(201);
  return { appSecret, phoneNumberId, accountId: account.body.id as string };
}

/** A WhatsApp Cloud API text-message webhook body as Meta sends it (compact, `/` and non-ASCII escaped). */
export function textWebhook(phoneNumberId: string, from: string, id: string, text: string, at = Math.floor(Date.now() / 1000), name = 'Budi Santoso') {
  const body = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: [{ profile: { name }, wa_id: from }],
              messages: [{ from, id, timestamp: String(at), type: 'text', text: { body: text } }],
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
  // Meta escapes `/` and every non-ASCII character in the bytes it signs.
  return JSON.stringify(body)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A delivery status webhook for a message we sent, as Meta posts it. */
export function statusWebhook(phoneNumberId: string, wamid: string, status: string, recipient: string) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              statuses: [{ id: wamid, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: recipient, conversation: { id: 'c1', origin: { type: 'service' } }, pricing: { billable: true, pricing_model: 'PMP', category: 'service' } }],
            },
          },
        ],
      },
    ],
  });
}

/** Makes the fake Graph API accept sends on this number like Meta does; answers the wamids it handed out. */
export function acceptSends(wa: WhatsappAccount, delayMs = 0): string[] {
  const issued: string[] = [];
  fakeGraph().on('POST', `/v21.0/${wa.phoneNumberId}/messages`, async (req: RecordedRequest) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const wamid = `wamid.${randomBytes(12).toString('base64url')}`;
    issued.push(wamid);
    const body = req.json as { to?: string };
    return { body: { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id: wamid }] } };
  });
  return issued;
}

/** Posts raw webhook bytes, signed with `secret` (unsigned when null), to the run's server or `baseUrl`. */
export const postSigned = (raw: string, secret: string | null, path = '/api/webhooks/meta', baseUrl?: string) =>
  api('POST', path, { raw, headers: secret ? { 'x-hub-signature-256': signMetaBody(raw, secret) } : {}, ...(baseUrl ? { baseUrl } : {}) });

/** Polls `read` until it answers something truthy, or fails after `ms`. */
export async function until<T>(read: () => Promise<T | null | undefined | false>, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What startConversation made. */
export interface StartedConversation {
  conversationId: string;
  contactId: string;
  /** The customer's WhatsApp id (phone). */
  from: string;
  /** The provider id of the message that was sent. */
  wamid: string;
}

/**
 * A customer writes to the tenant's number: posts a signed text webhook and waits until its
 * message is threaded into a conversation (the conversation's actor has counted it).
 */
export async function startConversation(
  s: TestSession,
  wa: WhatsappAccount,
  opts: { from?: string; text?: string; name?: string; at?: number } = {},
): Promise<StartedConversation> {
  const from = opts.from ?? `628${digits(10)}`;
  const wamid = `wamid.${randomBytes(12).toString('base64url')}`;
  const raw = textWebhook(wa.phoneNumberId, from, wamid, opts.text ?? 'Halo, saya butuh bantuan', opts.at, opts.name);
  const res = await postSigned(raw, wa.appSecret);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  const messageId = naturalId('message', s.tenantId, 'whatsapp', wamid);
  const message = await until(() => messages.findOwnedOrNull(s.tenantId, messageId), `message ${wamid}`);
  await until(async () => {
    const c = await conversations.findOwnedOrNull(s.tenantId, message.conversation_id);
    return c && c.last_message_at && c.last_message_at >= message.sent_at ? c : null;
  }, `conversation of ${wamid}`);
  return { conversationId: message.conversation_id, contactId: message.contact_id, from, wamid };
}
