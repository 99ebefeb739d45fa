/**
 * Folded search copies (src/models/search-text.ts): the lists answer as the case-insensitive
 * `$regex` they replace did (plus accents: "jose" finds "José"), every write path keeps the
 * copy, and the startup backfill fills documents stored before it existed, once.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { naturalId, newId } from '../../src/ids.js';
import { CONTACT_SEARCHED, ContactModel, contacts, enrichContact, type Contact } from '../../src/models/contact.js';
import { collectionOf } from '../../src/models/driver.js';
import { MessageModel, messages } from '../../src/models/message.js';
import type { Scoped } from '../../src/models/repo.js';
import { backfillSearchText, foldText, resetSearchTextBackfill, searchTextOf } from '../../src/models/search-text.js';
import { UserModel } from '../../src/models/user.js';
import { DivisionModel } from '../../src/models/division.js';
import { listContacts } from '../../src/services/contacts.js';
import { containsText } from '../../src/services/text-match.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, digits, startConversation, until } from '../support/whatsapp.js';

const suffix = () => randomBytes(4).toString('hex');
const ids = (list: { _id: string }[]) => list.map((x) => x._id).sort();
const bodyIds = (list: { id: string }[]) => list.map((x) => x.id).sort();

/** The contact list's filter as it was before the folded copy: four case-insensitive regexes. */
function regexContactFilter(tenantId: string, q: string): Scoped {
  const text = containsText(q);
  const or: Record<string, unknown>[] = [{ name: text }, { phone: text }, { email: text }, { username: text }];
  const d = q.replace(/[\s()+.-]/g, '');
  if (/^[0-9]{3,}$/.test(d) && d !== q) or.push({ phone: containsText(d) });
  return { tenant_id: tenantId, $or: or };
}

/** A contact as the inbound pipeline builds it (not yet stored). */
function newContact(tenantId: string, fields: Partial<Contact>): Omit<Contact, 'created_at' | 'updated_at'> {
  const id = newId();
  return { _id: id, tenant_id: tenantId, channel: 'whatsapp', external_id: id, identities: [], name: null, phone: null, email: null, username: null, attributes: {}, tags: [], last_inbound_at: null, ...fields };
}

/** Stores contacts the way code before the folded copy did: without `search_text`. */
async function insertLegacy(docs: Omit<Contact, 'created_at' | 'updated_at'>[]): Promise<void> {
  const now = new Date();
  await collectionOf(ContactModel).insertMany(docs.map((d) => ({ ...d, created_at: now, updated_at: now })));
}

const PEOPLE: Partial<Contact>[] = [
  { name: 'Budi Santoso', phone: '6281234500001', email: 'budi@example.com' },
  { name: 'budi SANTOSO', phone: '6281234500002' },
  { name: 'José Ramírez', email: 'JOSE@Example.COM' },
  { name: 'Jose Ramirez', username: 'jose.r' },
  { name: 'A.B. Trading', phone: '6281234500003' },
  { name: 'AxB Trading' },
  { name: 'PT (Persero) Maju', username: 'maju(official)' },
  { name: 'Ünal Çelik', email: 'unal@example.com' },
];

// Every query whose answer must be exactly the case-insensitive regex's.
const SAME_AS_BEFORE = ['santoso', 'SaNtOsO', 'budi s', 'a.b', 'A.B.', '(', '(persero)', '.*', 'x', 'example.COM', '+62 812-3450-0001', '812345000', '0003', 'jose.r', 'zzz'];

describe('search_text: folded search copies', () => {
  describe('foldText', () => {
    it('lower-cases and removes diacritics, compatibility forms included', () => {
      expect(foldText('José Ramírez')).to.equal('jose ramirez');
      expect(foldText('ÜNAL ÇELİK')).to.equal('unal celik');
      expect(foldText('Ａｂｃ ﬁx')).to.equal('abc fix');
      expect(foldText('Jose\u0301')).to.equal('jose');
      expect(foldText('Toko Maju 62812')).to.equal('toko maju 62812');
    });

    it('joins the searched fields, null and empty ones left out', () => {
      expect(searchTextOf<Contact>({ name: 'Budi', phone: null, email: 'B@X.ID', username: '' }, CONTACT_SEARCHED)).to.equal('budi\u001fb@x.id');
      expect(searchTextOf<Contact>({ name: null }, CONTACT_SEARCHED)).to.equal('');
    });
  });

  describe('contact search', () => {
    let s: TestSession;
    let fresh: string[];
    let legacy: string[];
    const list = async (q: string) => (await listContacts({ tenantId: s.tenantId, q, page: 1, limit: 100 })).items;
    const byRegex = (q: string) => contacts.find(regexContactFilter(s.tenantId, q));

    before(async () => {
      s = await createSession();
      const written = await Promise.all(PEOPLE.map((p) => contacts.insert(newContact(s.tenantId, p))));
      fresh = written.map((c) => c._id);
      const old = PEOPLE.map((p) => newContact(s.tenantId, p));
      await insertLegacy(old);
      legacy = old.map((c) => c._id);
    });

    it('answers exactly as the case-insensitive regex did: any case, regex characters literal, phone digits', async () => {
      for (const q of SAME_AS_BEFORE) {
        expect(ids(await list(q)), q).to.deep.equal(ids(await byRegex(q)));
      }
      expect((await list('a.b')).map((c) => c.name).sort()).to.deep.equal(['A.B. Trading', 'A.B. Trading']);
      expect(await list('(')).to.have.length(2);
      expect((await list('+62 812-3450-0001')).map((c) => c.phone)).to.deep.equal(['6281234500001', '6281234500001']);
    });

    it('finds accented names without their accents, and the other way round, on stored copies', async () => {
      const named = async (q: string) => (await list(q)).filter((c) => fresh.includes(c._id)).map((c) => c.name).sort();
      expect(await named('jose')).to.deep.equal(['Jose Ramirez', 'José Ramírez']);
      expect(await named('JOSÉ')).to.deep.equal(['Jose Ramirez', 'José Ramírez']);
      expect(await named('unal celik')).to.deep.equal(['Ünal Çelik']);
      // Never fewer than before: everything the regex found is still found.
      for (const q of ['José', 'Ünal', 'ramírez']) {
        expect(ids(await list(q)), q).to.include.members(ids(await byRegex(q)));
      }
    });

    it('answers the same for documents the backfill filled as for documents written with the copy', async () => {
      await resetSearchTextBackfill(ContactModel as never);
      await backfillSearchText(ContactModel, CONTACT_SEARCHED, { batch: 5, pauseMs: 0, stopped: () => false, log: () => undefined });
      for (const q of [...SAME_AS_BEFORE, 'jose', 'JOSÉ', 'unal']) {
        const found = await list(q);
        const freshHits = found.filter((c) => fresh.includes(c._id)).map((c) => c.name).sort();
        const legacyHits = found.filter((c) => legacy.includes(c._id)).map((c) => c.name).sort();
        expect(legacyHits, q).to.deep.equal(freshHits);
      }
    });

    it('runs on the tenant index', async () => {
      const plan = (await ContactModel.find({ tenant_id: s.tenantId, $or: [{ search_text: { $regex: 'budi' } }] }).sort({ created_at: -1, _id: -1 }).explain('queryPlanner')) as unknown as { queryPlanner: { winningPlan: unknown } };
      expect(JSON.stringify(plan.queryPlanner.winningPlan)).to.contain('tenant_id');
    });
  });

  describe('every write path keeps the copy', () => {
    let s: TestSession;
    before(async () => {
      s = await createSession({ name: 'Admin Ñoño' });
    });

    it('contacts: created by an inbound message, edited by an agent', async () => {
      const wa = await connectWhatsapp(s);
      const started = await startConversation(s, wa, { name: 'Dewi Lestari Ayu', from: `628${digits(10)}` });
      const found = await s.call('GET', '/api/contacts?q=LESTARI');
      expect(bodyIds(found.body.data)).to.deep.equal([started.contactId]);

      const edited = await s.call('PATCH', `/api/contacts/${started.contactId}`, { body: { name: 'Dewi Ramírez', email: 'DEWI@Toko.ID' } });
      expect(edited.status, JSON.stringify(edited.body)).to.equal(200);
      expect(bodyIds((await s.call('GET', '/api/contacts?q=ramirez')).body.data)).to.deep.equal([started.contactId]);
      expect(bodyIds((await s.call('GET', '/api/contacts?q=dewi@toko')).body.data)).to.deep.equal([started.contactId]);
      expect((await s.call('GET', '/api/contacts?q=lestari')).body.data).to.deep.equal([]);
    });

    it('contacts: a profile fill never overwrites an edit made since it read the contact, and the copy has both', async () => {
      const read = await contacts.insert(newContact(s.tenantId, { phone: '6289900011122' }));
      await contacts.update(s.tenantId, read._id, { name: 'Typed By Agent' });
      const filled = await enrichContact(read, { name: 'Profile Name', email: 'profile@example.com' }, ['x'], new Date());
      expect(filled).to.deep.equal({ email: 'profile@example.com' });
      const after = await contacts.findOwned(s.tenantId, read._id);
      expect(after).to.include({ name: 'Typed By Agent', email: 'profile@example.com' });
      expect(after.identities).to.deep.equal(['x']);
      expect(after.search_text).to.equal(searchTextOf<Contact>(after, CONTACT_SEARCHED));
    });

    it('agents: registered, created and renamed', async () => {
      expect(bodyIds((await s.call('GET', '/api/agents?q=nono')).body.data)).to.deep.equal([s.userId]);
      const created = await s.call('POST', '/api/agents', {
        body: { name: 'Agus Pérez', email: `agus-${suffix()}@Example.test`, password: 'sandi-rahasia-1', role_id: naturalId('role', s.tenantId, 'agent') },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(bodyIds((await s.call('GET', '/api/agents?q=perez')).body.data)).to.deep.equal([created.body.id]);
      expect(bodyIds((await s.call('GET', '/api/agents?q=EXAMPLE.test')).body.data)).to.include(created.body.id);
      const renamed = await s.call('PATCH', `/api/agents/${created.body.id}`, { body: { name: 'Agus (Senior)' } });
      expect(renamed.status, JSON.stringify(renamed.body)).to.equal(200);
      expect(bodyIds((await s.call('GET', `/api/agents?q=${encodeURIComponent('(senior)')}`)).body.data)).to.deep.equal([created.body.id]);
      expect((await s.call('GET', '/api/agents?q=perez')).body.data).to.deep.equal([]);
    });

    it('divisions: created and renamed', async () => {
      const created = await s.call('POST', '/api/divisions', { body: { name: 'Pelayanan Prioritäts' } });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(bodyIds((await s.call('GET', '/api/divisions?q=PRIORITATS')).body.data)).to.deep.equal([created.body.id]);
      const renamed = await s.call('PATCH', `/api/divisions/${created.body.id}`, { body: { name: 'V.I.P. Desk' } });
      expect(renamed.status, JSON.stringify(renamed.body)).to.equal(200);
      expect(bodyIds((await s.call('GET', '/api/divisions?q=v.i.p')).body.data)).to.deep.equal([created.body.id]);
      expect((await s.call('GET', '/api/divisions?q=vip')).body.data).to.deep.equal([]);
    });

    it('messages: an inbound message is found by its text without accents', async () => {
      const wa = await connectWhatsapp(s);
      const tag = `zq${digits(6)}`;
      const started = await startConversation(s, wa, { text: `Pesan café ${tag} (urgent)` });
      const stored = await until(() => messages.find({ tenant_id: s.tenantId, conversation_id: started.conversationId }), 'message');
      expect(stored[0]?.search_text).to.equal(`pesan cafe ${tag} (urgent)`);
      const res = await s.call('GET', `/api/messages/search?q=${encodeURIComponent(`CAFE ${tag} (`)}`);
      expect(res.body.data.map((m: { conversation_id: string }) => m.conversation_id)).to.deep.equal([started.conversationId]);
    });
  });

  describe('backfillSearchText', () => {
    it('fills old documents once, in batches, with several runners at a time', async () => {
      const s = await createSession();
      const old = Array.from({ length: 23 }, (_, i) => newContact(s.tenantId, { name: `Lama Ñame ${i}`, phone: `62811${String(i).padStart(6, '0')}` }));
      await insertLegacy(old);
      const opts = { batch: 4, pauseMs: 0, stopped: () => false, log: () => undefined };
      await resetSearchTextBackfill(ContactModel as never);
      const filled = await Promise.all([backfillSearchText(ContactModel, CONTACT_SEARCHED, opts), backfillSearchText(ContactModel, CONTACT_SEARCHED, opts)]);
      expect(filled[0] + filled[1]).to.be.at.least(old.length);
      const after = await contacts.find({ tenant_id: s.tenantId });
      expect(after).to.have.length(old.length);
      for (const c of after) expect(c.search_text).to.equal(searchTextOf<Contact>(c, CONTACT_SEARCHED));
      expect((await listContacts({ tenantId: s.tenantId, q: 'lama name', page: 1, limit: 100 })).total).to.equal(old.length);

      // Done: not walked again; walked again on purpose, it finds nothing left to fill.
      expect(await backfillSearchText(ContactModel, CONTACT_SEARCHED, opts)).to.equal(0);
      await resetSearchTextBackfill(ContactModel as never);
      expect(await backfillSearchText(ContactModel, CONTACT_SEARCHED, opts)).to.equal(0);
    });

    it('covers agents, divisions and messages too', async () => {
      const s = await createSession();
      const now = new Date();
      const userId = newId();
      const divisionId = newId();
      const messageId = newId();
      await collectionOf(UserModel).insertOne({ _id: userId, tenant_id: s.tenantId, name: 'Lawas Agén', email: `lawas-${suffix()}@example.test`, created_at: now, updated_at: now });
      await collectionOf(DivisionModel).insertOne({ _id: divisionId, tenant_id: s.tenantId, name: 'Tim Lawás', created_at: now, updated_at: now });
      await collectionOf(MessageModel).insertOne({ _id: messageId, tenant_id: s.tenantId, text: 'Pesan Lawás', created_at: now, updated_at: now });
      const opts = { batch: 50, pauseMs: 0, stopped: () => false, log: () => undefined };
      for (const model of [UserModel, DivisionModel, MessageModel]) await resetSearchTextBackfill(model as never);
      await backfillSearchText(UserModel, ['name', 'email'], opts);
      await backfillSearchText(DivisionModel, ['name'], opts);
      await backfillSearchText(MessageModel, ['text'], opts);
      expect((await collectionOf(UserModel).findOne({ _id: userId }))?.search_text).to.match(/^lawas agen\u001flawas-/);
      expect((await collectionOf(DivisionModel).findOne({ _id: divisionId }))?.search_text).to.equal('tim lawas');
      expect((await collectionOf(MessageModel).findOne({ _id: messageId }))?.search_text).to.equal('pesan lawas');
    });
  });
});
