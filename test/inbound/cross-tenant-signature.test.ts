/**
 * A signature speaks only for its own tenant (issue 8): a body verified by tenant A's own app
 * secret or signing key may name tenant B's accounts too, but it can never create or change
 * anything in B. Attack: A signs one delivery naming its own account and B's.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { signMailgunFields } from '../../channels/email/verify.js';
import { contacts } from '../../src/models/contact.js';
import { conversations } from '../../src/models/conversation.js';
import { messages } from '../../src/models/message.js';
import { findWebhookEvent } from '../../src/models/webhook-event.js';
import { api } from '../support/http.js';
import { findFirst } from '../support/repos.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, digits, postSigned, until } from '../support/whatsapp.js';

/** Nothing at all in the tenant's inbox: no message, conversation or contact. */
async function expectEmptyInbox(s: TestSession): Promise<void> {
  expect(await messages.find({ tenant_id: s.tenantId })).to.deep.equal([]);
  expect(await conversations.find({ tenant_id: s.tenantId })).to.deep.equal([]);
  expect(await contacts.find({ tenant_id: s.tenantId })).to.deep.equal([]);
}

/** Waits until the delivery has been processed, and answers its record. */
const processed = (id: string) => until(async () => {
  const e = await findWebhookEvent(id);
  return e && e.status !== 'pending' ? e : null;
}, `delivery ${id} processed`);

describe('POST /api/webhooks/meta (a signature speaks for its own tenant only)', () => {
  let a: TestSession;
  let b: TestSession;
  before(async () => {
    [a, b] = await Promise.all([createSession(), createSession()]);
  });

  it('processes the entry of the signer’s own number and leaves the other tenant’s inbox untouched', async () => {
    const [waA, waB] = [await connectWhatsapp(a), await connectWhatsapp(b)];
    const entry = (phoneNumberId: string, from: string, id: string, text: string) => ({
      id: digits(15),
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
            contacts: [{ profile: { name: 'Mallory' }, wa_id: from }],
            messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
          },
        },
      ],
    });
    const idA = `wamid.${randomBytes(10).toString('hex')}`;
    const idB = `wamid.${randomBytes(10).toString('hex')}`;
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [entry(waA.phoneNumberId, `628${digits(10)}`, idA, 'for A'), entry(waB.phoneNumberId, `628${digits(10)}`, idB, 'injected into B')],
    });
    // Signed with A's own app secret, which B never shared.
    const res = await postSigned(raw, waA.appSecret);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const stored = await processed(res.body.id);
    const mine = await until(() => findFirst(messages, { tenant_id: a.tenantId, external_id: idA }), 'A’s message');
    expect(mine.text).to.equal('for A');
    await expectEmptyInbox(b);
    expect(stored.note).to.include(waB.phoneNumberId).and.include('did not sign');
  });

  it('answers 401 when only the other tenant’s account is named under A’s signature', async () => {
    const [waA, waB] = [await connectWhatsapp(a), await connectWhatsapp(b)];
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: digits(15), changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: waB.phoneNumberId }, messages: [{ from: '6281', id: 'wamid.x', timestamp: '1', type: 'text', text: { body: 'x' } }] } }] }],
    });
    expect((await postSigned(raw, waA.appSecret)).status).to.equal(401);
    await expectEmptyInbox(b);
  });
});

describe('POST /api/webhooks/email (a signing key speaks for its own tenant only)', () => {
  let a: TestSession;
  let b: TestSession;
  const keyA = `key-${randomBytes(16).toString('hex')}`;
  const keyB = `key-${randomBytes(16).toString('hex')}`;
  let addressA: string;
  let addressB: string;
  before(async () => {
    [a, b] = await Promise.all([createSession(), createSession()]);
    for (const [s, key] of [[a, keyA], [b, keyB]] as const) {
      const domain = `toko-${randomBytes(4).toString('hex')}.example`;
      const put = await s.call('PUT', '/api/integrations/email', { body: { webhook_signing_secret: key, settings: { inbound_domain: domain } } });
      expect(put.status, JSON.stringify(put.body)).to.be.oneOf([200, 201]);
      const address = `support@${domain}`;
      const account = await s.call('POST', '/api/integration-accounts', { body: { channel: 'email', external_id: address, name: 'Support' } });
      expect(account.status, JSON.stringify(account.body)).to.equal(201);
      if (s === a) addressA = address;
      else addressB = address;
    }
  });

  it('delivers to the signer’s own address and never to the other tenant’s', async () => {
    const token = randomBytes(25).toString('hex');
    const form = new URLSearchParams({
      recipient: `${addressA}, ${addressB}`,
      sender: 'mallory@evil.example',
      from: 'Mallory <mallory@evil.example>',
      subject: 'Hello both',
      'body-plain': 'one signature, two tenants',
      'Message-Id': `<${randomBytes(6).toString('hex')}@evil.example>`,
      ...signMailgunFields(keyA, token),
    }).toString();
    const res = await api('POST', '/api/webhooks/email', { raw: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const stored = await processed(res.body.id);
    const mine = await until(() => findFirst(messages, { tenant_id: a.tenantId, channel: 'email' }), 'A’s e-mail');
    expect(mine.text).to.equal('one signature, two tenants');
    await expectEmptyInbox(b);
    expect(stored.note).to.include(addressB);
  });
});
