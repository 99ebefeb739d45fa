import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { contacts } from '../../src/models/contact.js';
import { conversations } from '../../src/models/conversation.js';
import { findEventsAbout } from '../../src/models/event.js';
import { messages } from '../../src/models/message.js';
import { fakeGraph } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { findFirst } from '../support/repos.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { acceptSends, connectWhatsapp, digits, postSigned, startConversation, statusWebhook, textWebhook, until, type StartedConversation, type WhatsappAccount } from '../support/whatsapp.js';

const key = () => `key-${randomUUID()}`;
const HOUR = 3600;
const now = () => Math.floor(Date.now() / 1000);

/** A tenant with a connected number whose access token the test knows. */
async function setUp(): Promise<{ s: TestSession; wa: WhatsappAccount; token: string }> {
  const s = await createSession();
  const wa = await connectWhatsapp(s);
  const token = `EAAG${randomBytes(16).toString('hex')}`;
  const patched = await s.call('PATCH', `/api/integration-accounts/${wa.accountId}`, { body: { access_token: token } });
  expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
  return { s, wa, token };
}

const sendsTo = (wa: WhatsappAccount) => fakeGraph().requests.filter((r) => r.method === 'POST' && r.path === `/v21.0/${wa.phoneNumberId}/messages`);
const conversationOf = (tenantId: string, id: string) => conversations.findOwnedOrNull(tenantId, id);

/** A division the conversation moves to, so agents outside it no longer see it. */
async function moveToNewDivision(s: TestSession, conversationId: string): Promise<string> {
  const division = await s.call('POST', '/api/divisions', { body: { name: `Billing ${digits(5)}` } });
  expect(division.status, JSON.stringify(division.body)).to.equal(201);
  const moved = await s.call('POST', `/api/conversations/${conversationId}/transfer`, { body: { to_division_id: division.body.id, reason: 'billing question' } });
  expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
  return division.body.id as string;
}

describe('POST /api/conversations/{id}/messages', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let token: string;
  let conv: StartedConversation;
  before(async () => {
    ({ s, wa, token } = await setUp());
    conv = await startConversation(s, wa, { text: 'Pesanan saya belum sampai' });
  });
  beforeEach(() => fakeGraph().reset());
  afterEach(() => expect(fakeGraph().unexpected.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]));

  const path = () => `/api/conversations/${conv.conversationId}/messages`;

  it('sends a text through the conversation’s number with its token and answers the sent message', async () => {
    const issued = acceptSends(wa);
    const before = await conversationOf(s.tenantId, conv.conversationId);
    const res = await s.call('POST', path(), { body: { type: 'text', text: 'Halo Budi, paket Anda dikirim hari ini / besok', idempotency_key: key() } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ conversation_id: conv.conversationId, contact_id: conv.contactId, channel: 'whatsapp', direction: 'outbound', sender_type: 'agent', sender_id: s.userId, type: 'text', status: 'sent' });
    expect(res.body.text).to.equal('Halo Budi, paket Anda dikirim hari ini / besok');
    expect(res.body.external_id).to.equal(issued[0]);
    expect(res.body.errors).to.deep.equal([]);

    const [request, ...others] = sendsTo(wa);
    expect(others).to.have.length(0);
    expect(request?.headers.authorization).to.equal(`Bearer ${token}`);
    expect(request?.headers['content-type']).to.match(/^application\/json/);
    expect(request?.json).to.deep.equal({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: conv.from,
      type: 'text',
      text: { body: 'Halo Budi, paket Anda dikirim hari ini / besok', preview_url: false },
    });

    const after = await conversationOf(s.tenantId, conv.conversationId);
    expect(after?.message_count).to.equal((before?.message_count ?? 0) + 1);
    expect(after?.last_message_preview).to.equal('Halo Budi, paket Anda dikirim hari ini / besok');
    expect(after?.last_message_at?.toISOString()).to.equal(res.body.sent_at);
    expect((await findEventsAbout(s.tenantId, 'message.created', res.body.id)).map((e) => (e.data as { status: string }).status)).to.deep.equal(['pending']);
    expect((await findEventsAbout(s.tenantId, 'message.updated', res.body.id)).map((e) => (e.data as { status: string }).status)).to.deep.equal(['sent']);

    const list = await s.call('GET', path());
    expect(list.body.data.at(-1).id).to.equal(res.body.id);
  });

  it('sends media by link, a template, an interactive message, a quoted reply and a reaction in WhatsApp’s shapes', async () => {
    acceptSends(wa);
    const media = await s.call('POST', path(), {
      body: { type: 'media', media: { type: 'document', url: 'https://cdn.example.com/invoice-123.pdf', caption: 'Invoice #123', filename: 'invoice-123.pdf' }, idempotency_key: key() },
    });
    expect(media.status, JSON.stringify(media.body)).to.equal(201);
    expect(media.body).to.include({ type: 'document', text: 'Invoice #123', status: 'sent' });
    const template = await s.call('POST', path(), {
      body: { type: 'template', template: { name: 'order_update', language: 'id', components: [{ type: 'body', parameters: [{ type: 'text', text: 'INV-123' }] }] }, idempotency_key: key() },
    });
    expect(template.status, JSON.stringify(template.body)).to.equal(201);
    const interactive = { type: 'button', body: { text: 'Sudah diterima?' }, action: { buttons: [{ type: 'reply', reply: { id: 'yes', title: 'Ya' } }] } };
    const buttons = await s.call('POST', path(), { body: { type: 'interactive', interactive, idempotency_key: key() } });
    expect(buttons.status, JSON.stringify(buttons.body)).to.equal(201);
    expect(buttons.body.text).to.equal('Sudah diterima?');
    const customerMessageId = (await findFirst(messages, { tenant_id: s.tenantId, external_id: conv.wamid }))?._id;
    const reply = await s.call('POST', path(), { body: { type: 'text', text: 'Kami cek dulu', reply_to_message_id: customerMessageId, idempotency_key: key() } });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    expect(reply.body.reply_to_external_id).to.equal(conv.wamid);
    const reaction = await s.call('POST', path(), { body: { type: 'reaction', reaction: { message_id: customerMessageId, emoji: '👍' }, idempotency_key: key() } });
    expect(reaction.status, JSON.stringify(reaction.body)).to.equal(201);

    const bodies = sendsTo(wa).map((r) => r.json as Record<string, unknown>);
    const common = { messaging_product: 'whatsapp', recipient_type: 'individual', to: conv.from };
    expect(bodies).to.deep.equal([
      { ...common, type: 'document', document: { link: 'https://cdn.example.com/invoice-123.pdf', caption: 'Invoice #123', filename: 'invoice-123.pdf' } },
      { ...common, type: 'template', template: { name: 'order_update', language: { code: 'id' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'INV-123' }] }] } },
      { ...common, type: 'interactive', interactive },
      { ...common, type: 'text', text: { body: 'Kami cek dulu', preview_url: false }, context: { message_id: conv.wamid } },
      { ...common, type: 'reaction', reaction: { message_id: conv.wamid, emoji: '👍' } },
    ]);
  });

  it('answers a retry with the same idempotency key with the first message (200) and sends nothing again', async () => {
    acceptSends(wa);
    const body = { type: 'text', text: 'Sekali saja', idempotency_key: key() };
    const first = await s.call('POST', path(), { body });
    const second = await s.call('POST', path(), { body });
    expect(first.status).to.equal(201);
    expect(first.headers.get('idempotent-replayed')).to.equal(null);
    expect(second.status).to.equal(200);
    expect(second.headers.get('idempotent-replayed')).to.equal('true');
    expect(second.body).to.deep.equal(first.body);
    expect(sendsTo(wa)).to.have.length(1);
    expect(await messages.count({ tenant_id: s.tenantId, idempotency_key: body.idempotency_key })).to.equal(1);
  });

  it('sends once when five identical requests arrive at the same time', async () => {
    acceptSends(wa, 300);
    const body = { type: 'text', text: 'Flaky network', idempotency_key: key() };
    const answers = await Promise.all(Array.from({ length: 5 }, () => s.call('POST', path(), { body })));
    expect(sendsTo(wa)).to.have.length(1);
    expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 200, 200, 200, 201]);
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).to.equal(1);
    // The retries waited for the first request's send, so every answer shows the sent message.
    expect(answers.every((a) => a.body.status === 'sent' && a.body.external_id === answers[0]?.body.external_id)).to.equal(true);
    expect(await messages.count({ tenant_id: s.tenantId, idempotency_key: body.idempotency_key })).to.equal(1);
  });

  it('answers 409 when the idempotency key was used in another conversation, sending nothing', async () => {
    acceptSends(wa);
    const other = await startConversation(s, wa);
    const body = { type: 'text', text: 'Satu kunci', idempotency_key: key() };
    expect((await s.call('POST', path(), { body })).status).to.equal(201);
    const res = await s.call('POST', `/api/conversations/${other.conversationId}/messages`, { body });
    expect(res.status).to.equal(409);
    expect(res.body.code).to.equal('conflict');
    expect(sendsTo(wa)).to.have.length(1);
  });

  it('stores a provider refusal (131047) as a failed message with the error, answers 201 and announces message.updated', async () => {
    fakeGraph().on('POST', `/v21.0/${wa.phoneNumberId}/messages`, {
      status: 400,
      body: {
        error: {
          message: '(#131047) Re-engagement message',
          type: 'OAuthException',
          code: 131047,
          error_data: { messaging_product: 'whatsapp', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
          fbtrace_id: 'AbCdEf123',
        },
      },
    });
    const before = await conversationOf(s.tenantId, conv.conversationId);
    const res = await s.call('POST', path(), { body: { type: 'text', text: 'Masih ada pertanyaan?', idempotency_key: key() } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.status).to.equal('failed');
    expect(res.body.external_id).to.equal(null);
    expect(res.body.errors).to.have.length(1);
    expect(res.body.errors[0]).to.include({ code: 131047, retryable: false, http_status: 400 });
    expect(res.body.errors[0].message).to.include('Re-engagement message').and.include('more than 24 hours');
    const updated = await findEventsAbout(s.tenantId, 'message.updated', res.body.id);
    expect(updated.map((e) => (e.data as { status: string }).status)).to.deep.equal(['failed']);
    // A failed message stays in the thread but does not count as the conversation's last message.
    const after = await conversationOf(s.tenantId, conv.conversationId);
    expect(after?.message_count).to.equal(before?.message_count);
    const list = await s.call('GET', path());
    expect(list.body.data.find((m: { id: string }) => m.id === res.body.id)?.status).to.equal('failed');
  });

  it('moves a sent message to delivered and read when Meta posts its statuses', async () => {
    const issued = acceptSends(wa);
    const res = await s.call('POST', path(), { body: { type: 'text', text: 'Status test', idempotency_key: key() } });
    expect(res.status).to.equal(201);
    const wamid = issued[0] as string;
    expect((await postSigned(statusWebhook(wa.phoneNumberId, wamid, 'delivered', conv.from), wa.appSecret)).status).to.equal(200);
    await until(async () => (await messages.findOwnedOrNull(s.tenantId, res.body.id))?.status === 'delivered', 'delivered');
    expect((await postSigned(statusWebhook(wa.phoneNumberId, wamid, 'read', conv.from), wa.appSecret)).status).to.equal(200);
    await until(async () => (await messages.findOwnedOrNull(s.tenantId, res.body.id))?.status === 'read', 'read');
    const statuses = (await findEventsAbout(s.tenantId, 'message.updated', res.body.id)).map((e) => (e.data as { status: string }).status);
    expect(statuses).to.deep.equal(['sent', 'delivered', 'read']);
    const list = await s.call('GET', path());
    expect(list.body.data.find((m: { id: string }) => m.id === res.body.id)?.status).to.equal('read');
  });

  it('refuses free-form messages outside WhatsApp’s 24-hour window with 422, but sends templates', async () => {
    acceptSends(wa);
    const old = await startConversation(s, wa, { at: now() - 25 * HOUR, text: 'Pesan kemarin' });
    const contact = await contacts.findOwnedOrNull(s.tenantId, old.contactId);
    expect(contact?.last_inbound_at?.getTime()).to.be.below(Date.now() - 24 * HOUR * 1000);
    const oldPath = `/api/conversations/${old.conversationId}/messages`;
    const refused = await s.call('POST', oldPath, { body: { type: 'text', text: 'Halo lagi', idempotency_key: key() } });
    expect(refused.status).to.equal(422);
    expect(refused.body.code).to.equal('state_not_allowed');
    expect(refused.body.message).to.include('24-hour').and.include('template');
    const media = await s.call('POST', oldPath, { body: { type: 'media', media: { type: 'image', media_id: '1234567890' }, idempotency_key: key() } });
    expect(media.status).to.equal(422);
    expect(sendsTo(wa)).to.have.length(0);
    expect(await messages.count({ tenant_id: s.tenantId, conversation_id: old.conversationId, direction: 'outbound' })).to.equal(0);

    const template = await s.call('POST', oldPath, { body: { type: 'template', template: { name: 'follow_up', language: 'en_US' }, idempotency_key: key() } });
    expect(template.status, JSON.stringify(template.body)).to.equal(201);
    expect(template.body.status).to.equal('sent');
    expect(sendsTo(wa)[0]?.json).to.deep.include({ type: 'template', template: { name: 'follow_up', language: { code: 'en_US' } } });

    // The customer writes again: the window reopens.
    await postSigned(textWebhook(wa.phoneNumberId, old.from, `wamid.${digits(12)}`, 'Saya masih di sini'), wa.appSecret);
    await until(async () => ((await contacts.findOwnedOrNull(s.tenantId, old.contactId))?.last_inbound_at?.getTime() ?? 0) > Date.now() - 60_000, 'the new inbound');
    expect((await s.call('POST', oldPath, { body: { type: 'text', text: 'Halo lagi', idempotency_key: key() } })).status).to.equal(201);
  });

  it('answers 422 for a closed conversation and sends nothing', async () => {
    const closing = await startConversation(s, wa);
    const closed = await s.call('PATCH', `/api/conversations/${closing.conversationId}/status`, { body: { status: 'closed' } });
    expect(closed.status, JSON.stringify(closed.body)).to.equal(200);
    const res = await s.call('POST', `/api/conversations/${closing.conversationId}/messages`, { body: { type: 'text', text: 'Halo?', idempotency_key: key() } });
    expect(res.status).to.equal(422);
    expect(res.body.message).to.include('closed');
    expect(sendsTo(wa)).to.have.length(0);
  });

  it('answers 400 for invalid bodies', async () => {
    const bad: unknown[] = [
      { type: 'text', text: 'no key' },
      { type: 'text', text: 'short key', idempotency_key: 'abc' },
      { type: 'text', text: 'long key', idempotency_key: 'k'.repeat(101) },
      { type: 'text', text: '', idempotency_key: key() },
      { type: 'text', text: 'x'.repeat(4097), idempotency_key: key() },
      { type: 'text', text: 42, idempotency_key: key() },
      { type: 'text', text: 'extra', idempotency_key: key(), priority: 'high' },
      { type: 'text', text: 'media on text', media: { type: 'image', url: 'https://x.test/a.png' }, idempotency_key: key() },
      { type: 'sms', text: 'unknown type', idempotency_key: key() },
      { type: 'media', media: { type: 'image' }, idempotency_key: key() },
      { type: 'media', media: { type: 'image', url: 'https://x.test/a.png', media_id: '123' }, idempotency_key: key() },
      { type: 'media', media: { type: 'image', url: 'ftp://x.test/a.png' }, idempotency_key: key() },
      { type: 'template', template: { name: 'Order Update', language: 'en_US' }, idempotency_key: key() },
      { type: 'reaction', reaction: { message_id: 'not-a-uuid', emoji: '👍' }, idempotency_key: key() },
      { type: 'text', text: 'reply', reply_to_message_id: 'nope', idempotency_key: key() },
    ];
    for (const body of bad) {
      const res = await s.call('POST', path(), { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
    const malformed = await s.call('POST', '/api/conversations/not-a-uuid/messages', { body: { type: 'text', text: 'x', idempotency_key: key() } });
    expect(malformed.status).to.equal(400);
    expect(sendsTo(wa)).to.have.length(0);
  });

  it('answers 400 for a reply or reaction to a message outside the conversation', async () => {
    const other = await startConversation(s, wa);
    const foreign = (await findFirst(messages, { tenant_id: s.tenantId, external_id: other.wamid }))?._id;
    const reply = await s.call('POST', path(), { body: { type: 'text', text: 'x', reply_to_message_id: foreign, idempotency_key: key() } });
    expect(reply.status).to.equal(400);
    expect(reply.body.details[0].field).to.equal('reply_to_message_id');
    const reaction = await s.call('POST', path(), { body: { type: 'reaction', reaction: { message_id: randomUUID(), emoji: '👍' }, idempotency_key: key() } });
    expect(reaction.status).to.equal(400);
    expect(sendsTo(wa)).to.have.length(0);
  });

  it('answers 404 for another tenant’s conversation and one the caller may not see, sending nothing', async () => {
    const other = await createSession();
    const res = await other.call('POST', path(), { body: { type: 'text', text: 'intruder', idempotency_key: key() } });
    expect(res.status).to.equal(404);
    expect(res.body.code).to.equal('not_found');

    const hidden = await startConversation(s, wa);
    await moveToNewDivision(s, hidden.conversationId);
    const agent = await userWithPermissions(s, ['conversations.view', 'messages.send']);
    const invisible = await agent.call('POST', `/api/conversations/${hidden.conversationId}/messages`, { body: { type: 'text', text: 'not mine', idempotency_key: key() } });
    expect(invisible.status).to.equal(404);
    expect(sendsTo(wa)).to.have.length(0);
    // The same agent may send where they can see the conversation (no division).
    acceptSends(wa);
    const visible = await agent.call('POST', path(), { body: { type: 'text', text: 'agent reply', idempotency_key: key() } });
    expect(visible.status, JSON.stringify(visible.body)).to.equal(201);
    expect(visible.body.sender_id).to.equal(agent.userId);
  });

  itChecksAccess('POST', () => `/api/conversations/${conv.conversationId}/messages`, 'messages.send', () => s, { body: { type: 'text', text: 'x', idempotency_key: 'access-check-key' } });
});

describe('GET /api/conversations/{id}/messages', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let conv: StartedConversation;
  let ids: string[];
  before(async () => {
    ({ s, wa } = await setUp());
    const t0 = now() - 600;
    conv = await startConversation(s, wa, { text: 'pesan 0', at: t0 });
    // Four more, posted newest first: the thread follows the provider's times, not arrival.
    for (let i = 4; i >= 1; i--) {
      expect((await postSigned(textWebhook(wa.phoneNumberId, conv.from, `wamid.list.${conv.from}.${i}`, `pesan ${i}`, t0 + i * 10), wa.appSecret)).status).to.equal(200);
    }
    await until(async () => (await conversationOf(s.tenantId, conv.conversationId))?.message_count === 5, 'five messages');
    ids = (await messages.find({ tenant_id: s.tenantId, conversation_id: conv.conversationId }, { sent_at: 1, _id: 1 })).map((m) => m._id);
  });

  const path = () => `/api/conversations/${conv.conversationId}/messages`;
  const texts = (res: { body: { data: { text: string }[] } }) => res.body.data.map((m) => m.text);

  it('answers the whole thread in conversation order', async () => {
    const res = await s.call('GET', path());
    expect(res.status).to.equal(200);
    expect(texts(res)).to.deep.equal(['pesan 0', 'pesan 1', 'pesan 2', 'pesan 3', 'pesan 4']);
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 50, total: 5, total_pages: 1, has_older: false, has_newer: false });
    expect(res.body.data[0]).to.include({ conversation_id: conv.conversationId, direction: 'inbound', sender_type: 'contact', status: 'received', external_id: conv.wamid });
  });

  it('pages from the newest page back, each page oldest first', async () => {
    const p1 = await s.call('GET', `${path()}?limit=2`);
    expect(texts(p1)).to.deep.equal(['pesan 3', 'pesan 4']);
    expect(p1.body.pagination).to.deep.equal({ page: 1, limit: 2, total: 5, total_pages: 3, has_older: true, has_newer: false });
    const p2 = await s.call('GET', `${path()}?limit=2&page=2`);
    expect(texts(p2)).to.deep.equal(['pesan 1', 'pesan 2']);
    expect(p2.body.pagination).to.include({ has_older: true, has_newer: true });
    const p3 = await s.call('GET', `${path()}?limit=2&page=3`);
    expect(texts(p3)).to.deep.equal(['pesan 0']);
    expect(p3.body.pagination).to.include({ has_older: false, has_newer: true });
  });

  it('pages by cursor: before scrolls back, after catches up', async () => {
    const older = await s.call('GET', `${path()}?limit=2&before=${ids[3]}`);
    expect(texts(older)).to.deep.equal(['pesan 1', 'pesan 2']);
    expect(older.body.pagination).to.deep.equal({ page: null, limit: 2, total: 5, total_pages: 3, has_older: true, has_newer: true });
    const oldest = await s.call('GET', `${path()}?limit=2&before=${ids[1]}`);
    expect(texts(oldest)).to.deep.equal(['pesan 0']);
    expect(oldest.body.pagination.has_older).to.equal(false);
    const newer = await s.call('GET', `${path()}?limit=2&after=${ids[1]}`);
    expect(texts(newer)).to.deep.equal(['pesan 2', 'pesan 3']);
    expect(newer.body.pagination.has_newer).to.equal(true);
    const newest = await s.call('GET', `${path()}?after=${ids[3]}`);
    expect(texts(newest)).to.deep.equal(['pesan 4']);
    expect(newest.body.pagination.has_newer).to.equal(false);
  });

  it('answers 400 for invalid queries', async () => {
    const other = await startConversation(s, wa);
    const foreign = (await findFirst(messages, { tenant_id: s.tenantId, external_id: other.wamid }))?._id;
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'page=0', 'before=nope', `before=${ids[2]}&after=${ids[1]}`, `page=2&before=${ids[2]}`, 'sort=desc', `before=${foreign}`, `after=${randomUUID()}`]) {
      const res = await s.call('GET', `${path()}?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
    expect((await s.call('GET', '/api/conversations/not-a-uuid/messages')).status).to.equal(400);
  });

  it('answers 404 for another tenant’s conversation, an unknown one, and one the caller may not see', async () => {
    const other = await createSession();
    const res = await other.call('GET', path());
    expect(res.status).to.equal(404);
    expect(res.body).to.not.have.property('data');
    expect((await s.call('GET', `/api/conversations/${randomUUID()}/messages`)).status).to.equal(404);

    const agent = await userWithPermissions(s, ['conversations.view']);
    expect((await agent.call('GET', path())).status).to.equal(200);
    const hidden = await startConversation(s, wa);
    await moveToNewDivision(s, hidden.conversationId);
    expect((await agent.call('GET', `/api/conversations/${hidden.conversationId}/messages`)).status).to.equal(404);
    expect((await s.call('GET', `/api/conversations/${hidden.conversationId}/messages`)).status).to.equal(200);
  });

  itChecksAccess('GET', () => `/api/conversations/${conv.conversationId}/messages`, 'conversations.view', () => s);
});

describe('GET /api/messages/search', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let a: StartedConversation;
  let b: StartedConversation;
  let hidden: StartedConversation;
  let sent: { id: string; sent_at: string };
  const tag = `zq${digits(6)}`;
  before(async () => {
    ({ s, wa } = await setUp());
    a = await startConversation(s, wa, { text: `Harga (diskon)? untuk ${tag}`, at: now() - 3 * HOUR });
    b = await startConversation(s, wa, { text: `harga diskon ${tag.toUpperCase()} minggu ini`, at: now() - 2 * HOUR });
    hidden = await startConversation(s, wa, { text: `rahasia ${tag}` });
    await moveToNewDivision(s, hidden.conversationId);
    fakeGraph().reset();
    acceptSends(wa);
    const res = await s.call('POST', `/api/conversations/${a.conversationId}/messages`, { body: { type: 'text', text: `Balasan agen soal ${tag}`, idempotency_key: key() } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    sent = res.body;
    fakeGraph().reset();
  });

  const search = (session: TestSession, query: string) => session.call('GET', `/api/messages/search?${query}`);
  const hitTexts = (res: { body: { data: { text: string }[] } }) => res.body.data.map((m) => m.text);

  it('finds messages containing the text, case-insensitively, newest first, each with its conversation', async () => {
    const res = await search(s, `q=${tag.toUpperCase()}`);
    expect(res.status).to.equal(200);
    expect(hitTexts(res)).to.deep.equal([`Balasan agen soal ${tag}`, `rahasia ${tag}`, `harga diskon ${tag.toUpperCase()} minggu ini`, `Harga (diskon)? untuk ${tag}`]);
    expect(res.body.data.map((m: { conversation_id: string }) => m.conversation_id)).to.deep.equal([a.conversationId, hidden.conversationId, b.conversationId, a.conversationId]);
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 4, total_pages: 1 });
    const page2 = await search(s, `q=${tag}&limit=3&page=2`);
    expect(hitTexts(page2)).to.deep.equal([`Harga (diskon)? untuk ${tag}`]);
  });

  it('takes the query literally, not as a pattern', async () => {
    const res = await search(s, `q=${encodeURIComponent('harga (diskon)?')}`);
    expect(hitTexts(res)).to.deep.equal([`Harga (diskon)? untuk ${tag}`]);
    expect((await search(s, `q=${encodeURIComponent('.*')}`)).body.data).to.have.length(0);
  });

  it('filters by conversation, contact, agent, channel and time', async () => {
    expect(hitTexts(await search(s, `q=${tag}&conversation_id=${b.conversationId}`))).to.deep.equal([`harga diskon ${tag.toUpperCase()} minggu ini`]);
    expect(hitTexts(await search(s, `q=${tag}&contact_id=${a.contactId}`))).to.deep.equal([`Balasan agen soal ${tag}`, `Harga (diskon)? untuk ${tag}`]);
    expect(hitTexts(await search(s, `q=${tag}&agent_id=${s.userId}`))).to.deep.equal([`Balasan agen soal ${tag}`]);
    expect((await search(s, `q=${tag}&channel=email`)).body.data).to.have.length(0);
    expect((await search(s, `q=${tag}&channel=whatsapp`)).body.data).to.have.length(4);
    const from = new Date(Date.now() - 150 * 60_000).toISOString();
    const to = new Date(Date.now() - 60 * 60_000).toISOString();
    expect(hitTexts(await search(s, `q=${tag}&from=${from}&to=${to}`))).to.deep.equal([`harga diskon ${tag.toUpperCase()} minggu ini`]);
    expect(hitTexts(await search(s, `q=${tag}&from=${encodeURIComponent(sent.sent_at)}`))).to.deep.equal([`Balasan agen soal ${tag}`]);
  });

  it('searches only the conversations the caller may see, and only the caller’s tenant', async () => {
    const agent = await userWithPermissions(s, ['conversations.view']);
    const res = await search(agent, `q=${tag}`);
    expect(res.status).to.equal(200);
    expect(res.body.data.map((m: { conversation_id: string }) => m.conversation_id)).to.not.include(hidden.conversationId);
    expect(res.body.pagination.total).to.equal(3);
    expect((await search(agent, `q=${tag}&conversation_id=${hidden.conversationId}`)).body.data).to.have.length(0);
    const supervisor = await userWithPermissions(s, ['conversations.view', 'conversations.view_all']);
    expect((await search(supervisor, `q=${tag}`)).body.pagination.total).to.equal(4);

    const other = await createSession();
    const foreign = await search(other, `q=${tag}&conversation_id=${a.conversationId}`);
    expect(foreign.status).to.equal(200);
    expect(foreign.body.data).to.have.length(0);
    expect((await search(other, `q=${tag}`)).body.pagination.total).to.equal(0);
  });

  it('answers 400 for invalid queries', async () => {
    const bad = ['', 'q=a', `q=${'x'.repeat(101)}`, `q=${tag}&channel=sms`, `q=${tag}&from=yesterday`, `q=${tag}&from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z`, `q=${tag}&agent_id=nope`, `q=${tag}&contact_id=1`, `q=${tag}&conversation_id=x`, `q=${tag}&limit=101`, `q=${tag}&sort=asc`];
    for (const query of bad) {
      const res = await search(s, query);
      expect(res.status, query).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
  });

  itChecksAccess('GET', () => `/api/messages/search?q=${tag}`, 'conversations.view', () => s);
});
