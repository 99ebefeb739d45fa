import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { signMetaBody } from '../../channels/meta-signature.js';
import { contacts } from '../../src/models/contact.js';
import { conversations } from '../../src/models/conversation.js';
import { claimMessageRef, messageRefId, messages, setMessageFields } from '../../src/models/message.js';
import { countWebhookEvents, findWebhookEvent, insertWebhookEvent } from '../../src/models/webhook-event.js';
import { baseUrl, testServerEnv } from '../setup.js';
import { api } from '../support/http.js';
import { findFirst } from '../support/repos.js';
import { startServerProcess } from '../support/server-process.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, digits, postSigned as post, textWebhook, until, type WhatsappAccount } from '../support/whatsapp.js';

function statusWebhook(phoneNumberId: string, messageId: string, status: string, recipient: string) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '1', phone_number_id: phoneNumberId }, statuses: [{ id: messageId, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: recipient }] } }] }],
  });
}

const messagesOf = (tenantId: string, conversationId: string) => messages.find({ tenant_id: tenantId, conversation_id: conversationId }, { sent_at: 1, _id: 1 });
const conversationsOf = (tenantId: string) => conversations.find({ tenant_id: tenantId });

describe('POST /api/webhooks/meta (WhatsApp)', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
  });

  it('stores a signed message once, threads it into a new conversation and pushes it to agents live', async () => {
    const socket: Socket = connect(baseUrl(), { auth: { token: s.token }, transports: ['websocket'], forceNew: true, reconnection: false });
    const seen: { event: string; seq: number; data: Record<string, unknown> }[] = [];
    socket.onAny((name: string, payload: { seq: number; data: Record<string, unknown> }) => {
      if (name.includes('.')) seen.push({ event: name, seq: payload.seq, data: payload.data });
    });
    await new Promise((r) => socket.once('sync.done', r));
    try {
      const from = `62812${digits(8)}`;
      const wamid = `wamid.${randomBytes(12).toString('base64url')}`;
      const raw = textWebhook(wa.phoneNumberId, from, wamid, 'Halo, pesanan saya / order #123 belum sampai');
      const res = await post(raw, wa.appSecret);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.received).to.equal(true);

      const created = await until(async () => seen.find((e) => e.event === 'message.created'), 'message.created on the socket');
      expect(created.data.text).to.equal('Halo, pesanan saya / order #123 belum sampai');
      expect(created.data.direction).to.equal('inbound');
      expect(created.data.external_id).to.equal(wamid);
      expect(seen.map((e) => e.event)).to.include('conversation.created');
      const seqs = seen.map((e) => e.seq);
      expect(seqs).to.deep.equal([...seqs].sort((a, b) => a - b));

      const [conversation] = await conversationsOf(s.tenantId);
      expect(conversation?.status).to.equal('open');
      expect(conversation?.message_count).to.equal(1);
      const contact = await contacts.findOwnedOrNull(s.tenantId, conversation?.contact_id as string);
      expect(contact?.name).to.equal('Budi Santoso');
      expect(contact?.phone).to.equal(from);

      // Meta retries the same delivery: it is acknowledged and stored once.
      const again = await post(raw, wa.appSecret);
      expect(again.status).to.equal(200);
      expect(again.body.duplicate).to.equal(true);
      expect(await messagesOf(s.tenantId, conversation?._id as string)).to.have.length(1);
    } finally {
      socket.close();
    }
  });

  it('answers 401 for a missing or wrong signature and stores nothing', async () => {
    const raw = textWebhook(wa.phoneNumberId, '6281200000001', 'wamid.unsigned', 'Harga Rp 50.000/pcs, café ☕');
    const before = await countWebhookEvents();
    expect((await post(raw, null)).status).to.equal(401);
    expect((await post(raw, 'f'.repeat(32))).status).to.equal(401);
    // A signature over re-serialized JSON (`/` unescaped) does not match the bytes Meta sent.
    const reserialized = JSON.stringify(JSON.parse(raw));
    expect(reserialized).to.not.equal(raw);
    const res = await api('POST', '/api/webhooks/meta', { raw, headers: { 'x-hub-signature-256': signMetaBody(reserialized, wa.appSecret) } });
    expect(res.status).to.equal(401);
    expect(await countWebhookEvents()).to.equal(before);
  });

  it('answers 413 for a body over the webhook limit (2 MB in tests) and stores nothing', async () => {
    const before = await countWebhookEvents();
    const raw = textWebhook(wa.phoneNumberId, '6281200000003', 'wamid.huge', 'x'.repeat(3 * 1024 * 1024));
    const res = await post(raw, wa.appSecret);
    expect(res.status).to.equal(413);
    expect(res.body.code).to.equal('payload_too_large');
    expect(await countWebhookEvents()).to.equal(before);
  });

  it('answers 400 for a body that is not JSON or not a Meta object', async () => {
    expect((await post('{"object": ', wa.appSecret)).status).to.equal(400);
    expect((await post(JSON.stringify({ object: 'user', entry: [] }), wa.appSecret)).status).to.equal(400);
  });

  it('keeps and ignores a delivery for an account nobody connected, answering 200', async () => {
    // Signed with the platform's app secret, naming a phone number id no tenant connected.
    const raw = textWebhook(digits(15), '6281299999999', `wamid.${digits(10)}`, 'hello?');
    const res = await post(raw, testServerEnv().META_APP_SECRET as string);
    expect(res.status).to.equal(200);
    const stored = await until(async () => {
      const e = await findWebhookEvent(res.body.id);
      return e && e.status !== 'pending' ? e : null;
    }, 'the delivery to be processed');
    expect(stored.status).to.equal('ignored');
    expect(stored.note).to.match(/unknown whatsapp account/);
  });

  it('accepts the platform secret for a connected tenant too', async () => {
    const raw = textWebhook(wa.phoneNumberId, '6281200000002', `wamid.${digits(10)}`, 'signed by the platform app');
    expect((await post(raw, testServerEnv().META_APP_SECRET as string)).status).to.equal(200);
  });

  it('moves delivery statuses forward only, whatever order they arrive in', async () => {
    const from = `62813${digits(8)}`;
    const wamid = `wamid.${randomBytes(10).toString('hex')}`;
    await post(textWebhook(wa.phoneNumberId, from, wamid, 'status test'), wa.appSecret);
    const message = await until(() => findFirst(messages, { tenant_id: s.tenantId, external_id: wamid }), 'the message');
    // Statuses refer to our outbound messages; mark this one outbound as if we had sent it (a send claims its provider id).
    expect(await setMessageFields(message._id, message.status, { direction: 'outbound', status: 'pending' })).to.equal(true);
    await claimMessageRef({ _id: messageRefId(s.tenantId, 'whatsapp', wamid), tenant_id: s.tenantId, message_id: message._id, conversation_id: message.conversation_id });
    for (const status of ['read', 'delivered', 'sent']) {
      expect((await post(statusWebhook(wa.phoneNumberId, wamid, status, from), wa.appSecret)).status).to.equal(200);
    }
    const read = await until(async () => {
      const m = await messages.findOwnedOrNull(s.tenantId, message._id);
      return m?.status === 'read' ? m : null;
    }, 'status read');
    await new Promise((r) => setTimeout(r, 300));
    expect((await messages.findOwnedOrNull(s.tenantId, message._id))?.status).to.equal(read.status);
  });

  it('retries, after its backoff, a delivery status that arrived before the record of its send', async function () {
    this.timeout(40000);
    const from = `62816${digits(8)}`;
    const wamid = `wamid.${randomBytes(10).toString('hex')}`;
    await post(textWebhook(wa.phoneNumberId, from, wamid, 'sent, then overtaken'), wa.appSecret);
    const message = await until(() => findFirst(messages, { tenant_id: s.tenantId, external_id: wamid }), 'the message');
    // A send whose provider answer is not recorded yet: outbound, pending, no ref for its provider id.
    expect(await setMessageFields(message._id, message.status, { direction: 'outbound', status: 'pending' })).to.equal(true);
    const res = await post(statusWebhook(wa.phoneNumberId, wamid, 'delivered', from), wa.appSecret);
    expect(res.status).to.equal(200);
    const waiting = await until(async () => {
      const e = await findWebhookEvent(res.body.id);
      return e && e.attempts === 1 ? e : null;
    }, 'the first, failed try');
    expect(waiting.status).to.equal('pending');
    expect(waiting.next_attempt_at.getTime() - Date.now()).to.be.greaterThan(0);
    // The send's answer is recorded; the recovery job's next pass after the backoff applies the status.
    await claimMessageRef({ _id: messageRefId(s.tenantId, 'whatsapp', wamid), tenant_id: s.tenantId, message_id: message._id, conversation_id: message.conversation_id });
    const delivered = await until(async () => {
      const m = await messages.findOwnedOrNull(s.tenantId, message._id);
      return m?.status === 'delivered' ? m : null;
    }, 'the retried status', 30000);
    expect(delivered.status).to.equal('delivered');
    // The outcome's record follows the processing (it lingers to be written with others).
    await until(async () => ((await findWebhookEvent(res.body.id))?.status === 'processed' ? true : null), 'the delivery recorded as processed');
  });

  it('starts one conversation when the same new customer’s messages arrive at once', async () => {
    const from = `62814${digits(8)}`;
    const bodies = Array.from({ length: 8 }, (_, i) => textWebhook(wa.phoneNumberId, from, `wamid.burst.${from}.${i}`, `pesan ${i}`, 1_790_000_000 + i));
    const results = await Promise.all(bodies.map((b) => post(b, wa.appSecret)));
    expect(results.every((r) => r.status === 200)).to.equal(true);
    const contact = await until(() => findFirst(contacts, { tenant_id: s.tenantId, phone: from }), 'the contact');
    const convs = await until(async () => {
      const list = (await conversationsOf(s.tenantId)).filter((c) => c.contact_id === contact._id);
      return list.length > 0 && list[0]?.message_count === 8 ? list : null;
    }, 'all eight messages');
    expect(convs).to.have.length(1);
    const stored = await messagesOf(s.tenantId, convs[0]?._id as string);
    // Ordered by the provider's timestamps, not by arrival.
    expect(stored.map((m) => m.text)).to.deep.equal(bodies.map((_, i) => `pesan ${i}`));
  });

  it('answers Meta’s subscription handshake with the challenge for a known verify token only', async () => {
    const s2 = await createSession();
    await s2.call('PUT', '/api/integrations/whatsapp', { body: { verify_token: 'my-own-verify-token' } });
    const ok = await api('GET', '/api/webhooks/meta?hub.mode=subscribe&hub.verify_token=my-own-verify-token&hub.challenge=1158201444');
    expect(ok.status).to.equal(200);
    expect(String(ok.body)).to.equal('1158201444');
    const bad = await api('GET', '/api/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope-nope-nope&hub.challenge=1');
    expect(bad.status).to.equal(403);
    const missing = await api('GET', '/api/webhooks/meta?hub.mode=subscribe');
    expect(missing.status).to.equal(400);
  });

  it('processes, after a restart, a delivery that was stored but never processed', async function () {
    this.timeout(40000);
    const from = `62815${digits(8)}`;
    const wamid = `wamid.crash.${digits(10)}`;
    const raw = Buffer.from(textWebhook(wa.phoneNumberId, from, wamid, 'stored before the crash'));
    // Exactly what receiveWebhook leaves behind when the process dies right after storing.
    const receivedAt = new Date(Date.now() - 60_000);
    await insertWebhookEvent({
      _id: `crash-${digits(12)}`,
      channel: 'whatsapp',
      raw,
      raw_storage: null,
      content_type: 'application/json',
      signed_by: { platform: false, tenants: [s.tenantId] },
      waiting_for: [],
      tenant_id: null,
      status: 'pending',
      attempts: 0,
      next_attempt_at: receivedAt,
      note: null,
      received_at: receivedAt,
      processed_at: null,
    });
    const restarted = await startServerProcess(testServerEnv());
    try {
      const m = await until(() => findFirst(messages, { tenant_id: s.tenantId, external_id: wamid }), 'the recovered message', 20000);
      expect(m.text).to.equal('stored before the crash');
    } finally {
      restarted.kill();
    }
  });
});

describe('WhatsApp contacts identified by business-scoped user id', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
  });

  /** A message as Meta sends it for a user who hides their number: no `from`/`wa_id`, only `from_user_id`. */
  const webhookFor = (sender: { from?: string; bsuid: string }, id: string, text: string) =>
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp',
        metadata: { display_phone_number: '15550783881', phone_number_id: wa.phoneNumberId },
        contacts: [{ profile: { name: 'Sari' }, user_id: sender.bsuid, ...(sender.from ? { wa_id: sender.from } : {}) }],
        messages: [{ ...(sender.from ? { from: sender.from } : {}), from_user_id: sender.bsuid, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
      } }] }],
    });

  it('keys the contact by the id given and joins the phone to it when it arrives later', async () => {
    const bsuid = `ID.${digits(16)}`;
    const phone = `62816${digits(8)}`;
    expect((await post(webhookFor({ bsuid }, `wamid.b1.${digits(8)}`, 'tanpa nomor'), wa.appSecret)).status).to.equal(200);
    const first = await until(() => findFirst(messages, { tenant_id: s.tenantId, text: 'tanpa nomor' }), 'the first message');
    const before = await contacts.findOwnedOrNull(s.tenantId, first.contact_id);
    expect(before?.phone).to.equal(null);
    expect(before?.identities).to.deep.equal([bsuid]);

    expect((await post(webhookFor({ bsuid, from: phone }, `wamid.b2.${digits(8)}`, 'dengan nomor'), wa.appSecret)).status).to.equal(200);
    const second = await until(() => findFirst(messages, { tenant_id: s.tenantId, text: 'dengan nomor' }), 'the second message');
    expect(second.contact_id).to.equal(first.contact_id);
    expect(second.conversation_id).to.equal(first.conversation_id);
    const after = await contacts.findOwnedOrNull(s.tenantId, first.contact_id);
    expect(after?.phone).to.equal(phone);
    expect(after?.identities).to.have.members([bsuid, phone]);
  });
});
