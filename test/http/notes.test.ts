import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { conversations } from '../../src/models/conversation.js';
import { messages } from '../../src/models/message.js';
import { notes } from '../../src/models/note.js';
import { baseUrl, fakeGraph } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

/** A socket that records every domain event it receives. */
interface Listener {
  events: { event: string; data: any }[];
  close(): void;
}

async function listen(token: string): Promise<Listener> {
  const socket: Socket = connect(baseUrl(), { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
  const events: Listener['events'] = [];
  socket.onAny((event: string, payload: { data: unknown }) => {
    if (event.includes('.') && !event.startsWith('sync.')) events.push({ event, data: payload.data });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('sync.done', () => resolve());
    socket.once('connect_error', reject);
  });
  return { events, close: () => socket.close() };
}

const conversation = (tenantId: string, id: string) => conversations.findOwned(tenantId, id);
const storedNote = (tenantId: string, id: string) => notes.findOwnedOrNull(tenantId, id);
const notesPath = (conversationId: string) => `/api/conversations/${conversationId}/notes`;

describe('Notes', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  /** A conversation in no division: every holder of conversations.view sees it. */
  let open: string;
  /** A conversation moved into a division that `outsider` is not in. */
  let hidden: string;
  let divisionId: string;
  /** Sees conversations and writes notes, but is in no division. */
  let outsider: TestSession;
  let other: TestSession;
  let otherConversation: string;
  let otherNoteId: string;

  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
    open = (await startConversation(s, wa, { text: 'Paket saya belum sampai' })).conversationId;
    hidden = (await startConversation(s, wa, { text: 'Saya mau komplain' })).conversationId;
    const division = await s.call('POST', '/api/divisions', { body: { name: 'Billing' } });
    expect(division.status, JSON.stringify(division.body)).to.equal(201);
    divisionId = division.body.id;
    const moved = await s.call('POST', `/api/conversations/${hidden}/transfer`, { body: { to_division_id: divisionId, reason: 'Billing question' } });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    outsider = await userWithPermissions(s, ['conversations.view', 'notes.manage']);

    other = await createSession();
    const otherWa = await connectWhatsapp(other);
    otherConversation = (await startConversation(other, otherWa)).conversationId;
    const otherNote = await other.call('POST', notesPath(otherConversation), { body: { body: 'Their secret remark' } });
    expect(otherNote.status).to.equal(201);
    otherNoteId = otherNote.body.id;
  });

  describe('POST /api/conversations/{id}/notes', () => {
    itChecksAccess('POST', () => notesPath(open), 'notes.manage', () => s, { body: { body: 'hi' } });

    it('creates a private note, counts it on the conversation and announces it', async () => {
      const listener = await listen(s.token);
      try {
        const before = await conversation(s.tenantId, open);
        const res = await s.call('POST', notesPath(open), { body: { body: '  Customer is a VIP, handle with care  ', mentions: [outsider.userId, outsider.userId] } });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        expect(res.body).to.include({ conversation_id: open, author_id: s.userId, body: 'Customer is a VIP, handle with care', private: true, edited_at: null });
        expect(res.body.author).to.deep.equal({ id: s.userId, name: 'Admin' });
        expect(res.body.mentions).to.deep.equal([outsider.userId]);
        expect(res.body.created_at).to.match(/Z$/);
        expect((await conversation(s.tenantId, open)).note_count).to.equal(before.note_count + 1);
        const event = await until(async () => listener.events.find((e) => e.event === 'note.created' && e.data.id === res.body.id), 'note.created');
        expect(event.data.body).to.equal('Customer is a VIP, handle with care');
        // One committed change, one event: no message.created for a note.
        expect(listener.events.filter((e) => e.event.startsWith('message.'))).to.have.length(0);
      } finally {
        listener.close();
      }
    });

    it('never threads a note into the messages nor sends it on the channel', async () => {
      const text = `Internal only ${randomUUID()}`;
      const before = await conversation(s.tenantId, open);
      const res = await s.call('POST', notesPath(open), { body: { body: text } });
      expect(res.status).to.equal(201);
      const after = await conversation(s.tenantId, open);
      expect(after.message_count).to.equal(before.message_count);
      expect(after.last_message_preview).to.equal(before.last_message_preview);
      const stored = await messages.find({ tenant_id: s.tenantId, conversation_id: open });
      expect(stored).to.have.length(before.message_count);
      expect(stored.some((m) => (m.text ?? '').includes(text))).to.equal(false);
      const list = await s.call('GET', `/api/conversations/${open}/messages?limit=100`);
      expect(list.status).to.equal(200);
      expect(list.body.data).to.have.length(before.message_count);
      expect(JSON.stringify(list.body)).to.not.include(text);
      expect(fakeGraph().requests.some((r) => r.text.includes(text))).to.equal(false);
    });

    it('lets a mentioned agent outside the conversation’s division receive the note, and nobody else there', async () => {
      const mentioned = await userWithPermissions(s, ['conversations.view']);
      const [mentionedSocket, outsiderSocket] = await Promise.all([listen(mentioned.token), listen(outsider.token)]);
      try {
        const res = await s.call('POST', notesPath(hidden), { body: { body: 'Can you check the refund?', mentions: [mentioned.userId] } });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        const event = await until(async () => mentionedSocket.events.find((e) => e.event === 'note.created'), 'note.created for the mentioned agent');
        expect(event.data).to.include({ id: res.body.id, conversation_id: hidden });
        expect(outsiderSocket.events.filter((e) => e.data?.conversation_id === hidden)).to.have.length(0);
        // The mention does not open the conversation to them.
        expect((await mentioned.call('GET', notesPath(hidden))).status).to.equal(404);
      } finally {
        mentionedSocket.close();
        outsiderSocket.close();
      }
    });

    it('answers 400 for a bad body and stores nothing', async () => {
      const before = (await conversation(s.tenantId, open)).note_count;
      const bad = [
        {},
        { body: '' },
        { body: '   ' },
        { body: 42 },
        { body: 'x'.repeat(5001) },
        { body: 'ok', extra: true },
        { body: 'ok', mentions: ['not-a-uuid'] },
        { body: 'ok', mentions: 'everyone' },
      ];
      for (const body of bad) {
        const res = await s.call('POST', notesPath(open), { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
      }
      expect((await s.call('POST', '/api/conversations/not-a-uuid/notes', { body: { body: 'ok' } })).status).to.equal(400);
      expect((await conversation(s.tenantId, open)).note_count).to.equal(before);
    });

    it('accepts exactly 5000 characters', async () => {
      const res = await s.call('POST', notesPath(open), { body: { body: 'y'.repeat(5000) } });
      expect(res.status).to.equal(201);
      expect(res.body.body).to.have.length(5000);
    });

    it('answers 400 when a mention is not a live agent of the organization', async () => {
      const gone = await userWithPermissions(s, ['conversations.view']);
      expect((await s.call('DELETE', `/api/agents/${gone.userId}`)).status).to.equal(200);
      for (const id of [randomUUID(), other.userId, gone.userId]) {
        const res = await s.call('POST', notesPath(open), { body: { body: 'fyi', mentions: [id] } });
        expect(res.status, id).to.equal(400);
        expect(JSON.stringify(res.body.details)).to.include(id);
      }
    });

    it('answers 404 for another tenant’s conversation, without writing to it', async () => {
      const before = (await conversation(other.tenantId, otherConversation)).note_count;
      const res = await s.call('POST', notesPath(otherConversation), { body: { body: 'sneaky' } });
      expect(res.status).to.equal(404);
      expect(res.body.code).to.equal('not_found');
      expect((await conversation(other.tenantId, otherConversation)).note_count).to.equal(before);
      expect((await s.call('POST', notesPath(randomUUID()), { body: { body: 'nobody' } })).status).to.equal(404);
    });

    it('answers 404 for a conversation the caller may not see', async () => {
      const res = await outsider.call('POST', notesPath(hidden), { body: { body: 'peek' } });
      expect(res.status).to.equal(404);
    });
  });

  describe('GET /api/conversations/{id}/notes', () => {
    let conversationId: string;
    let ids: string[];
    before(async () => {
      conversationId = (await startConversation(s, wa, { text: 'Pertanyaan soal tagihan' })).conversationId;
      ids = [];
      for (const body of ['first', 'second', 'third']) {
        const res = await s.call('POST', notesPath(conversationId), { body: { body } });
        expect(res.status).to.equal(201);
        ids.push(res.body.id);
      }
      const byOutsider = await outsider.call('POST', notesPath(conversationId), { body: { body: 'fourth, by someone else' } });
      expect(byOutsider.status).to.equal(201);
      ids.push(byOutsider.body.id);
    });

    itChecksAccess('GET', () => notesPath(open), 'conversations.view', () => s);

    it('lists live notes oldest first, page by page', async () => {
      const first = await outsider.call('GET', `${notesPath(conversationId)}?limit=3`);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body.data.map((n: any) => n.id)).to.deep.equal(ids.slice(0, 3));
      expect(first.body.data.map((n: any) => n.body)).to.deep.equal(['first', 'second', 'third']);
      expect(first.body.pagination).to.deep.equal({ page: 1, limit: 3, total: 4, total_pages: 2 });
      const second = await s.call('GET', `${notesPath(conversationId)}?limit=3&page=2`);
      expect(second.body.data.map((n: any) => n.id)).to.deep.equal(ids.slice(3));
      expect(second.body.data[0].author).to.include({ id: outsider.userId });
    });

    it('filters by author', async () => {
      const res = await s.call('GET', `${notesPath(conversationId)}?author_id=${outsider.userId}`);
      expect(res.status).to.equal(200);
      expect(res.body.data.map((n: any) => n.id)).to.deep.equal([ids[3]]);
    });

    it('answers 400 for bad paging, unknown filters or a malformed id', async () => {
      for (const q of ['limit=0', 'limit=101', 'page=0', 'limit=abc', 'author_id=nope', 'sort=desc']) {
        const res = await s.call('GET', `${notesPath(conversationId)}?${q}`);
        expect(res.status, q).to.equal(400);
      }
      expect((await s.call('GET', '/api/conversations/123/notes')).status).to.equal(400);
    });

    it('answers 404 for another tenant’s conversation and shows none of its notes', async () => {
      const res = await s.call('GET', notesPath(otherConversation));
      expect(res.status).to.equal(404);
      expect(JSON.stringify(res.body)).to.not.include('Their secret remark');
    });

    it('answers 404 for a conversation the caller may not see', async () => {
      expect((await outsider.call('GET', notesPath(hidden))).status).to.equal(404);
      expect((await s.call('GET', notesPath(hidden))).status).to.equal(200);
    });
  });

  describe('PATCH /api/conversations/{id}/notes/{noteId}', () => {
    let noteId: string;
    let hiddenNoteId: string;
    before(async () => {
      noteId = (await outsider.call('POST', notesPath(open), { body: { body: 'Draft remark' } })).body.id;
      hiddenNoteId = (await s.call('POST', notesPath(hidden), { body: { body: 'Division only' } })).body.id;
    });

    itChecksAccess('PATCH', () => `${notesPath(open)}/${noteId}`, 'notes.manage', () => s, { body: { body: 'x' } });

    it('lets the author change the text and mentions, marking it edited and announcing it', async () => {
      const listener = await listen(s.token);
      try {
        const res = await outsider.call('PATCH', `${notesPath(open)}/${noteId}`, { body: { body: 'Final remark', mentions: [s.userId] } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ id: noteId, body: 'Final remark', author_id: outsider.userId });
        expect(res.body.mentions).to.deep.equal([s.userId]);
        expect(res.body.edited_at).to.be.a('string');
        const event = await until(async () => listener.events.find((e) => e.event === 'note.updated' && e.data.id === noteId), 'note.updated');
        expect(event.data.body).to.equal('Final remark');
        const mentionsOnly = await outsider.call('PATCH', `${notesPath(open)}/${noteId}`, { body: { mentions: [] } });
        expect(mentionsOnly.body).to.include({ body: 'Final remark' });
        expect(mentionsOnly.body.mentions).to.deep.equal([]);
      } finally {
        listener.close();
      }
    });

    it('answers 403 to anyone but the author, admins included, and leaves the note as it was', async () => {
      const res = await s.call('PATCH', `${notesPath(open)}/${noteId}`, { body: { body: 'Rewritten by the admin' } });
      expect(res.status).to.equal(403);
      expect(res.body.code).to.equal('forbidden');
      expect((await storedNote(s.tenantId, noteId))?.body).to.equal('Final remark');
    });

    it('answers 400 for a bad body or ids', async () => {
      for (const body of [{}, { body: '' }, { body: 'x'.repeat(5001) }, { body: 'ok', author_id: s.userId }, { mentions: [1] }]) {
        const res = await outsider.call('PATCH', `${notesPath(open)}/${noteId}`, { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
      }
      expect((await outsider.call('PATCH', `${notesPath(open)}/nope`, { body: { body: 'x' } })).status).to.equal(400);
      expect((await outsider.call('PATCH', `${notesPath(open)}/${noteId}`, { body: { body: 'x', mentions: [randomUUID()] } })).status).to.equal(400);
    });

    it('answers 404 for another tenant’s note or conversation', async () => {
      expect((await s.call('PATCH', `${notesPath(open)}/${otherNoteId}`, { body: { body: 'x' } })).status).to.equal(404);
      expect((await s.call('PATCH', `${notesPath(otherConversation)}/${otherNoteId}`, { body: { body: 'x' } })).status).to.equal(404);
      expect((await storedNote(other.tenantId, otherNoteId))?.body).to.equal('Their secret remark');
    });

    it('answers 404 for a note of another conversation, an unknown note, or a conversation the caller may not see', async () => {
      expect((await s.call('PATCH', `${notesPath(open)}/${hiddenNoteId}`, { body: { body: 'x' } })).status).to.equal(404);
      expect((await s.call('PATCH', `${notesPath(open)}/${randomUUID()}`, { body: { body: 'x' } })).status).to.equal(404);
      expect((await outsider.call('PATCH', `${notesPath(hidden)}/${hiddenNoteId}`, { body: { body: 'x' } })).status).to.equal(404);
    });
  });

  describe('DELETE /api/conversations/{id}/notes/{noteId}', () => {
    const write = async (who: TestSession, conversationId = open) =>
      (await who.call('POST', notesPath(conversationId), { body: { body: `note ${randomUUID()}` } })).body.id as string;

    itChecksAccess('DELETE', () => `${notesPath(open)}/${randomUUID()}`, 'notes.manage', () => s);

    it('lets the author delete a note: hidden from the list, uncounted, kept for the audit trail', async () => {
      const listener = await listen(s.token);
      try {
        const noteId = await write(outsider);
        const before = (await conversation(s.tenantId, open)).note_count;
        const res = await outsider.call('DELETE', `${notesPath(open)}/${noteId}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body.message).to.be.a('string');
        expect((await conversation(s.tenantId, open)).note_count).to.equal(before - 1);
        const list = await s.call('GET', `${notesPath(open)}?limit=100`);
        expect(list.body.data.map((n: any) => n.id)).to.not.include(noteId);
        const kept = await storedNote(s.tenantId, noteId);
        expect(kept?.deleted_by).to.equal(outsider.userId);
        expect(kept?.deleted_at).to.be.instanceOf(Date);
        const event = await until(async () => listener.events.find((e) => e.event === 'note.deleted' && e.data.id === noteId), 'note.deleted');
        expect(event.data).to.include({ conversation_id: open, deleted_by: outsider.userId });
        // Deleted once: a second delete or an edit finds nothing.
        expect((await outsider.call('DELETE', `${notesPath(open)}/${noteId}`)).status).to.equal(404);
        expect((await outsider.call('PATCH', `${notesPath(open)}/${noteId}`, { body: { body: 'back' } })).status).to.equal(404);
        expect((await conversation(s.tenantId, open)).note_count).to.equal(before - 1);
      } finally {
        listener.close();
      }
    });

    it('lets a holder of conversations.manage delete anyone’s note, and nobody else', async () => {
      const noteId = await write(s);
      const res = await outsider.call('DELETE', `${notesPath(open)}/${noteId}`);
      expect(res.status).to.equal(403);
      expect(res.body.message).to.include('conversations.manage');
      expect((await storedNote(s.tenantId, noteId))?.deleted_at).to.equal(null);
      const manager = await userWithPermissions(s, ['conversations.view', 'conversations.manage', 'notes.manage']);
      expect((await manager.call('DELETE', `${notesPath(open)}/${noteId}`)).status).to.equal(200);
      expect((await storedNote(s.tenantId, noteId))?.deleted_by).to.equal(manager.userId);
    });

    it('answers 400 for malformed ids', async () => {
      expect((await s.call('DELETE', `${notesPath(open)}/123`)).status).to.equal(400);
      expect((await s.call('DELETE', `/api/conversations/abc/notes/${randomUUID()}`)).status).to.equal(400);
    });

    it('answers 404 for another tenant’s note or conversation and leaves it alone', async () => {
      expect((await s.call('DELETE', `${notesPath(open)}/${otherNoteId}`)).status).to.equal(404);
      expect((await s.call('DELETE', `${notesPath(otherConversation)}/${otherNoteId}`)).status).to.equal(404);
      expect((await storedNote(other.tenantId, otherNoteId))?.deleted_at).to.equal(null);
    });

    it('answers 404 for a note on a conversation the caller may not see', async () => {
      const noteId = await write(s, hidden);
      expect((await outsider.call('DELETE', `${notesPath(hidden)}/${noteId}`)).status).to.equal(404);
      expect((await outsider.call('DELETE', `${notesPath(open)}/${noteId}`)).status).to.equal(404);
      expect((await storedNote(s.tenantId, noteId))?.deleted_at).to.equal(null);
    });
  });
});
