import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { signMailgunFields } from '../../channels/email/verify.js';
import { messages } from '../../src/models/message.js';
import { countWebhookEvents } from '../../src/models/webhook-event.js';
import { api } from '../support/http.js';
import { findFirst } from '../support/repos.js';
import { createSession, type TestSession } from '../support/session.js';
import { until } from '../support/whatsapp.js';

/** A Mailgun route forward (url-encoded, fully parsed variant) for `recipient`. */
function mailgunForm(recipient: string, signingKey: string, overrides: Record<string, string> = {}) {
  const token = randomBytes(25).toString('hex');
  const fields: Record<string, string> = {
    recipient,
    sender: 'bob@client.example',
    from: 'Bob Santoso <bob@client.example>',
    subject: 'Pesanan #881 belum sampai',
    'body-plain': 'Halo, paket saya belum sampai. Café – “quotes” € ok.\n\nBob',
    'stripped-text': 'Halo, paket saya belum sampai. Café – “quotes” € ok.',
    'body-html': '<p>Halo, paket saya belum sampai.</p>',
    'Message-Id': `<${randomBytes(6).toString('hex')}@client.example>`,
    'attachment-count': '0',
    ...signMailgunFields(signingKey, token),
    ...overrides,
  };
  return new URLSearchParams(fields).toString();
}

const post = (form: string) =>
  api('POST', '/api/webhooks/email', { raw: form, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } });

describe('POST /api/webhooks/email (Mailgun routes)', () => {
  let s: TestSession;
  let address: string;
  const signingKey = `key-${randomBytes(16).toString('hex')}`;
  before(async () => {
    s = await createSession();
    const domain = `toko-${randomBytes(4).toString('hex')}.example`;
    address = `support-${randomBytes(4).toString('hex')}@${domain}`;
    const integration = await s.call('PUT', '/api/integrations/email', { body: { webhook_signing_secret: signingKey, settings: { inbound_domain: domain } } });
    expect(integration.status, JSON.stringify(integration.body)).to.be.oneOf([200, 201]);
    const account = await s.call('POST', '/api/integration-accounts', { body: { channel: 'email', external_id: address, name: 'Support inbox' } });
    expect(account.status, JSON.stringify(account.body)).to.equal(201);
  });

  it('verifies the tenant’s signing key, stores the e-mail once and threads it into a conversation', async () => {
    const form = mailgunForm(address.toUpperCase(), signingKey);
    const res = await post(form);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const m = await until(() => findFirst(messages, { tenant_id: s.tenantId, channel: 'email' }), 'the e-mail message');
    expect(m.text).to.equal('Halo, paket saya belum sampai. Café – “quotes” € ok.');
    expect((m.content.email as { subject: string }).subject).to.equal('Pesanan #881 belum sampai');
    const contact = await s.call('GET', `/api/contacts/${m.contact_id}`);
    expect(contact.body.email).to.equal('bob@client.example');
    expect((await post(form)).body.duplicate).to.equal(true);
  });

  it('answers 401 for a wrong signature and 400 for a body that is not a form', async () => {
    const before = await countWebhookEvents('email');
    expect((await post(mailgunForm(address, 'key-wrong'))).status).to.equal(401);
    expect((await api('POST', '/api/webhooks/email', { raw: '{"json":true}', headers: { 'content-type': 'application/json' } })).status).to.equal(400);
    expect(await countWebhookEvents('email')).to.equal(before);
  });
});
