/**
 * Proof of ownership for provider accounts (issue 8): claiming a WhatsApp phone number id, a Page
 * or an Instagram account takes an access token the Graph API (the run's fake) lets read that id;
 * an inbound e-mail address takes the organization's own inbound domain. A refused claim takes
 * nothing: the same id is claimed right after with a good token.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { expect } from 'chai';
import { findAccountRoute } from '../../src/models/integration-account.js';
import { resolveAccount } from '../../src/services/integration-accounts.js';
import { fakeGraph } from '../setup.js';
import { api } from '../support/http.js';
import { ownerToken } from '../support/meta-owner.js';
import { createSession, type TestSession } from '../support/session.js';

const metaId = () => `1${Array.from({ length: 16 }, () => randomInt(10)).join('')}`;
const strangerToken = () => `EAAG${randomBytes(20).toString('hex')}`;

async function configure(s: TestSession, channel: string, body: Record<string, unknown> = {}) {
  const res = await s.call('PUT', `/api/integrations/${channel}`, { body });
  expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
}

const connect = (s: TestSession, body: Record<string, unknown>) => s.call('POST', '/api/integration-accounts', { body: { name: 'Line', ...body } });

/** The fake Graph's reads of `id`. */
const readsOf = (id: string) => fakeGraph().requests.filter((r) => r.method === 'GET' && r.path === `/v21.0/${id}`);

describe('POST /api/integration-accounts (proof of ownership)', () => {
  let s: TestSession;
  let attacker: TestSession;
  before(async () => {
    [s, attacker] = await Promise.all([createSession(), createSession()]);
    for (const channel of ['whatsapp', 'messenger', 'instagram']) await Promise.all([configure(s, channel), configure(attacker, channel)]);
  });

  for (const [channel, fields] of [
    ['whatsapp', 'id,display_phone_number'],
    ['messenger', 'id,name'],
    ['instagram', 'id,username'],
  ] as const) {
    it(`answers 422 naming access_token when the token does not control the ${channel} id, and claims nothing`, async () => {
      const id = metaId();
      const victimToken = ownerToken(id);
      const refused = await connect(attacker, { channel, external_id: id, access_token: strangerToken() });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.code).to.equal('ownership_not_proven');
      expect(refused.body.message).to.include('access_token').and.include(id);
      expect(refused.body.details).to.deep.equal([{ in: 'body', field: 'access_token', message: refused.body.details[0].message }]);
      expect(JSON.stringify(refused.body)).not.to.match(/stack|at \w+ \(/);
      // Graph was asked for exactly that id, with the given token as bearer.
      const [read] = readsOf(id);
      expect(read?.query.get('fields')).to.equal(fields);
      expect(read?.headers.authorization).to.match(/^Bearer EAAG/);
      expect(await findAccountRoute(channel, id)).to.equal(null);
      expect(await resolveAccount(channel, id)).to.equal(null);
      // Nothing was left claimed: the owner connects it now.
      const owned = await connect(s, { channel, external_id: id, access_token: victimToken });
      expect(owned.status, JSON.stringify(owned.body)).to.equal(201);
      expect((await resolveAccount(channel, id))?.tenantId).to.equal(s.tenantId);
    });
  }

  it('refuses a Graph answer that names another id', async () => {
    const id = metaId();
    const token = strangerToken();
    fakeGraph().on('GET', `/v21.0/${id}`, { body: { id: metaId(), display_phone_number: '15550000000' } });
    const res = await connect(attacker, { channel: 'whatsapp', external_id: id, access_token: token });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(await findAccountRoute('whatsapp', id)).to.equal(null);
  });

  it('answers 503 when the Graph API fails and 502 when it answers nonsense, claiming nothing', async () => {
    const id = metaId();
    const token = ownerToken(id);
    fakeGraph().on('GET', `/v21.0/${id}`, { status: 500, body: { error: { message: 'An unexpected error has occurred.', code: 2 } } });
    const down = await connect(s, { channel: 'whatsapp', external_id: id, access_token: token });
    expect(down.status, JSON.stringify(down.body)).to.equal(503);
    expect(down.body.code).to.equal('provider_unavailable');
    fakeGraph().on('GET', `/v21.0/${id}`, { raw: Buffer.from('<html>bad gateway</html>') });
    const nonsense = await connect(s, { channel: 'whatsapp', external_id: id, access_token: token });
    expect(nonsense.status, JSON.stringify(nonsense.body)).to.equal(502);
    expect(await findAccountRoute('whatsapp', id)).to.equal(null);
    // Graph answers again (the grant, once the handlers are gone): the claim goes through.
    fakeGraph().reset();
    expect((await connect(s, { channel: 'whatsapp', external_id: id, access_token: token })).status).to.equal(201);
  });

  it('documents 409, 422, 502 and 503 for creating and changing an account', async () => {
    const doc = (await api('GET', '/api/openapi.json')).body;
    for (const [path, method] of [
      ['/api/integration-accounts', 'post'],
      ['/api/integration-accounts/{id}', 'patch'],
    ] as const) {
      expect(Object.keys(doc.paths[path][method].responses), `${method} ${path}`).to.include.members(['409', '422', '502', '503']);
    }
  });
});

describe('PATCH /api/integration-accounts/{id} (proof of ownership)', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
    await configure(s, 'whatsapp');
  });

  it('moves to a new id only with a token that controls it, with the stored token by default', async () => {
    const first = metaId();
    const created = await connect(s, { channel: 'whatsapp', external_id: first, access_token: ownerToken(first) });
    expect(created.status).to.equal(201);
    const victim = metaId();
    const victimToken = ownerToken(victim);
    // The stored token controls `first` only.
    const refused = await s.call('PATCH', `/api/integration-accounts/${created.body.id}`, { body: { external_id: victim } });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
    expect(refused.body.details[0].field).to.equal('access_token');
    expect((await s.call('GET', `/api/integration-accounts/${created.body.id}`)).body.external_id).to.equal(first);
    expect(await findAccountRoute('whatsapp', victim)).to.equal(null);
    expect((await resolveAccount('whatsapp', first))?.account._id).to.equal(created.body.id);
    // With the victim's real token (the owner moving their own line) it moves.
    const moved = await s.call('PATCH', `/api/integration-accounts/${created.body.id}`, { body: { external_id: victim, access_token: victimToken } });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect((await resolveAccount('whatsapp', victim))?.account._id).to.equal(created.body.id);
  });
});

describe('POST /api/integration-accounts (e-mail: the organization’s own inbound domain)', () => {
  let s: TestSession;
  let attacker: TestSession;
  const domain = `toko-${randomBytes(4).toString('hex')}.example`;
  before(async () => {
    [s, attacker] = await Promise.all([createSession(), createSession()]);
  });

  it('refuses an address before the inbound domain is set, and one at another domain, naming external_id', async () => {
    await configure(attacker, 'email');
    const none = await connect(attacker, { channel: 'email', external_id: `support@${domain}` });
    expect(none.status, JSON.stringify(none.body)).to.equal(422);
    expect(none.body.details).to.deep.equal([{ in: 'body', field: 'external_id', message: none.body.details[0].message }]);
    expect(none.body.message).to.include('inbound_domain');
    await configure(attacker, 'email', { settings: { inbound_domain: `evil-${randomBytes(3).toString('hex')}.example` } });
    const elsewhere = await connect(attacker, { channel: 'email', external_id: `support@${domain}` });
    expect(elsewhere.status).to.equal(422);
    expect(await findAccountRoute('email', `support@${domain}`)).to.equal(null);
  });

  it('gives a domain to one organization only, so its addresses stay the owner’s', async () => {
    await configure(s, 'email', { settings: { inbound_domain: domain.toUpperCase() } });
    const taken = await attacker.call('PUT', '/api/integrations/email', { body: { settings: { inbound_domain: domain } } });
    expect(taken.status, JSON.stringify(taken.body)).to.equal(409);
    expect(taken.body.details[0].field).to.equal('settings.inbound_domain');
    expect((await connect(attacker, { channel: 'email', external_id: `sales@${domain}` })).status).to.equal(422);
    const mine = await connect(s, { channel: 'email', external_id: `Support@${domain}` });
    expect(mine.status, JSON.stringify(mine.body)).to.equal(201);
    expect((await resolveAccount('email', `support@${domain}`))?.tenantId).to.equal(s.tenantId);
    // A subdomain is another domain.
    expect((await connect(s, { channel: 'email', external_id: `x@mail.${domain}` })).status).to.equal(422);
  });

  it('frees the domain when its organization moves to another one', async () => {
    const fresh = await createSession();
    const old = `old-${randomBytes(4).toString('hex')}.example`;
    await configure(fresh, 'email', { settings: { inbound_domain: old } });
    await configure(fresh, 'email', { settings: { inbound_domain: `new-${randomBytes(4).toString('hex')}.example` } });
    const other = await createSession();
    expect((await other.call('PUT', '/api/integrations/email', { body: { settings: { inbound_domain: old } } })).status).to.equal(201);
  });
});
