/**
 * Chat expiration rules over real HTTP, and the sweeper that applies them: conversations whose
 * customer went quiet expire through their actors, once, with the rule's closing message sent
 * once where the channel's window allows it.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { conversations } from '../../src/models/conversation.js';
import { messages } from '../../src/models/message.js';
import { applyExpirationRules } from '../../src/services/chat-expiration.js';
import { fakeGraph } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import type { RecordedRequest } from '../support/fake-graph.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

const hoursAgo = (h: number) => Math.floor(Date.now() / 1000) - Math.round(h * 3600);

describe('Chat Expiration', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
  });
  beforeEach(() => {
    fakeGraph().reset();
    fakeGraph().on('POST', `/v21.0/${wa.phoneNumberId}/messages`, (req: RecordedRequest) => ({
      body: { messaging_product: 'whatsapp', contacts: [{ input: (req.json as { to: string }).to, wa_id: (req.json as { to: string }).to }], messages: [{ id: `wamid.${randomBytes(12).toString('base64url')}` }] },
    }));
  });
  afterEach(() => expect(fakeGraph().unexpected.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]));
  after(async () => {
    // Leave no enabled rule sweeping this tenant while other files run.
    await s.call('PUT', '/api/chat-expiration-rules/whatsapp', { body: { enabled: false, expire_after_hours: 1 } });
  });

  const closingSends = (t: string) => fakeGraph().requests.filter((r) => r.method === 'POST' && (r.json as { text?: { body?: string } }).text?.body === t);
  const statusOf = async (id: string) => (await conversations.findOwned(s.tenantId, id)).status;

  describe('PUT /api/chat-expiration-rules/{channel}', () => {
    it('creates a channel’s rule (201), replaces it (200), and lists it', async () => {
      const session = await createSession();
      expect((await session.call('GET', '/api/chat-expiration-rules')).body).to.deep.equal([]);
      const created = await session.call('PUT', '/api/chat-expiration-rules/email', { body: { enabled: true, expire_after_hours: 48, closing_message: 'Terima kasih, percakapan ditutup.' } });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body).to.include({ channel: 'email', enabled: true, expire_after_hours: 48, closing_message: 'Terima kasih, percakapan ditutup.' });
      const replaced = await session.call('PUT', '/api/chat-expiration-rules/email', { body: { enabled: false, expire_after_hours: 12 } });
      expect(replaced.status).to.equal(200);
      expect(replaced.body).to.include({ id: created.body.id, enabled: false, expire_after_hours: 12, closing_message: null });
      await session.call('PUT', '/api/chat-expiration-rules/whatsapp', { body: { enabled: true, expire_after_hours: 72 } });
      const list = await session.call('GET', '/api/chat-expiration-rules');
      expect(list.status).to.equal(200);
      expect(list.body.map((r: { channel: string }) => r.channel)).to.deep.equal(['email', 'whatsapp']);
    });

    it('answers 400 for an unknown channel and a malformed rule', async () => {
      expect((await s.call('PUT', '/api/chat-expiration-rules/telegram', { body: { enabled: true, expire_after_hours: 4 } })).status).to.equal(400);
      for (const body of [{}, { enabled: true }, { enabled: 'yes', expire_after_hours: 4 }, { enabled: true, expire_after_hours: 0 }, { enabled: true, expire_after_hours: 721 }, { enabled: true, expire_after_hours: 1.5 }, { enabled: true, expire_after_hours: 4, closing_message: '  ' }, { enabled: true, expire_after_hours: 4, extra: 1 }]) {
        const res = await s.call('PUT', '/api/chat-expiration-rules/whatsapp', { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
      }
    });

    it('answers 422 for a closing message that WhatsApp’s 24-hour window could never let through', async () => {
      const res = await s.call('PUT', '/api/chat-expiration-rules/whatsapp', { body: { enabled: true, expire_after_hours: 24, closing_message: 'Sampai jumpa' } });
      expect(res.status).to.equal(422);
      expect(res.body.message).to.include('24 hours');
      // E-mail has no window.
      expect((await s.call('PUT', '/api/chat-expiration-rules/email', { body: { enabled: false, expire_after_hours: 24, closing_message: 'Sampai jumpa' } })).status).to.equal(201);
    });

    it('keeps each organization’s rules its own', async () => {
      const a = await createSession();
      const b = await createSession();
      await a.call('PUT', '/api/chat-expiration-rules/messenger', { body: { enabled: true, expire_after_hours: 5 } });
      const theirs = await b.call('PUT', '/api/chat-expiration-rules/messenger', { body: { enabled: false, expire_after_hours: 9 } });
      expect(theirs.status).to.equal(201);
      expect((await a.call('GET', '/api/chat-expiration-rules')).body.map((r: { expire_after_hours: number }) => r.expire_after_hours)).to.deep.equal([5]);
      expect((await b.call('GET', '/api/chat-expiration-rules')).body.map((r: { expire_after_hours: number }) => r.expire_after_hours)).to.deep.equal([9]);
    });

    itChecksAccess('PUT', () => '/api/chat-expiration-rules/whatsapp', 'settings.manage', () => s, { body: { enabled: false, expire_after_hours: 4 } });
  });

  describe('GET /api/chat-expiration-rules', () => {
    itChecksAccess('GET', () => '/api/chat-expiration-rules', 'settings.manage', () => s);
  });

  describe('the chat-expiration sweeper', () => {
    it('expires conversations silent longer than the rule, once, sending the closing message once inside the window', async function () {
      this.timeout(30_000);
      const quiet = await startConversation(s, wa, { at: hoursAgo(2) });
      const longQuiet = await startConversation(s, wa, { at: hoursAgo(30) });
      const recent = await startConversation(s, wa, { at: hoursAgo(0.2) });
      const closing = `Percakapan ditutup ${randomBytes(3).toString('hex')}`;
      const rule = await s.call('PUT', '/api/chat-expiration-rules/whatsapp', { body: { enabled: true, expire_after_hours: 1, closing_message: closing } });
      expect(rule.status, JSON.stringify(rule.body)).to.be.oneOf([200, 201]);
      // The server's sweeper job (every 300 ms in tests) applies it; the pass is also run here,
      // because a server process an earlier test killed may still hold the job's Agenda lock
      // (lockLifetime 60 s). Whichever pass gets there first, the outcome below is the same.
      await until(async () => {
        await applyExpirationRules();
        return (await statusOf(quiet.conversationId)) === 'expired' && (await statusOf(longQuiet.conversationId)) === 'expired';
      }, 'the sweeper to expire both', 15_000);
      // Running again, here and there, changes nothing and sends nothing more.
      const again = await applyExpirationRules();
      expect(again.closingSent).to.equal(0);
      await applyExpirationRules();
      expect(await statusOf(recent.conversationId)).to.equal('open');
      // The closing message went to the customer who wrote 2 h ago, once; 30 h ago is outside WhatsApp's window.
      const sent = closingSends(closing);
      expect(sent.map((r) => (r.json as { to: string }).to)).to.deep.equal([quiet.from]);
      const stored = await messages.find({ tenant_id: s.tenantId, conversation_id: quiet.conversationId, direction: 'outbound' });
      expect(stored.map((m) => [m.text, m.sender_type, m.status])).to.deep.equal([[closing, 'system', 'sent']]);
      expect(await messages.count({ tenant_id: s.tenantId, conversation_id: longQuiet.conversationId, direction: 'outbound' })).to.equal(0);
      // The customer's next message starts a new conversation.
      const next = await startConversation(s, wa, { from: quiet.from });
      expect(next.conversationId).to.not.equal(quiet.conversationId);
    });

    it('applies the same closing message through POST /api/conversations/expire', async () => {
      const closing = `Tutup manual ${randomBytes(3).toString('hex')}`;
      await s.call('PUT', '/api/chat-expiration-rules/whatsapp', { body: { enabled: false, expire_after_hours: 1, closing_message: closing } });
      const quiet = await startConversation(s, wa, { at: hoursAgo(3) });
      // A disabled rule sends nothing.
      const res = await s.call('POST', '/api/conversations/expire', { body: { older_than_hours: 2 } });
      expect(res.status).to.equal(200);
      expect(res.body.expired).to.include(quiet.conversationId);
      expect(closingSends(closing)).to.have.length(0);
      await s.call('PUT', '/api/chat-expiration-rules/whatsapp', { body: { enabled: true, expire_after_hours: 12, closing_message: closing } });
      const other = await startConversation(s, wa, { at: hoursAgo(3) });
      const enabled = await s.call('POST', '/api/conversations/expire', { body: { older_than_hours: 2 } });
      expect(enabled.body).to.deep.include({ expired: [other.conversationId], count: 1 });
      expect(closingSends(closing).map((r) => (r.json as { to: string }).to)).to.deep.equal([other.from]);
    });
  });
});
