import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { baseUrl } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { connectWhatsapp, digits, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

const ids = (list: { id: string }[]) => list.map((x) => x.id);

/** A customer who wrote once over WhatsApp; answers the contact's id. */
async function customer(s: TestSession, wa: WhatsappAccount, name: string, from = `628${digits(10)}`) {
  const started = await startConversation(s, wa, { from, name });
  return { id: started.contactId, from, conversationId: started.conversationId };
}

describe('GET /api/contacts', () => {
  let s: TestSession;
  let other: TestSession;
  let wa: WhatsappAccount;
  let budi: { id: string; from: string };
  let siti: { id: string; from: string };
  let dot: { id: string; from: string };
  let foreign: { id: string };
  before(async () => {
    s = await createSession();
    other = await createSession();
    wa = await connectWhatsapp(s);
    budi = await customer(s, wa, 'Budi Santoso', '6281234500001');
    siti = await customer(s, wa, 'Siti Rahma', '6281234500002');
    dot = await customer(s, wa, 'A.B. Trading', '6281234500003');
    foreign = await customer(other, await connectWhatsapp(other), 'Budi Lain');
  });
  itChecksAccess('GET', () => '/api/contacts', 'contacts.view', () => s);

  it('lists the tenant’s contacts newest first, with their fields', async () => {
    const res = await s.call('GET', '/api/contacts');
    expect(res.status).to.equal(200);
    expect(ids(res.body.data)).to.deep.equal([dot.id, siti.id, budi.id]);
    expect(ids(res.body.data)).to.not.include(foreign.id);
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 3, total_pages: 1 });
    const c = res.body.data[2];
    expect(c).to.include({ id: budi.id, channel: 'whatsapp', name: 'Budi Santoso', phone: budi.from, external_id: budi.from, email: null });
    expect(c.identities).to.include(budi.from);
    expect(c.tags).to.deep.equal([]);
    expect(c.attributes).to.deep.equal({});
    expect(c.last_inbound_at === null || typeof c.last_inbound_at === 'string').to.equal(true);
    expect(c.created_at).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('pages with a stable order', async () => {
    const first = await s.call('GET', '/api/contacts?limit=2');
    const second = await s.call('GET', '/api/contacts?limit=2&page=2');
    expect(ids(first.body.data)).to.deep.equal([dot.id, siti.id]);
    expect(ids(second.body.data)).to.deep.equal([budi.id]);
    expect(second.body.pagination).to.deep.equal({ page: 2, limit: 2, total: 3, total_pages: 2 });
  });

  it('searches name and phone (any case, regex characters taken literally, phone with + and separators)', async () => {
    expect(ids((await s.call('GET', '/api/contacts?q=budi')).body.data)).to.deep.equal([budi.id]);
    expect(ids((await s.call('GET', '/api/contacts?q=A.B.')).body.data)).to.deep.equal([dot.id]);
    expect((await s.call('GET', `/api/contacts?q=${encodeURIComponent('.*')}`)).body.data).to.deep.equal([]);
    expect(ids((await s.call('GET', `/api/contacts?q=${encodeURIComponent('+62 812-3450-0002')}`)).body.data)).to.deep.equal([siti.id]);
    expect(ids((await s.call('GET', '/api/contacts?q=812345000')).body.data)).to.have.members([budi.id, siti.id, dot.id]);
  });

  it('filters by channel and by tag', async () => {
    const tagged = await s.call('PATCH', `/api/contacts/${siti.id}`, { body: { tags: ['vip', 'reseller'] } });
    expect(tagged.status).to.equal(200);
    expect(ids((await s.call('GET', '/api/contacts?tag=vip')).body.data)).to.deep.equal([siti.id]);
    expect((await s.call('GET', '/api/contacts?tag=VIP')).body.data).to.deep.equal([]);
    expect((await s.call('GET', '/api/contacts?channel=whatsapp')).body.pagination.total).to.equal(3);
    expect((await s.call('GET', '/api/contacts?channel=email')).body.data).to.deep.equal([]);
  });

  it('answers 400 for bad paging, unknown filters and an unknown channel', async () => {
    for (const query of ['limit=0', 'limit=101', 'page=0', 'page=x', 'channel=fax', 'sort=name', 'q=']) {
      const res = await s.call('GET', `/api/contacts?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.body.code, query).to.equal('validation_error');
    }
  });
});

describe('GET /api/contacts/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let contactId: string;
  let foreignId: string;
  before(async () => {
    s = await createSession();
    other = await createSession();
    contactId = (await customer(s, await connectWhatsapp(s), 'Dewi')).id;
    foreignId = (await customer(other, await connectWhatsapp(other), 'Dewi Lain')).id;
  });
  itChecksAccess('GET', () => `/api/contacts/${contactId}`, 'contacts.view', () => s);

  it('answers the contact', async () => {
    const res = await s.call('GET', `/api/contacts/${contactId}`);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: contactId, name: 'Dewi', channel: 'whatsapp' });
  });

  it('answers 404 for another tenant’s contact and an unknown id, 400 for a malformed id', async () => {
    const foreign = await s.call('GET', `/api/contacts/${foreignId}`);
    expect(foreign.status).to.equal(404);
    expect(foreign.body).to.deep.equal({ message: 'Contact not found', code: 'not_found' });
    expect((await s.call('GET', `/api/contacts/${randomUUID()}`)).status).to.equal(404);
    expect((await s.call('GET', '/api/contacts/not-a-uuid')).status).to.equal(400);
  });
});

describe('PATCH /api/contacts/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let contactId: string;
  let foreignId: string;
  before(async () => {
    s = await createSession();
    other = await createSession();
    contactId = (await customer(s, await connectWhatsapp(s), 'Rina')).id;
    foreignId = (await customer(other, await connectWhatsapp(other), 'Rina Lain')).id;
  });
  itChecksAccess('PATCH', () => `/api/contacts/${contactId}`, 'contacts.manage', () => s, { body: { name: 'X' } });

  it('sets the fields sent, normalizes phone and e-mail, and announces contact.updated', async () => {
    const socket: Socket = connect(baseUrl(), { auth: { token: s.token }, transports: ['websocket'], forceNew: true, reconnection: false });
    const seen: { event: string; data: any }[] = [];
    socket.onAny((event: string, payload: { data: any }) => {
      if (event === 'contact.updated') seen.push({ event, data: payload.data });
    });
    await new Promise((r) => socket.once('sync.done', r));
    try {
      const res = await s.call('PATCH', `/api/contacts/${contactId}`, {
        body: {
          name: '  Rina Wijaya ',
          email: 'Rina@Example.COM',
          phone: '+62 (812) 555-0101',
          attributes: { company: 'PT Maju', order_count: 3, vip: true, address: { city: 'Bandung', zip: '40111' }, notes: null },
          tags: ['vip', 'vip', 'reseller'],
        },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ id: contactId, name: 'Rina Wijaya', email: 'rina@example.com', phone: '628125550101' });
      expect(res.body.tags).to.deep.equal(['vip', 'reseller']);
      expect(res.body.attributes).to.deep.equal({ company: 'PT Maju', order_count: 3, vip: true, address: { city: 'Bandung', zip: '40111' }, notes: null });
      const event = await until(async () => seen[0], 'contact.updated');
      expect(event.data).to.deep.equal(res.body);

      // Absent fields stay; null clears; tags and attributes are replaced as a whole.
      const again = await s.call('PATCH', `/api/contacts/${contactId}`, { body: { email: null, tags: [], attributes: { company: 'PT Baru' } } });
      expect(again.status).to.equal(200);
      expect(again.body).to.include({ name: 'Rina Wijaya', email: null, phone: '628125550101' });
      expect(again.body.tags).to.deep.equal([]);
      expect(again.body.attributes).to.deep.equal({ company: 'PT Baru' });
      expect((await s.call('GET', `/api/contacts/${contactId}`)).body).to.deep.equal(again.body);
    } finally {
      socket.close();
    }
  });

  it('keeps every field of concurrent edits of different fields', async () => {
    // The embedded engine rewrites whole documents on update; without one writer per contact
    // some of these edits were lost.
    for (let round = 0; round < 3; round++) {
      const edits = [{ name: `Rina ${round}` }, { email: `c${round}@example.com` }, { tags: [`round-${round}`] }, { attributes: { round } }, { phone: `62812999900${round}0` }];
      const results = await Promise.all(edits.map((body) => s.call('PATCH', `/api/contacts/${contactId}`, { body })));
      expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
      const res = await s.call('GET', `/api/contacts/${contactId}`);
      expect(res.body).to.include({ name: `Rina ${round}`, email: `c${round}@example.com`, phone: `62812999900${round}0` });
      expect(res.body.tags).to.deep.equal([`round-${round}`]);
      expect(res.body.attributes).to.deep.equal({ round });
    }
  });

  it('records the edit in the activity log', async () => {
    const res = await s.call('GET', '/api/activity-logs?action=contact.updated');
    expect(res.status).to.equal(200);
    expect(res.body.data.some((l: any) => l.resource_id === contactId)).to.equal(true);
  });

  it('answers 400 for unknown fields, wrong types and out-of-range values', async () => {
    const manyAttributes = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    const bodies: unknown[] = [
      {},
      { nickname: 'x' },
      { name: 5 },
      { name: '' },
      { name: 'x'.repeat(201) },
      { email: 'not-an-email' },
      { phone: '12345' },
      { phone: '0812345678' },
      { phone: '+62 812 abc' },
      { tags: 'vip' },
      { tags: Array.from({ length: 31 }, (_, i) => `t${i}`) },
      { tags: [''] },
      { attributes: [] },
      { attributes: manyAttributes },
      { attributes: { 'bad.key': 1 } },
      { attributes: { $set: 1 } },
      { attributes: { nested: { $where: 'x' } } },
      { attributes: { big: 'x'.repeat(3000) } },
      { attributes: { deep } },
    ];
    for (const body of bodies) {
      const res = await s.call('PATCH', `/api/contacts/${contactId}`, { body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
    expect((await s.call('PATCH', '/api/contacts/nope', { body: { name: 'x' } })).status).to.equal(400);
  });

  it('answers 404 for another tenant’s contact and leaves it unchanged', async () => {
    const res = await s.call('PATCH', `/api/contacts/${foreignId}`, { body: { name: 'Hijacked' } });
    expect(res.status).to.equal(404);
    expect((await other.call('GET', `/api/contacts/${foreignId}`)).body.name).to.equal('Rina Lain');
  });
});

describe('GET /api/contacts/{id}/conversations', () => {
  let s: TestSession;
  let other: TestSession;
  let wa: WhatsappAccount;
  let contact: { id: string; from: string; conversationId: string };
  let foreignId: string;
  before(async () => {
    s = await createSession();
    other = await createSession();
    wa = await connectWhatsapp(s);
    contact = await customer(s, wa, 'Joko');
    await customer(s, wa, 'Someone Else');
    foreignId = (await customer(other, await connectWhatsapp(other), 'Joko Lain')).id;
  });
  itChecksAccess('GET', () => `/api/contacts/${contact.id}/conversations`, 'contacts.view', () => s);

  it('lists the contact’s conversations, presented like the inbox, newest first', async () => {
    const closed = await s.call('PATCH', `/api/conversations/${contact.conversationId}/status`, { body: { status: 'closed' } });
    expect(closed.status, JSON.stringify(closed.body)).to.equal(200);
    // A closed conversation released the slot: the customer's next message starts a new one.
    const second = await startConversation(s, wa, { from: contact.from, name: 'Joko' });
    expect(second.conversationId).to.not.equal(contact.conversationId);
    const res = await s.call('GET', `/api/contacts/${contact.id}/conversations`);
    expect(res.status).to.equal(200);
    expect(ids(res.body.data)).to.deep.equal([second.conversationId, contact.conversationId]);
    expect(res.body.data[0]).to.include({ contact_id: contact.id, channel: 'whatsapp', status: 'open' });
    expect(res.body.pagination.total).to.equal(2);
    const open = await s.call('GET', `/api/contacts/${contact.id}/conversations?status=closed`);
    expect(ids(open.body.data)).to.deep.equal([contact.conversationId]);
  });

  it('shows an agent without conversations.view_all only the conversations they may see', async () => {
    const division = await s.call('POST', '/api/divisions', { body: { name: `Billing ${digits(4)}` } });
    expect(division.status).to.equal(201);
    const list = await s.call('GET', `/api/contacts/${contact.id}/conversations`);
    const [newest] = ids(list.body.data);
    const moved = await s.call('POST', `/api/conversations/${newest}/transfer`, { body: { to_division_id: division.body.id, reason: 'billing question' } });
    expect(moved.status, JSON.stringify(moved.body)).to.be.oneOf([200, 201]);
    const agent = await userWithPermissions(s, ['contacts.view', 'conversations.view']);
    const seen = await agent.call('GET', `/api/contacts/${contact.id}/conversations`);
    expect(seen.status).to.equal(200);
    expect(ids(seen.body.data)).to.deep.equal([contact.conversationId]);
    expect(seen.body.pagination.total).to.equal(1);
    const supervisor = await userWithPermissions(s, ['contacts.view', 'conversations.view_all']);
    expect(ids((await supervisor.call('GET', `/api/contacts/${contact.id}/conversations`)).body.data)).to.have.length(2);
  });

  it('answers 404 for another tenant’s contact, 400 for bad input', async () => {
    const res = await s.call('GET', `/api/contacts/${foreignId}/conversations`);
    expect(res.status).to.equal(404);
    expect(res.body.code).to.equal('not_found');
    expect((await s.call('GET', `/api/contacts/${randomUUID()}/conversations`)).status).to.equal(404);
    for (const path of ['/api/contacts/x/conversations', `/api/contacts/${contact.id}/conversations?status=lost`, `/api/contacts/${contact.id}/conversations?limit=500`]) {
      expect((await s.call('GET', path)).status, path).to.equal(400);
    }
  });
});
