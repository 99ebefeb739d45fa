import { expect } from 'chai';
import { signMetaBody } from '../../channels/meta-signature.js';
import { messages } from '../../src/models/message.js';
import { testServerEnv } from '../setup.js';
import { api } from '../support/http.js';
import { findFirst } from '../support/repos.js';
import { ownerToken } from '../support/meta-owner.js';
import { createSession, type TestSession } from '../support/session.js';
import { digits, until } from '../support/whatsapp.js';

const post = (raw: string) =>
  api('POST', '/api/webhooks/messenger', { raw, headers: { 'x-hub-signature-256': signMetaBody(raw, testServerEnv().META_APP_SECRET as string) } });

/** Messenger `entry[].messaging[]` as Meta sends it: page-scoped ids past 2^53 as JSON numbers. */
const envelope = (pageId: string, events: string[]) => `{"object":"page","entry":[{"id":${pageId},"time":${Date.now()},"messaging":[${events.join(',')}]}]}`;
const textEvent = (pageId: string, psid: string, mid: string, text: string, at: number) =>
  `{"sender":{"id":${psid}},"recipient":{"id":${pageId}},"timestamp":${at},"message":{"mid":"${mid}","text":"${text}"}}`;
const readEvent = (pageId: string, psid: string, watermark: number) =>
  `{"sender":{"id":${psid}},"recipient":{"id":${pageId}},"timestamp":${watermark + 5},"read":{"watermark":${watermark}}}`;

describe('POST /api/webhooks/messenger', () => {
  let s: TestSession;
  let pageId: string;
  before(async () => {
    s = await createSession();
    pageId = `1${digits(17)}`;
    expect((await s.call('PUT', '/api/integrations/messenger', { body: {} })).status).to.be.oneOf([200, 201]);
    const account = await s.call('POST', '/api/integration-accounts', {
      body: { channel: 'messenger', external_id: pageId, name: 'Toko Page', access_token: ownerToken(pageId) },
    });
    expect(account.status, JSON.stringify(account.body)).to.equal(201);
  });

  it('keeps page-scoped ids beyond 2^53 exact and applies a read watermark to everything sent before it', async () => {
    const psid = `7${digits(17)}`;
    const t0 = Date.now() - 60_000;
    const raw = envelope(pageId, [textEvent(pageId, psid, `m_${digits(12)}`, 'Halo kak', t0)]);
    expect((await post(raw)).status).to.equal(200);
    const inbound = await until(() => findFirst(messages, { tenant_id: s.tenantId, channel: 'messenger', text: 'Halo kak' }), 'the inbound message');
    const contact = await s.call('GET', `/api/contacts/${inbound.contact_id}`);
    expect(contact.body.external_id).to.equal(psid);

    // Two replies we sent, one after the watermark.
    const base = {
      tenant_id: s.tenantId,
      conversation_id: inbound.conversation_id,
      contact_id: inbound.contact_id,
      channel: 'messenger' as const,
      direction: 'outbound' as const,
      sender_type: 'agent' as const,
      sender_id: null,
      idempotency_key: null,
      type: 'text',
      content: {},
      status: 'sent' as const,
      delivery_errors: [],
      reply_to_external_id: null,
    };
    const before = await messages.insert({ ...base, _id: crypto.randomUUID(), text: 'before', sent_at: new Date(t0 + 1000), external_id: `m_${digits(10)}` });
    const after = await messages.insert({ ...base, _id: crypto.randomUUID(), text: 'after', sent_at: new Date(t0 + 30_000), external_id: `m_${digits(10)}` });
    expect((await post(envelope(pageId, [readEvent(pageId, psid, t0 + 2000)]))).status).to.equal(200);
    await until(async () => (await messages.findOwnedOrNull(s.tenantId, before._id))?.status === 'read', 'the read receipt');
    expect((await messages.findOwnedOrNull(s.tenantId, after._id))?.status).to.equal('sent');
  });
});
