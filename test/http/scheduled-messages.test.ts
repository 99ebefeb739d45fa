/**
 * Scheduled messages over real HTTP: scheduling in UTC or the tenant's local time, the send at
 * the due time through the conversation with WhatsApp's 24-hour window, cancelling, the
 * sent/failed/cancelled events on real Socket.IO clients (once, to those who may see the
 * conversation), and sending exactly once with two server processes and after a process is
 * killed mid-batch.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import { appContext } from '../../src/context.js';
import { collectionOf } from '../../src/models/driver.js';
import { messages } from '../../src/models/message.js';
import { EventModel } from '../../src/models/event.js';
import { ScheduledMessageModel, scheduledMessages } from '../../src/models/scheduled-message.js';
import { sweepStuckSends } from '../../src/services/outbound.js';
import { dispatchDueScheduledMessages } from '../../src/services/scheduled-dispatch.js';
import { scheduledStatusEvent } from '../../src/services/scheduled-events.js';
import { baseUrl, fakeGraph, testServerEnv } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import type { RecordedRequest } from '../support/fake-graph.js';
import { startServerProcess } from '../support/server-process.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { openSocket, waitFor, type TestSocket } from '../support/sockets.js';
import { connectWhatsapp, digits, startConversation, until, type StartedConversation, type WhatsappAccount } from '../support/whatsapp.js';

const key = () => `sched-${randomUUID()}`;
const HOUR = 3600;
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** An instant `ms` from now, with an offset. */
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const text = (t: string) => ({ type: 'text', text: t, idempotency_key: key() });

/** Makes the fake Graph API accept sends on this number, after `delayMs`. */
function acceptSends(wa: WhatsappAccount, delayMs = 0): void {
  fakeGraph().on('POST', `/v21.0/${wa.phoneNumberId}/messages`, async (req: RecordedRequest) => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const body = req.json as { to?: string };
    return { body: { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id: `wamid.${randomBytes(12).toString('base64url')}` }] } };
  });
}

const sendsTo = (wa: WhatsappAccount) => fakeGraph().requests.filter((r) => r.method === 'POST' && r.path === `/v21.0/${wa.phoneNumberId}/messages`);
const sentTexts = (wa: WhatsappAccount) => sendsTo(wa).map((r) => (r.json as { text?: { body?: string } }).text?.body);

/** The scheduled message as the list shows it. */
async function listed(s: TestSession, conversationId: string, id: string) {
  const res = await s.call('GET', `/api/conversations/${conversationId}/scheduled-messages?limit=100`);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return (res.body.data as { id: string; status: string }[]).find((m) => m.id === id) as Record<string, unknown> & { status: string };
}

/** Waits until the scheduled message reaches a final status, and answers it. */
const settled = (s: TestSession, conversationId: string, id: string, ms = 10_000) =>
  until(async () => {
    const m = await listed(s, conversationId, id);
    return m && ['sent', 'failed', 'cancelled'].includes(m.status) ? m : null;
  }, `scheduled message ${id} to settle`, ms);

/** A division the conversation moves to, so agents outside it no longer see it. */
async function moveToNewDivision(s: TestSession, conversationId: string): Promise<void> {
  const division = await s.call('POST', '/api/divisions', { body: { name: `Sched ${digits(5)}` } });
  expect(division.status, JSON.stringify(division.body)).to.equal(201);
  const moved = await s.call('POST', `/api/conversations/${conversationId}/transfer`, { body: { to_division_id: division.body.id, reason: 'billing' } });
  expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
}

describe('Scheduled Messages', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let conv: StartedConversation;
  const path = () => `/api/conversations/${conv.conversationId}/scheduled-messages`;

  before(async () => {
    s = await createSession();
    const tz = await s.call('PUT', '/api/settings/timezone', { body: { timezone: 'Asia/Jakarta' } });
    expect(tz.status, JSON.stringify(tz.body)).to.equal(200);
    wa = await connectWhatsapp(s);
    conv = await startConversation(s, wa);
  });
  beforeEach(() => {
    fakeGraph().reset();
    acceptSends(wa);
  });
  afterEach(() => expect(fakeGraph().unexpected.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]));

  describe('POST /api/conversations/{id}/scheduled-messages', () => {
    it('schedules at an instant with an offset, answering it in UTC and in the tenant’s time zone', async () => {
      const at = DateTime.now().setZone('Asia/Jakarta').plus({ hours: 3 }).startOf('minute');
      const res = await s.call('POST', path(), { body: { send_at: at.toISO(), message: text('Besok kami kirim') } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ status: 'scheduled', conversation_id: conv.conversationId, time_zone: 'Asia/Jakarta', message_id: null, failure_reason: null, created_by: s.userId });
      expect(res.body.send_at).to.equal(at.toUTC().toISO());
      expect(res.body.send_at_local).to.equal(at.toISO()).and.match(/\+07:00$/);
      expect(res.body.message).to.deep.equal({ type: 'text', text: 'Besok kami kirim' });
    });

    it('reads a date-time without an offset in the tenant’s time zone and stores it UTC', async () => {
      const local = DateTime.now().setZone('Asia/Jakarta').plus({ days: 2 }).set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
      const res = await s.call('POST', path(), { body: { send_at: local.toFormat("yyyy-MM-dd'T'HH:mm"), message: text('Selamat pagi') } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.send_at).to.equal(local.toUTC().toISO()).and.match(/T02:00:00.000Z$/);
      expect(res.body.send_at_local).to.equal(local.toISO());
      const stored = await scheduledMessages.findOwned(s.tenantId, res.body.id);
      expect(stored.send_at.toISOString()).to.equal(local.toUTC().toISO());
    });

    it('answers a retry with the same idempotency_key with the first schedule (200), and 409 in another conversation', async () => {
      const body = { send_at: inMs(HOUR * 1000), message: text('sekali saja') };
      const [a, b] = await Promise.all([s.call('POST', path(), { body }), s.call('POST', path(), { body })]);
      expect([a.status, b.status].sort()).to.deep.equal([200, 201]);
      expect(a.body.id).to.equal(b.body.id);
      expect([a, b].find((r) => r.status === 200)?.headers.get('idempotent-replayed')).to.equal('true');
      const other = await startConversation(s, wa);
      const elsewhere = await s.call('POST', `/api/conversations/${other.conversationId}/scheduled-messages`, { body });
      expect(elsewhere.status).to.equal(409);
    });

    it('answers 400 for a past instant, one too far ahead, a malformed time and a malformed message', async () => {
      const cases: [unknown, string][] = [
        [{ send_at: inMs(-60_000), message: text('lalu') }, 'send_at'],
        [{ send_at: inMs(366 * 86_400_000), message: text('jauh') }, 'send_at'],
        [{ send_at: 'next tuesday', message: text('x') }, 'send_at'],
        [{ send_at: '2031-02-30T10:00', message: text('x') }, 'send_at'],
        [{ send_at: inMs(HOUR * 1000), message: { type: 'text', text: '', idempotency_key: key() } }, 'message.text'],
        [{ send_at: inMs(HOUR * 1000), message: { type: 'text', text: 'no key' } }, 'message.idempotency_key'],
        [{ send_at: inMs(HOUR * 1000), message: text('x'), extra: 1 }, ''],
        [{ message: text('x') }, 'send_at'],
      ];
      for (const [body, field] of cases) {
        const res = await s.call('POST', path(), { body });
        expect(res.status, JSON.stringify({ body, answer: res.body })).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
        if (field) expect(JSON.stringify(res.body.details)).to.include(field);
      }
    });

    it('answers 400 for a local time that a daylight-saving change skips in the tenant’s zone', async () => {
      const ny = await createSession();
      expect((await ny.call('PUT', '/api/settings/timezone', { body: { timezone: 'America/New_York' } })).status).to.equal(200);
      const nyWa = await connectWhatsapp(ny);
      const nyConv = await startConversation(ny, nyWa);
      // The next day within a year on which 02:30 does not exist in New York.
      let day = DateTime.now().setZone('America/New_York').plus({ days: 1 }).startOf('day');
      while (DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: 2, minute: 30 }, { zone: 'America/New_York' }).hour === 2) day = day.plus({ days: 1 });
      const res = await ny.call('POST', `/api/conversations/${nyConv.conversationId}/scheduled-messages`, { body: { send_at: `${day.toFormat('yyyy-MM-dd')}T02:30`, message: text('x') } });
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.message).to.include('daylight saving');
    });

    it('answers 422 for a closed conversation', async () => {
      const closed = await startConversation(s, wa);
      expect((await s.call('PATCH', `/api/conversations/${closed.conversationId}/status`, { body: { status: 'closed' } })).status).to.equal(200);
      const res = await s.call('POST', `/api/conversations/${closed.conversationId}/scheduled-messages`, { body: { send_at: inMs(HOUR * 1000), message: text('x') } });
      expect(res.status).to.equal(422);
      expect(res.body.code).to.equal('state_not_allowed');
    });

    it('answers 404 for another tenant’s conversation and one the caller may not see', async () => {
      const other = await createSession();
      const foreign = await other.call('POST', path(), { body: { send_at: inMs(HOUR * 1000), message: text('intruder') } });
      expect(foreign.status).to.equal(404);
      const hidden = await startConversation(s, wa);
      await moveToNewDivision(s, hidden.conversationId);
      const agent = await userWithPermissions(s, ['conversations.view', 'messages.send']);
      const invisible = await agent.call('POST', `/api/conversations/${hidden.conversationId}/scheduled-messages`, { body: { send_at: inMs(HOUR * 1000), message: text('x') } });
      expect(invisible.status).to.equal(404);
      expect(await scheduledMessages.count({ tenant_id: s.tenantId, conversation_id: hidden.conversationId })).to.equal(0);
    });

    itChecksAccess('POST', () => path(), 'messages.send', () => s, { body: { send_at: inMs(HOUR * 1000), message: text('x') } });
  });

  describe('sending scheduled messages when due', () => {
    it('sends a due message once, as the scheduling agent’s message in the conversation', async () => {
      const res = await s.call('POST', path(), { body: { send_at: inMs(800), message: text('Pengingat pembayaran') } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      const done = await settled(s, conv.conversationId, res.body.id);
      expect(done).to.include({ status: 'sent', failure_reason: null });
      expect(sentTexts(wa).filter((t) => t === 'Pengingat pembayaran')).to.have.length(1);
      const m = await messages.findOwned(s.tenantId, done.message_id as string);
      expect(m).to.include({ conversation_id: conv.conversationId, sender_type: 'agent', sender_id: s.userId, text: 'Pengingat pembayaran', status: 'sent' });
      // The sweeper running again (here and in the server) sends nothing more.
      await dispatchDueScheduledMessages();
      expect(sentTexts(wa).filter((t) => t === 'Pengingat pembayaran')).to.have.length(1);
    });

    it('fails a free-form message due outside WhatsApp’s 24-hour window with the reason, and sends a template then', async () => {
      // The customer's last message leaves the window open now and closed when the message is due.
      const closing = await startConversation(s, wa, { at: nowSeconds() - 24 * HOUR + 3 });
      const p = `/api/conversations/${closing.conversationId}/scheduled-messages`;
      const free = await s.call('POST', p, { body: { send_at: inMs(4500), message: text('Masih ada pertanyaan?') } });
      expect(free.status, JSON.stringify(free.body)).to.equal(201);
      const template = { type: 'template', template: { name: 'follow_up', language: 'id' }, idempotency_key: key() };
      const tpl = await s.call('POST', p, { body: { send_at: inMs(4500), message: template } });
      expect(tpl.status, JSON.stringify(tpl.body)).to.equal(201);
      const failed = await settled(s, closing.conversationId, free.body.id, 15_000);
      expect(failed).to.include({ status: 'failed', message_id: null });
      expect((failed.failure_reason as { message: string }).message).to.include('24-hour').and.include('template');
      const sent = await settled(s, closing.conversationId, tpl.body.id, 15_000);
      expect(sent.status).to.equal('sent');
      expect(sendsTo(wa).map((r) => (r.json as { type: string }).type)).to.deep.equal(['template']);
    });

    it('records the provider’s refusal as failed with its error', async () => {
      fakeGraph().on('POST', `/v21.0/${wa.phoneNumberId}/messages`, () => ({ status: 400, body: { error: { message: '(#131026) Message undeliverable', type: 'OAuthException', code: 131026 } } }));
      const res = await s.call('POST', path(), { body: { send_at: inMs(500), message: text('tidak sampai') } });
      const done = await settled(s, conv.conversationId, res.body.id);
      expect(done.status).to.equal('failed');
      expect(done.failure_reason).to.deep.include({ code: '131026' });
      expect(done.message_id).to.be.a('string');
      expect(sendsTo(wa)).to.have.length(1);
    });
  });

  describe('GET /api/conversations/{id}/scheduled-messages', () => {
    let listConv: StartedConversation;
    before(async () => {
      listConv = await startConversation(s, wa);
    });
    const listPath = () => `/api/conversations/${listConv.conversationId}/scheduled-messages`;

    it('lists in send_at order with status, filters by status and pages', async () => {
      const later = await s.call('POST', listPath(), { body: { send_at: inMs(3 * HOUR * 1000), message: text('kedua') } });
      const sooner = await s.call('POST', listPath(), { body: { send_at: inMs(2 * HOUR * 1000), message: text('pertama') } });
      expect((await s.call('DELETE', `/api/scheduled-messages/${later.body.id}`)).status).to.equal(200);
      const all = await s.call('GET', listPath());
      expect(all.status).to.equal(200);
      expect(all.body.data.map((m: { id: string }) => m.id)).to.deep.equal([sooner.body.id, later.body.id]);
      expect(all.body.data.map((m: { status: string }) => m.status)).to.deep.equal(['scheduled', 'cancelled']);
      const waiting = await s.call('GET', `${listPath()}?status=scheduled`);
      expect(waiting.body.data.map((m: { id: string }) => m.id)).to.deep.equal([sooner.body.id]);
      const paged = await s.call('GET', `${listPath()}?limit=1&page=2`);
      expect(paged.body.data.map((m: { id: string }) => m.id)).to.deep.equal([later.body.id]);
      expect(paged.body.pagination).to.deep.equal({ page: 2, limit: 1, total: 2, total_pages: 2 });
    });

    it('answers 400 for an unknown status or a bad page', async () => {
      for (const q of ['status=queued', 'limit=0', 'page=x', 'extra=1']) expect((await s.call('GET', `${listPath()}?${q}`)).status, q).to.equal(400);
      expect((await s.call('GET', '/api/conversations/not-a-uuid/scheduled-messages')).status).to.equal(400);
    });

    it('answers 404 for another tenant’s conversation and one the caller may not see', async () => {
      const other = await createSession();
      expect((await other.call('GET', listPath())).status).to.equal(404);
      const hidden = await startConversation(s, wa);
      await moveToNewDivision(s, hidden.conversationId);
      const agent = await userWithPermissions(s, ['conversations.view']);
      expect((await agent.call('GET', `/api/conversations/${hidden.conversationId}/scheduled-messages`)).status).to.equal(404);
    });

    itChecksAccess('GET', () => listPath(), 'conversations.view', () => s);
  });

  describe('DELETE /api/scheduled-messages/{id}', () => {
    it('cancels a waiting message, which then never goes out; a second cancel is a 422', async () => {
      const res = await s.call('POST', path(), { body: { send_at: inMs(1500), message: text('batal') } });
      const cancelled = await s.call('DELETE', `/api/scheduled-messages/${res.body.id}`);
      expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
      expect(cancelled.body).to.include({ status: 'cancelled', cancelled_by: s.userId });
      const again = await s.call('DELETE', `/api/scheduled-messages/${res.body.id}`);
      expect(again.status).to.equal(422);
      expect(again.body.message).to.include('cancelled');
      await new Promise((r) => setTimeout(r, 2000));
      await dispatchDueScheduledMessages();
      expect(sentTexts(wa)).to.not.include('batal');
    });

    it('answers 422 for a message already sent', async () => {
      const res = await s.call('POST', path(), { body: { send_at: inMs(500), message: text('sudah terkirim') } });
      await settled(s, conv.conversationId, res.body.id);
      const late = await s.call('DELETE', `/api/scheduled-messages/${res.body.id}`);
      expect(late.status).to.equal(422);
      expect(late.body.message).to.include('sent');
    });

    it('answers 400 for a malformed id and 404 for an unknown one, another tenant’s, and one in a conversation the caller may not see', async () => {
      expect((await s.call('DELETE', '/api/scheduled-messages/nope')).status).to.equal(400);
      expect((await s.call('DELETE', `/api/scheduled-messages/${randomUUID()}`)).status).to.equal(404);
      const res = await s.call('POST', path(), { body: { send_at: inMs(HOUR * 1000), message: text('milik kami') } });
      const other = await createSession();
      expect((await other.call('DELETE', `/api/scheduled-messages/${res.body.id}`)).status).to.equal(404);
      const hidden = await startConversation(s, wa);
      const inHidden = await s.call('POST', `/api/conversations/${hidden.conversationId}/scheduled-messages`, { body: { send_at: inMs(HOUR * 1000), message: text('tersembunyi') } });
      await moveToNewDivision(s, hidden.conversationId);
      const agent = await userWithPermissions(s, ['conversations.view', 'messages.send']);
      expect((await agent.call('DELETE', `/api/scheduled-messages/${inHidden.body.id}`)).status).to.equal(404);
      expect((await scheduledMessages.findOwned(s.tenantId, res.body.id)).status).to.equal('scheduled');
    });

    itChecksAccess('DELETE', () => `/api/scheduled-messages/${randomUUID()}`, 'messages.send', () => s);
  });

  describe('realtime events of a scheduled message', () => {
    let sockets: TestSocket[] = [];
    const open = async (t: TestSession) => {
      const socket = await openSocket(baseUrl(), { token: t.token });
      sockets.push(socket);
      return socket;
    };
    afterEach(() => {
      for (const socket of sockets) socket.close();
      sockets = [];
    });

    /** The events of one name about one scheduled message a socket has received. */
    const about = (socket: TestSocket, event: string, id: string) => socket.named(event).filter((e) => e.data.id === id);

    /**
     * Cancels a new scheduled message in the main conversation (no division: every agent sees
     * it) and waits until `socket` has the cancel: events arrive in seq order, so whatever was
     * appended before it has arrived too.
     */
    async function marker(socket: TestSocket): Promise<void> {
      const res = await s.call('POST', path(), { body: { send_at: inMs(HOUR * 1000), message: text('penanda') } });
      expect((await s.call('DELETE', `/api/scheduled-messages/${res.body.id}`)).status).to.equal(200);
      await waitFor(() => about(socket, 'scheduled_message.cancelled', res.body.id).length === 1, 'the marker cancel');
    }

    it('emits scheduled_message.sent once, as the list shows it, to who may see the conversation; a retried dispatch emits nothing more', async () => {
      const hidden = await startConversation(s, wa);
      await moveToNewDivision(s, hidden.conversationId);
      const outsider = await userWithPermissions(s, ['conversations.view']);
      const [adminSocket, outsiderSocket] = [await open(s), await open(outsider)];
      const res = await s.call('POST', `/api/conversations/${hidden.conversationId}/scheduled-messages`, { body: { send_at: inMs(500), message: text('Tagihan jatuh tempo') } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      await waitFor(() => about(adminSocket, 'scheduled_message.sent', res.body.id).length > 0, 'scheduled_message.sent', 10_000);
      const [sent] = about(adminSocket, 'scheduled_message.sent', res.body.id);
      expect(sent?.tenant_id).to.equal(s.tenantId);
      expect(sent?.data).to.deep.equal(await listed(s, hidden.conversationId, res.body.id));
      expect(sent?.data).to.include({ status: 'sent', failure_reason: null }).and.to.have.property('message_id').that.is.a('string');

      // Retried passes (here, twice at once, and the server's own sweeper) find it sent.
      await Promise.all([dispatchDueScheduledMessages(), dispatchDueScheduledMessages()]);
      await marker(adminSocket);
      await marker(outsiderSocket);
      expect(about(adminSocket, 'scheduled_message.sent', res.body.id)).to.have.length(1);
      expect(await EventModel.countDocuments({ tenant_id: s.tenantId, event: 'scheduled_message.sent', 'data.id': res.body.id }).exec()).to.equal(1);
      expect(outsiderSocket.events.filter((e) => e.data?.id === res.body.id || e.data?.conversation_id === hidden.conversationId), 'events of a conversation the outsider may not see').to.deep.equal([]);
    });

    it('emits scheduled_message.failed with the reason, and scheduled_message.cancelled with who cancelled', async () => {
      const socket = await open(s);
      fakeGraph().on('POST', `/v21.0/${wa.phoneNumberId}/messages`, () => ({ status: 400, body: { error: { message: '(#131026) Message undeliverable', type: 'OAuthException', code: 131026 } } }));
      const refused = await s.call('POST', path(), { body: { send_at: inMs(500), message: text('ditolak') } });
      await waitFor(() => about(socket, 'scheduled_message.failed', refused.body.id).length > 0, 'scheduled_message.failed', 10_000);
      const [failed] = about(socket, 'scheduled_message.failed', refused.body.id);
      expect(failed?.data.status).to.equal('failed');
      expect(failed?.data.failure_reason).to.deep.include({ code: '131026' });
      expect(failed?.data).to.deep.equal(await listed(s, conv.conversationId, refused.body.id));

      const waiting = await s.call('POST', path(), { body: { send_at: inMs(HOUR * 1000), message: text('dibatalkan') } });
      const cancelled = await s.call('DELETE', `/api/scheduled-messages/${waiting.body.id}`);
      expect(cancelled.status).to.equal(200);
      await waitFor(() => about(socket, 'scheduled_message.cancelled', waiting.body.id).length > 0, 'scheduled_message.cancelled');
      expect(about(socket, 'scheduled_message.cancelled', waiting.body.id).map((e) => e.data)).to.deep.equal([cancelled.body]);
      // A refused second cancel (422) emits nothing.
      expect((await s.call('DELETE', `/api/scheduled-messages/${waiting.body.id}`)).status).to.equal(422);
      await marker(socket);
      expect(about(socket, 'scheduled_message.cancelled', waiting.body.id)).to.have.length(1);
      expect(about(socket, 'scheduled_message.failed', refused.body.id)).to.have.length(1);
    });

    it('appends the event of a status whose process died before appending it, once however often the sweep runs', async () => {
      const socket = await open(s);
      const res = await s.call('POST', path(), { body: { send_at: inMs(HOUR * 1000), message: text('proses mati') } });
      // A process claimed it, recorded the refusal with its event in the same write, and died
      // before appending the event.
      const before = await scheduledMessages.findOwned(s.tenantId, res.body.id);
      const diedAt = new Date(Date.now() - 5 * 60_000);
      const change = { status: 'failed' as const, failure: { code: 'state_not_allowed', message: 'The conversation is closed' }, finished_at: diedAt, updated_at: diedAt, attempts: 1 };
      const outbox = [await scheduledStatusEvent({ ...before, ...change })];
      await collectionOf(ScheduledMessageModel).updateOne({ _id: res.body.id }, { $set: { ...change, outbox, outbox_at: diedAt } });
      const appended = () => EventModel.countDocuments({ tenant_id: s.tenantId, event: 'scheduled_message.failed', 'data.id': res.body.id }).exec();
      expect(await appended()).to.equal(0);

      await Promise.all([dispatchDueScheduledMessages(), dispatchDueScheduledMessages()]);
      await waitFor(() => about(socket, 'scheduled_message.failed', res.body.id).length > 0, 'the recovered scheduled_message.failed');
      expect(about(socket, 'scheduled_message.failed', res.body.id).map((e) => e.data)).to.deep.equal([await listed(s, conv.conversationId, res.body.id)]);

      // Died again after appending but before marking it appended: the next sweeps append it again, and the log keeps one.
      await collectionOf(ScheduledMessageModel).updateOne({ _id: res.body.id }, { $set: { outbox_at: diedAt } });
      await Promise.all([dispatchDueScheduledMessages(), dispatchDueScheduledMessages()]);
      expect((await scheduledMessages.findOwned(s.tenantId, res.body.id)).outbox_at).to.equal(null);
      await marker(socket);
      expect(about(socket, 'scheduled_message.failed', res.body.id)).to.have.length(1);
      expect(await appended()).to.equal(1);
    });
  });

  describe('scheduled messages across server processes', () => {
    it('sends each due message exactly once while two server processes and extra passes sweep', async function () {
      this.timeout(60_000);
      const second = await startServerProcess(testServerEnv());
      try {
        acceptSends(wa, 50);
        const convs = await Promise.all(Array.from({ length: 4 }, () => startConversation(s, wa)));
        const due = inMs(2500);
        const texts = Array.from({ length: 40 }, (_, i) => `serentak ${i}`);
        const created = await Promise.all(
          texts.map((t, i) => s.call('POST', `/api/conversations/${(convs[i % 4] as StartedConversation).conversationId}/scheduled-messages`, { body: { send_at: due, message: text(t) } })),
        );
        expect(created.map((r) => r.status)).to.deep.equal(texts.map(() => 201));
        // Extra passes in this process race the two servers' sweepers.
        const extra = until(async () => {
          await Promise.all([dispatchDueScheduledMessages(), dispatchDueScheduledMessages()]);
          return (await scheduledMessages.count({ tenant_id: s.tenantId, _id: { $in: created.map((r) => r.body.id) }, status: 'sent' })) === texts.length;
        }, 'every scheduled message sent', 30_000);
        await extra;
        const counts = new Map<string, number>();
        for (const t of sentTexts(wa)) counts.set(t as string, (counts.get(t as string) ?? 0) + 1);
        expect(texts.map((t) => counts.get(t) ?? 0)).to.deep.equal(texts.map(() => 1));
      } finally {
        // Stopped, not killed: it gives back the sweeper's Agenda lock for the tests that follow.
        const exited = new Promise((r) => second.child.once('exit', r));
        second.child.kill('SIGTERM');
        await exited;
      }
    });

    it('a message claimed by a process that is killed mid-batch is sent once by another', async function () {
      this.timeout(90_000);
      const texts = Array.from({ length: 30 }, (_, i) => `setelah crash ${i}`);
      const created = await Promise.all(texts.map((t) => s.call('POST', path(), { body: { send_at: inMs(HOUR * 1000), message: text(t) } })));
      const ids = created.map((r) => r.body.id as string);
      // A first claimer died long ago: the claims are stale for a process with a 1 s lease, not
      // yet for this one (60 s), so the second process takes them over, sending slowly.
      const past = new Date(Date.now() - 5000);
      await collectionOf(ScheduledMessageModel).updateMany(
        { _id: { $in: ids } },
        { $set: { status: 'sending', send_at: past, claimed_at: past, claim_token: 'dead', claimed_by: 'dead-process', attempts: 1 } },
      );
      acceptSends(wa, 1500);
      const second = await startServerProcess({ ...testServerEnv(), SCHEDULED_MESSAGES_CLAIM_LEASE_MS: '1000', SCHEDULED_MESSAGES_SWEEP_MS: '200' });
      await until(() => Promise.resolve(sendsTo(wa).length > 0), 'the second process to send', 20_000);
      second.kill();
      const heldByKilled = await scheduledMessages.find({ tenant_id: s.tenantId, _id: { $in: ids }, status: 'sending', claimed_by: { $nin: ['dead-process', appContext().actors.processId] } });
      expect(heldByKilled.length, 'claims the killed process held').to.be.greaterThan(0);
      // This process takes over the killed one's claims once they are a second old (the killed
      // process's actor leases lapse meanwhile); sends it handed over without recording the answer
      // are never sent again but failed as unknown by the stuck-send sweeper.
      acceptSends(wa);
      await until(async () => {
        await new Promise((r) => setTimeout(r, 1100));
        await dispatchDueScheduledMessages({ claimLeaseMs: 1000 });
        await sweepStuckSends(new Date(Date.now() + 3 * 60_000));
        return (await scheduledMessages.count({ tenant_id: s.tenantId, _id: { $in: ids }, status: { $in: ['scheduled', 'sending'] } })) === 0;
      }, 'every message of the killed process settled', 60_000);
      const final = await scheduledMessages.find({ tenant_id: s.tenantId, _id: { $in: ids } });
      const counts = new Map<string, number>();
      for (const t of sentTexts(wa)) counts.set(t as string, (counts.get(t as string) ?? 0) + 1);
      // Never twice. One the killed process had handed over (its request in flight, the fake
      // recording only what it answered) is failed as unknown, not sent again; every sent one
      // reached the provider once.
      expect(texts.filter((t) => (counts.get(t) ?? 0) > 1), 'sent twice').to.deep.equal([]);
      const byText = new Map(final.map((m) => [(m.content as { text?: string }).text, m]));
      for (const t of texts) {
        const m = byText.get(t);
        if (m?.status === 'sent') expect(counts.get(t), t).to.equal(1);
        else expect(m?.failure?.code, t).to.equal('outcome_unknown');
      }
      const recovered = final.filter((m) => heldByKilled.some((h) => h._id === m._id) && m.status === 'sent' && m.attempts >= 3);
      expect(recovered.length, 'claims of the killed process sent here').to.be.greaterThan(0);
      for (const m of final) {
        expect(m.status, JSON.stringify(m)).to.be.oneOf(['sent', 'failed']);
        if (m.status === 'failed') expect(m.failure?.code).to.equal('outcome_unknown');
      }
    });

    it('answers the due query from its index', async () => {
      const explained = (await ScheduledMessageModel.find({ status: 'scheduled', send_at: { $lte: new Date() } }).sort({ send_at: 1 }).limit(50).explain('queryPlanner')) as unknown as { queryPlanner: { winningPlan: unknown } };
      expect(JSON.stringify(explained.queryPlanner.winningPlan)).to.include('IXSCAN').and.include('status_1_send_at_1').and.not.include('COLLSCAN');
    });
  });
});
