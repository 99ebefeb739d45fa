import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { appContext } from '../../src/context.js';
import { decryptSecret } from '../../src/crypto/secrets.js';
import { newId } from '../../src/ids.js';
import { activityLogs } from '../../src/models/activity-log.js';
import { integrationId, integrations } from '../../src/models/integration.js';
import { findAccountRoute, insertAccountRoute, integrationAccounts } from '../../src/models/integration-account.js';
import { appSecretFor, credentialsFor, resolveAccount, verifyTokenMatches } from '../../src/services/integration-accounts.js';
import { fakeGraph } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { ownerToken } from '../support/meta-owner.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

/** A 17-digit Meta id: beyond 2^53, so it must stay a string end to end. */
const metaId = () => `1${Array.from({ length: 16 }, () => randomInt(10)).join('')}`;
const hex32 = () => Array.from({ length: 32 }, () => randomInt(16).toString(16)).join('');
const token = () => `EAAG${newId().replace(/-/g, '')}`;
/** An inbound domain no other organization of the run holds (one organization per domain), mixed case. */
const inboundDomain = () => `Toko-${randomInt(1e9)}.Example`;

async function configure(s: TestSession, channel: string, body: Record<string, unknown> = {}): Promise<any> {
  const res = await s.call('PUT', `/api/integrations/${channel}`, { body });
  expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
  return res.body;
}

/** Connects an account; a Meta account gets a token the fake Graph API says controls its id, unless `body` brings one. */
async function addAccount(s: TestSession, body: Record<string, unknown> = {}): Promise<any> {
  const full: Record<string, unknown> = { channel: 'whatsapp', external_id: metaId(), name: 'Sales line', ...body };
  if (full.channel !== 'email' && !('access_token' in body)) full.access_token = ownerToken(String(full.external_id));
  else if (typeof full.access_token === 'string') fakeGraph().grant(String(full.external_id), full.access_token);
  const res = await s.call('POST', '/api/integration-accounts', { body: full });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
}

async function listAccounts(s: TestSession, query = ''): Promise<any[]> {
  const res = await s.call('GET', `/api/integration-accounts?limit=100${query}`);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body.data;
}

/** Everything the tenant's activity log holds, as text. */
async function activityText(s: TestSession): Promise<string> {
  return JSON.stringify(await activityLogs.find({ tenant_id: s.tenantId }));
}

function expectNoneOf(text: string, secrets: string[]): void {
  for (const secret of secrets) expect(text, `leaked ${secret}`).not.to.include(secret);
}

describe('GET /api/integrations', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await configure(other, 'email', { settings: { inbound_domain: 'mg.other.test' } });
  });
  itChecksAccess('GET', () => '/api/integrations', 'integrations.view', () => s);

  it('lists every channel, unconfigured ones with configured: false', async () => {
    const res = await s.call('GET', '/api/integrations');
    expect(res.status).to.equal(200);
    expect(res.body.data.map((i: any) => [i.channel, i.configured, i.id])).to.deep.equal([
      ['whatsapp', false, null],
      ['messenger', false, null],
      ['instagram', false, null],
      ['email', false, null],
      ['webchat', false, null],
    ]);
    expect(res.body.data[0]).to.include({ is_enabled: false, has_app_secret: false, accounts_count: 0, default_account_id: null, created_at: null });
  });

  it('shows configured channels with their settings and account counts, never secrets', async () => {
    const secret = hex32();
    const whatsapp = await configure(s, 'whatsapp', { app_secret: secret, verify_token: 'verify-me-please', settings: { waba_id: '102290129340398' } });
    await addAccount(s);
    const res = await s.call('GET', '/api/integrations');
    const listed = res.body.data.find((i: any) => i.channel === 'whatsapp');
    expect(listed).to.include({ id: whatsapp.id, configured: true, is_enabled: true, has_app_secret: true, has_verify_token: true, accounts_count: 1 });
    expect(listed.settings).to.deep.equal({ app_id: null, waba_id: '102290129340398', business_id: null });
    expectNoneOf(JSON.stringify(res.body), [secret, 'verify-me-please']);
  });

  it('lets a holder of integrations.view read, and never shows another organization’s integrations', async () => {
    const viewer = await userWithPermissions(s, ['integrations.view']);
    const res = await viewer.call('GET', '/api/integrations');
    expect(res.status).to.equal(200);
    expect(res.body.data.find((i: any) => i.channel === 'email').configured).to.equal(false);
  });
});

describe('GET /api/integrations/{channel}', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await configure(s, 'messenger', { settings: { app_id: '872364198237' } });
    await configure(other, 'instagram');
  });
  itChecksAccess('GET', () => '/api/integrations/messenger', 'integrations.view', () => s);

  it('answers the configured integration', async () => {
    const res = await s.call('GET', '/api/integrations/messenger');
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: integrationId(s.tenantId, 'messenger'), channel: 'messenger', configured: true });
    expect(res.body.settings).to.deep.equal({ app_id: '872364198237' });
  });

  it('answers 404 for a channel that is not configured, even when another organization has it', async () => {
    const res = await s.call('GET', '/api/integrations/instagram');
    expect(res.status).to.equal(404);
    expect(res.body.message).to.match(/instagram integration/);
  });

  it('answers 400 for an unknown channel', async () => {
    for (const channel of ['sms', 'WhatsApp', 'telegram', '1']) {
      const res = await s.call('GET', `/api/integrations/${channel}`);
      expect(res.status, channel).to.equal(400);
      expect(res.body.message).to.include('whatsapp, messenger, instagram, email');
    }
  });
});

describe('PUT /api/integrations/{channel}', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('PUT', () => '/api/integrations/whatsapp', 'integrations.manage', () => s, { body: {} });

  it('creates with 201, updates with 200, keeps omitted fields and clears null ones', async () => {
    const secret = hex32();
    const created = await s.call('PUT', '/api/integrations/whatsapp', {
      body: { app_secret: secret, verify_token: 'first-verify-token', settings: { waba_id: '111', business_id: '222' } },
    });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ id: integrationId(s.tenantId, 'whatsapp'), configured: true, is_enabled: true, has_app_secret: true, has_verify_token: true });
    expect(created.body.webhook_secret_source).to.equal('integration');

    const updated = await s.call('PUT', '/api/integrations/whatsapp', { body: { is_enabled: false, settings: { business_id: null, app_id: '333' } } });
    expect(updated.status).to.equal(200);
    expect(updated.body).to.include({ is_enabled: false, has_app_secret: true, has_verify_token: true });
    expect(updated.body.settings).to.deep.equal({ app_id: '333', waba_id: '111', business_id: null });
    expect(updated.body.created_at).to.equal(created.body.created_at);
    expect(await appSecretFor(s.tenantId, 'whatsapp')).to.equal(secret);

    const cleared = await s.call('PUT', '/api/integrations/whatsapp', { body: { app_secret: null } });
    expect(cleared.body).to.include({ has_app_secret: false, has_verify_token: true, is_enabled: false });
    const platform = appContext().config.meta.appSecret;
    expect(cleared.body.webhook_secret_source).to.equal(platform ? 'platform' : null);
    expect(await appSecretFor(s.tenantId, 'whatsapp')).to.equal(platform);
  });

  it('sets e-mail defaults and lower-cases the inbound domain', async () => {
    const res = await s.call('PUT', '/api/integrations/email', {
      body: { settings: { inbound_domain: 'MG.Toko.Example', from_name: 'Toko Support' }, webhook_signing_secret: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0' },
    });
    expect(res.status).to.equal(201);
    expect(res.body.settings).to.deep.equal({ provider: 'mailgun', inbound_domain: 'mg.toko.example', from_name: 'Toko Support' });
    expect(res.body).to.include({ has_webhook_signing_secret: true, has_app_secret: false, webhook_secret_source: 'integration' });
    expect(await appSecretFor(s.tenantId, 'email')).to.equal('key-3ax6xnjp29jd6fds4gc373sgvjxteol0');
  });

  it('stores secrets encrypted and never returns or logs them', async () => {
    const secret = hex32();
    const verify = `vt-${newId()}`;
    const res = await s.call('PUT', '/api/integrations/instagram', { body: { app_secret: secret, verify_token: verify } });
    expect(res.status).to.equal(201);
    const raw = await integrations.findOwnedOrNull(s.tenantId, integrationId(s.tenantId, 'instagram'));
    expect(raw?.secrets.app_secret).to.match(/^v1:/);
    expectNoneOf(JSON.stringify(raw), [secret, verify]);
    expectNoneOf(JSON.stringify(res.body), [secret, verify]);
    expectNoneOf(JSON.stringify((await s.call('GET', '/api/integrations/instagram')).body), [secret, verify]);
    expectNoneOf(await activityText(s), [secret, verify]);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'integration.updated', resource_id: res.body.id }, { created_at: -1, _id: -1 });
    expect(entry?.details).to.deep.equal({ changes: { app_secret: '[redacted]', verify_token: '[redacted]' } });
  });

  it('accepts the verify token in Meta’s webhook handshake, per channel, until it is cleared', async () => {
    const verify = `hub-${newId()}`;
    await configure(s, 'messenger', { verify_token: verify });
    expect(await verifyTokenMatches('messenger', verify)).to.equal(true);
    expect(await verifyTokenMatches('instagram', verify)).to.equal(false);
    expect(await verifyTokenMatches('messenger', `${verify}x`)).to.equal(false);
    await configure(s, 'messenger', { verify_token: null });
    expect(await verifyTokenMatches('messenger', verify)).to.equal(false);
  });

  it('answers 400 for bad values, unknown fields and fields of another channel', async () => {
    const cases: [string, string, unknown, string][] = [
      ['whatsapp', 'unknown field', { region: 'eu' }, 'region'],
      ['whatsapp', 'unknown setting', { settings: { phone: '1' } }, 'phone'],
      ['whatsapp', 'is_enabled as a string', { is_enabled: 'yes' }, 'is_enabled'],
      ['whatsapp', 'waba_id as a number', { settings: { waba_id: 102290129340398 } }, 'waba_id'],
      ['whatsapp', 'waba_id with letters', { settings: { waba_id: '10229x' } }, 'waba_id'],
      ['whatsapp', 'a short app secret', { app_secret: 'abc123' }, 'app_secret'],
      ['whatsapp', 'a verify token with spaces', { verify_token: 'has some spaces' }, 'verify_token'],
      ['whatsapp', 'an e-mail setting', { settings: { inbound_domain: 'mg.example.com' } }, 'settings.inbound_domain'],
      ['whatsapp', 'the e-mail secret', { webhook_signing_secret: 'key-123456789' }, 'webhook_signing_secret'],
      ['email', 'a Meta secret', { app_secret: hex32() }, 'app_secret'],
      ['email', 'a WhatsApp setting', { settings: { waba_id: '1' } }, 'settings.waba_id'],
      ['email', 'an unknown provider', { settings: { provider: 'postmark' } }, 'provider'],
      ['email', 'a bad domain', { settings: { inbound_domain: 'not a domain' } }, 'inbound_domain'],
      ['messenger', 'a body that is not an object', [1, 2], ''],
    ];
    for (const [channel, what, body, field] of cases) {
      const res = await s.call('PUT', `/api/integrations/${channel}`, { body });
      expect(res.status, what).to.equal(400);
      expect(res.body.code, what).to.equal('validation_error');
      expect(res.body.message, what).to.include(field);
    }
    expect((await s.call('PUT', '/api/integrations/sms', { body: {} })).status).to.equal(400);
  });

  it('changes only the caller’s organization', async () => {
    const other = await createSession();
    await configure(other, 'whatsapp', { settings: { waba_id: '999' } });
    const mine = await s.call('GET', '/api/integrations/whatsapp');
    expect(mine.body.settings.waba_id).to.equal('111');
    const theirs = await other.call('GET', '/api/integrations/whatsapp');
    expect(theirs.body.settings.waba_id).to.equal('999');
    expect(theirs.body.id).not.to.equal(mine.body.id);
  });
});

describe('DELETE /api/integrations/{channel}', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
  });
  itChecksAccess('DELETE', () => '/api/integrations/whatsapp', 'integrations.manage', () => s);

  it('deletes the integration with its accounts and releases their provider ids', async () => {
    await configure(s, 'whatsapp', { app_secret: hex32() });
    const a = await addAccount(s);
    const b = await addAccount(s);
    const res = await s.call('DELETE', '/api/integrations/whatsapp');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ id: integrationId(s.tenantId, 'whatsapp'), message: 'The whatsapp integration and its 2 accounts were deleted' });
    expect((await s.call('GET', '/api/integrations/whatsapp')).status).to.equal(404);
    expect((await s.call('GET', `/api/integration-accounts/${a.id}`)).status).to.equal(404);
    expect(await resolveAccount('whatsapp', b.external_id)).to.equal(null);
    expect(await findAccountRoute('whatsapp', a.external_id)).to.equal(null);
    // Released: another organization can now connect the same number.
    await configure(other, 'whatsapp');
    const taken = await addAccount(other, { external_id: a.external_id });
    expect((await resolveAccount('whatsapp', a.external_id))?.tenantId).to.equal(other.tenantId);
    expect(taken.external_id).to.equal(a.external_id);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'integration.deleted' });
    expect(entry?.resource_id).to.equal(integrationId(s.tenantId, 'whatsapp'));
  });

  it('answers 404 when the channel is not configured here, leaving another organization’s alone', async () => {
    await configure(other, 'messenger');
    const res = await s.call('DELETE', '/api/integrations/messenger');
    expect(res.status).to.equal(404);
    expect((await other.call('GET', '/api/integrations/messenger')).status).to.equal(200);
  });

  it('answers 400 for an unknown channel', async () => {
    expect((await s.call('DELETE', '/api/integrations/fax')).status).to.equal(400);
  });
});

describe('GET /api/integration-accounts', () => {
  let s: TestSession;
  let other: TestSession;
  let accounts: any[];
  let helpAddress: string;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    const domain = inboundDomain();
    await Promise.all([configure(s, 'whatsapp'), configure(s, 'email', { settings: { inbound_domain: domain } }), configure(other, 'whatsapp')]);
    helpAddress = `help@${domain.toLowerCase()}`;
    accounts = [];
    accounts.push(await addAccount(s, { name: 'first' }));
    accounts.push(await addAccount(s, { name: 'second', status: 'disabled' }));
    accounts.push(await addAccount(s, { channel: 'email', external_id: helpAddress.toUpperCase(), name: 'third', access_token: undefined }));
    accounts.push(await addAccount(s, { name: 'fourth' }));
    await addAccount(other, { name: 'theirs' });
  });
  itChecksAccess('GET', () => '/api/integration-accounts', 'integrations.view', () => s);

  it('lists oldest first with is_default per channel, never with secrets', async () => {
    const res = await s.call('GET', '/api/integration-accounts');
    expect(res.status).to.equal(200);
    expect(res.body.data.map((a: any) => [a.name, a.channel, a.is_default])).to.deep.equal([
      ['first', 'whatsapp', true],
      ['second', 'whatsapp', false],
      ['third', 'email', true],
      ['fourth', 'whatsapp', false],
    ]);
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 4, total_pages: 1 });
    expect(res.body.data[0]).to.have.all.keys(
      'id', 'channel', 'external_id', 'name', 'display', 'status', 'is_default', 'has_access_token', 'settings', 'created_at', 'updated_at',
    );
    expect(res.body.data[2].external_id).to.equal(helpAddress);
    expect(JSON.stringify(res.body)).not.to.match(/EAAG|"access_token"/);
  });

  it('filters by channel and status and pages with a stable order', async () => {
    expect((await listAccounts(s, '&channel=whatsapp')).map((a) => a.name)).to.deep.equal(['first', 'second', 'fourth']);
    expect((await listAccounts(s, '&channel=email')).map((a) => a.name)).to.deep.equal(['third']);
    expect((await listAccounts(s, '&status=disabled')).map((a) => a.name)).to.deep.equal(['second']);
    expect(await listAccounts(s, '&channel=instagram')).to.deep.equal([]);
    const p1 = await s.call('GET', '/api/integration-accounts?limit=3&page=1');
    const p2 = await s.call('GET', '/api/integration-accounts?limit=3&page=2');
    expect(p1.body.pagination.total_pages).to.equal(2);
    expect([...p1.body.data, ...p2.body.data].map((a: any) => a.id)).to.deep.equal(accounts.map((a) => a.id));
  });

  it('answers 400 for bad query values and unknown parameters', async () => {
    for (const q of ['channel=sms', 'status=deleted', 'limit=0', 'limit=101', 'page=0', 'page=abc', 'sort=name']) {
      expect((await s.call('GET', `/api/integration-accounts?${q}`)).status, q).to.equal(400);
    }
  });

  it('never lists another organization’s accounts', async () => {
    expect((await listAccounts(s)).map((a) => a.name)).not.to.include('theirs');
    expect((await listAccounts(other)).map((a) => a.name)).to.deep.equal(['theirs']);
  });
});

describe('POST /api/integration-accounts', () => {
  let s: TestSession;
  let other: TestSession;
  const domain = inboundDomain();
  const support = `support@${domain.toLowerCase()}`;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await Promise.all([configure(s, 'whatsapp'), configure(s, 'email', { settings: { from_name: 'Toko', inbound_domain: domain } }), configure(other, 'whatsapp')]);
  });
  itChecksAccess('POST', () => '/api/integration-accounts', 'integrations.manage', () => s, {
    body: { channel: 'whatsapp', external_id: '123', name: 'x', access_token: token() },
  });

  it('connects a WhatsApp number, keeps its 17-digit id exact and stores the token encrypted', async () => {
    const plain = token();
    const phoneId = metaId();
    fakeGraph().grant(phoneId, plain);
    const res = await s.call('POST', '/api/integration-accounts', {
      body: { channel: 'whatsapp', external_id: phoneId, name: 'Main', display: '+62 811 1234 567', access_token: plain, settings: { waba_id: '102290129340398' } },
    });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ channel: 'whatsapp', external_id: phoneId, name: 'Main', display: '+62 811 1234 567', status: 'active', has_access_token: true });
    expect(res.body.settings).to.deep.equal({ waba_id: '102290129340398' });
    expectNoneOf(JSON.stringify(res.body), [plain]);
    const raw = await integrationAccounts.findOwnedOrNull(s.tenantId, res.body.id);
    expect(raw?.access_token).to.be.a('string').and.match(/^v1:/);
    expect(raw?.access_token).not.to.equal(plain);
    expectNoneOf(JSON.stringify(raw), [plain]);
    expect(decryptSecret(raw?.access_token ?? '', { context: `integration-account:${res.body.id}:access_token` })).to.equal(plain);
    expectNoneOf(await activityText(s), [plain]);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'integration_account.created', resource_id: res.body.id });
    expect((entry?.details as any).changes.access_token).to.equal('[redacted]');
  });

  it('makes the first active account of a channel its default, and only that one', async () => {
    const fresh = await createSession();
    await configure(fresh, 'instagram');
    const disabled = await addAccount(fresh, { channel: 'instagram', status: 'disabled' });
    expect(disabled.is_default).to.equal(false);
    const first = await addAccount(fresh, { channel: 'instagram', settings: { page_id: metaId() } });
    const second = await addAccount(fresh, { channel: 'instagram' });
    expect([first.is_default, second.is_default]).to.deep.equal([true, false]);
    expect((await fresh.call('GET', '/api/integrations/instagram')).body.default_account_id).to.equal(first.id);
  });

  it('resolves webhooks to the right organization and hands out decrypted credentials', async () => {
    const plain = token();
    const mine = await addAccount(s, { access_token: plain, settings: { waba_id: '555' } });
    const theirs = await addAccount(other);
    const resolved = await resolveAccount('whatsapp', mine.external_id);
    expect(resolved?.tenantId).to.equal(s.tenantId);
    expect(resolved?.account._id).to.equal(mine.id);
    expect(resolved?.enabled).to.equal(true);
    expect((await resolveAccount('whatsapp', theirs.external_id))?.tenantId).to.equal(other.tenantId);
    expect(await resolveAccount('whatsapp', metaId())).to.equal(null);
    expect(await resolveAccount('messenger', mine.external_id)).to.equal(null);
    const creds = credentialsFor(resolved?.account ?? (null as never));
    const { graphUrl, graphVersion } = appContext().config.meta;
    expect(creds).to.deep.equal({ accountExternalId: mine.external_id, accessToken: plain, graphUrl, graphVersion, settings: { waba_id: '555' } });
  });

  it('connects an e-mail address with SMTP, hiding the password', async () => {
    const res = await s.call('POST', '/api/integration-accounts', {
      body: {
        channel: 'email',
        external_id: ` Support@${domain} `,
        name: 'Support',
        settings: { smtp: { host: 'smtp.toko.example', port: 465, user: 'support', password: 'smtp-pa55word!' } },
      },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ external_id: support, has_access_token: false, is_default: true });
    expect(res.body.settings).to.deep.equal({
      from_address: null,
      from_name: null,
      smtp: { host: 'smtp.toko.example', port: 465, secure: true, starttls: true, user: 'support', has_password: true },
    });
    expectNoneOf(JSON.stringify(res.body), ['smtp-pa55word!']);
    expectNoneOf(await activityText(s), ['smtp-pa55word!']);
    const resolved = await resolveAccount('email', support.toUpperCase());
    expect(resolved?.tenantId).to.equal(s.tenantId);
    const creds = credentialsFor(resolved?.account ?? (null as never), resolved?.integration ?? null);
    expect(creds.settings).to.deep.equal({
      from: `"Toko" <${support}>`,
      smtp: { host: 'smtp.toko.example', port: 465, secure: true, starttls: true, user: 'support', pass: 'smtp-pa55word!' },
    });
  });

  it('answers 409 when another organization, or this one, already has the number', async () => {
    const phoneId = metaId();
    const mine = await addAccount(s, { external_id: phoneId });
    const theirs = await other.call('POST', '/api/integration-accounts', { body: { channel: 'whatsapp', external_id: phoneId, name: 'x', access_token: ownerToken(phoneId) } });
    expect(theirs.status).to.equal(409);
    expect(theirs.body.message).to.equal('This WhatsApp phone number is already connected to another organization');
    const again = await s.call('POST', '/api/integration-accounts', { body: { channel: 'whatsapp', external_id: phoneId, name: 'x', access_token: ownerToken(phoneId) } });
    expect(again.status).to.equal(409);
    expect(again.body.message).to.include('already connected to this organization');
    expect((await resolveAccount('whatsapp', phoneId))?.account._id).to.equal(mine.id);
    expect((await listAccounts(other)).map((a) => a.external_id)).not.to.include(phoneId);
  });

  it('lets exactly one of two organizations claiming one number at once win', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const phoneId = metaId();
      const body = { channel: 'whatsapp', external_id: phoneId, name: 'race', access_token: ownerToken(phoneId) };
      const [a, b] = await Promise.all([
        s.call('POST', '/api/integration-accounts', { body }),
        other.call('POST', '/api/integration-accounts', { body }),
      ]);
      expect([a.status, b.status].sort()).to.deep.equal([201, 409]);
      const winner = a.status === 201 ? s : other;
      expect((await resolveAccount('whatsapp', phoneId))?.tenantId).to.equal(winner.tenantId);
    }
  });

  it('takes back a claim this organization left behind, but never another organization’s', async () => {
    const mineLeft = metaId();
    const theirsLeft = metaId();
    // What a crash between claiming a number and storing its account leaves behind.
    expect(await insertAccountRoute({ channel: 'whatsapp', external_id: mineLeft, tenant_id: s.tenantId, account_id: newId() })).to.equal(true);
    expect(await insertAccountRoute({ channel: 'whatsapp', external_id: theirsLeft, tenant_id: other.tenantId, account_id: newId() })).to.equal(true);
    expect(await resolveAccount('whatsapp', mineLeft)).to.equal(null);
    const taken = await addAccount(s, { external_id: mineLeft });
    expect((await resolveAccount('whatsapp', mineLeft))?.account._id).to.equal(taken.id);
    const refused = await s.call('POST', '/api/integration-accounts', { body: { channel: 'whatsapp', external_id: theirsLeft, name: 'x', access_token: ownerToken(theirsLeft) } });
    expect(refused.status).to.equal(409);
  });

  it('answers 422 when the channel’s integration is not set up', async () => {
    const res = await s.call('POST', '/api/integration-accounts', { body: { channel: 'messenger', external_id: metaId(), name: 'Page', access_token: token() } });
    expect(res.status).to.equal(422);
    expect(res.body.message).to.include('PUT /api/integrations/messenger');
  });

  it('answers 400 for ids as numbers, malformed ids and addresses, and fields of another channel', async () => {
    const base = { channel: 'whatsapp', external_id: metaId(), name: 'x', access_token: token() };
    const cases: [string, unknown, string][] = [
      ['external_id as a JSON number', { ...base, external_id: 12345678901234567 }, 'external_id'],
      ['a Meta id with letters', { ...base, external_id: '12ab' }, 'external_id'],
      ['a Meta id with a sign', { ...base, external_id: '-123' }, 'external_id'],
      ['an empty external_id', { ...base, external_id: '' }, 'external_id'],
      ['a bad e-mail address', { channel: 'email', external_id: 'not-an-address', name: 'x' }, 'external_id'],
      ['no access token for WhatsApp', { ...base, access_token: undefined }, 'access_token'],
      ['an access token for e-mail', { channel: 'email', external_id: 'a@b.example', name: 'x', access_token: token() }, 'access_token'],
      ['SMTP for WhatsApp', { ...base, settings: { smtp: { host: 'smtp.example.com' } } }, 'settings.smtp'],
      ['page_id for WhatsApp', { ...base, settings: { page_id: '1' } }, 'settings.page_id'],
      ['an SMTP port out of range', { channel: 'email', external_id: 'a@b.example', name: 'x', settings: { smtp: { host: 'smtp.example.com', port: 70000 } } }, 'port'],
      ['an unknown field', { ...base, tenant_id: newId() }, 'tenant_id'],
      ['an unknown channel', { ...base, channel: 'sms' }, 'channel'],
      ['an empty name', { ...base, name: '' }, 'name'],
      ['a bad status', { ...base, status: 'paused' }, 'status'],
      ['a short token', { ...base, access_token: 'abc' }, 'access_token'],
    ];
    for (const [what, body, field] of cases) {
      const res = await s.call('POST', '/api/integration-accounts', { body });
      expect(res.status, what).to.equal(400);
      expect(res.body.message, what).to.include(field);
    }
  });
});

describe('GET /api/integration-accounts/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let account: any;
  let theirs: any;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await Promise.all([configure(s, 'whatsapp'), configure(other, 'whatsapp')]);
    account = await addAccount(s, { display: '+1 555 0100' });
    theirs = await addAccount(other);
  });
  itChecksAccess('GET', () => `/api/integration-accounts/${account.id}`, 'integrations.view', () => s);

  it('answers the account', async () => {
    const res = await s.call('GET', `/api/integration-accounts/${account.id}`);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal(account);
  });

  it('answers 404 for another organization’s account and for an unknown id', async () => {
    const res = await s.call('GET', `/api/integration-accounts/${theirs.id}`);
    expect(res.status).to.equal(404);
    expect(JSON.stringify(res.body)).not.to.include(theirs.external_id);
    expect((await s.call('GET', `/api/integration-accounts/${newId()}`)).status).to.equal(404);
  });

  it('answers 400 for a malformed id', async () => {
    expect((await s.call('GET', '/api/integration-accounts/not-a-uuid')).status).to.equal(400);
  });
});

describe('PATCH /api/integration-accounts/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  const domain = inboundDomain().toLowerCase();
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await Promise.all([configure(s, 'whatsapp'), configure(s, 'email', { settings: { inbound_domain: domain } }), configure(other, 'whatsapp')]);
  });
  itChecksAccess('PATCH', () => `/api/integration-accounts/${newId()}`, 'integrations.manage', () => s, { body: { name: 'x' } });

  it('changes the given fields and keeps the rest, replacing the token without showing it', async () => {
    const account = await addAccount(s, { display: '+1 555 0100', settings: { waba_id: '1' } });
    const plain = token();
    const res = await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body: { name: 'Renamed', access_token: plain } });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ name: 'Renamed', display: '+1 555 0100', external_id: account.external_id, has_access_token: true, is_default: account.is_default });
    expect(res.body.settings).to.deep.equal({ waba_id: '1' });
    const cleared = await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body: { display: null, settings: { waba_id: null } } });
    expect(cleared.body).to.include({ display: null, name: 'Renamed' });
    expect(cleared.body.settings).to.deep.equal({ waba_id: null });
    const resolved = await resolveAccount('whatsapp', account.external_id);
    expect(credentialsFor(resolved?.account ?? (null as never)).accessToken).to.equal(plain);
    expectNoneOf(JSON.stringify(res.body) + (await activityText(s)), [plain]);
  });

  it('keeps the stored SMTP password when a new SMTP server omits it, and removes it on null', async () => {
    const account = await addAccount(s, {
      channel: 'email',
      external_id: `inbox-${newId().slice(0, 8)}@${domain}`,
      access_token: undefined,
      settings: { smtp: { host: 'smtp.old.example', user: 'u', password: 'old-secret-pw' } },
    });
    const moved = await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body: { settings: { smtp: { host: 'smtp.new.example', port: 2525, user: 'u' } } } });
    expect(moved.body.settings.smtp).to.deep.equal({ host: 'smtp.new.example', port: 2525, secure: false, starttls: true, user: 'u', has_password: true });
    const resolved = await resolveAccount('email', account.external_id);
    expect(credentialsFor(resolved?.account ?? (null as never)).settings?.smtp).to.include({ user: 'u', pass: 'old-secret-pw' });
    const removed = await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body: { settings: { smtp: { host: 'smtp.new.example', password: null } } } });
    expect(removed.body.settings.smtp.has_password).to.equal(false);
    const relay = await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body: { settings: { smtp: { host: 'LocalHost', port: 25 } } } });
    expect(relay.body.settings.smtp).to.deep.equal({ host: 'localhost', port: 25, secure: false, starttls: true, user: null, has_password: false });
    const bad = await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body: { settings: { smtp: { host: 'smtp host' } } } });
    expect(bad.status).to.equal(400);
  });

  it('moves the claim to a new external id and releases the old one', async () => {
    const account = await addAccount(s);
    const newPhone = metaId();
    const res = await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body: { external_id: newPhone, access_token: ownerToken(newPhone) } });
    expect(res.status).to.equal(200);
    expect(res.body.external_id).to.equal(newPhone);
    expect((await resolveAccount('whatsapp', newPhone))?.account._id).to.equal(account.id);
    expect(await resolveAccount('whatsapp', account.external_id)).to.equal(null);
    expect(await findAccountRoute('whatsapp', account.external_id)).to.equal(null);
    const reused = await addAccount(other, { external_id: account.external_id });
    expect((await resolveAccount('whatsapp', account.external_id))?.account._id).to.equal(reused.id);
  });

  it('answers 409 when the new external id is taken, changing nothing', async () => {
    const account = await addAccount(s);
    const theirs = await addAccount(other);
    // Even with a token that controls the number (one business, two organizations): the claim decides.
    const stolen = { external_id: theirs.external_id, name: 'Stolen', access_token: ownerToken(theirs.external_id) };
    const res = await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body: stolen });
    expect(res.status).to.equal(409);
    expect(res.body.message).to.include('another organization');
    expect((await s.call('GET', `/api/integration-accounts/${account.id}`)).body).to.include({ name: account.name, external_id: account.external_id });
    expect((await resolveAccount('whatsapp', theirs.external_id))?.tenantId).to.equal(other.tenantId);
    expect((await resolveAccount('whatsapp', account.external_id))?.tenantId).to.equal(s.tenantId);
  });

  it('hands the default to the oldest active account when the default is disabled, and back when none is left', async () => {
    const fresh = await createSession();
    await configure(fresh, 'messenger');
    const a = await addAccount(fresh, { channel: 'messenger', name: 'a' });
    const b = await addAccount(fresh, { channel: 'messenger', name: 'b' });
    const off = await fresh.call('PATCH', `/api/integration-accounts/${a.id}`, { body: { status: 'disabled' } });
    expect(off.body).to.include({ status: 'disabled', is_default: false });
    expect((await fresh.call('GET', '/api/integrations/messenger')).body.default_account_id).to.equal(b.id);
    expect((await resolveAccount('messenger', a.external_id))?.enabled).to.equal(false);
    await fresh.call('PATCH', `/api/integration-accounts/${b.id}`, { body: { status: 'disabled' } });
    expect((await fresh.call('GET', '/api/integrations/messenger')).body.default_account_id).to.equal(null);
    const on = await fresh.call('PATCH', `/api/integration-accounts/${b.id}`, { body: { status: 'active' } });
    expect(on.body.is_default).to.equal(true);
  });

  it('answers 400 for bad values, fields of another channel and a channel change', async () => {
    const account = await addAccount(s);
    const cases: [string, unknown][] = [
      ['external_id as a number', { external_id: 123 }],
      ['a malformed external_id', { external_id: 'abc' }],
      ['a channel change', { channel: 'messenger' }],
      ['an unknown field', { owner: 'x' }],
      ['SMTP on WhatsApp', { settings: { smtp: { host: 'smtp.example.com' } } }],
      ['a bad status', { status: 'on' }],
      ['a null name', { name: null }],
      ['a null token', { access_token: null }],
    ];
    for (const [what, body] of cases) {
      expect((await s.call('PATCH', `/api/integration-accounts/${account.id}`, { body })).status, what).to.equal(400);
    }
    expect((await s.call('PATCH', '/api/integration-accounts/nope', { body: { name: 'x' } })).status).to.equal(400);
  });

  it('answers 404 for another organization’s account and leaves it unchanged', async () => {
    const theirs = await addAccount(other, { name: 'theirs' });
    const res = await s.call('PATCH', `/api/integration-accounts/${theirs.id}`, { body: { name: 'mine now' } });
    expect(res.status).to.equal(404);
    expect((await other.call('GET', `/api/integration-accounts/${theirs.id}`)).body.name).to.equal('theirs');
  });
});

describe('DELETE /api/integration-accounts/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await Promise.all([configure(s, 'whatsapp'), configure(other, 'whatsapp')]);
  });
  itChecksAccess('DELETE', () => `/api/integration-accounts/${newId()}`, 'integrations.manage', () => s);

  it('moves the default to the oldest remaining active account, then to none, and releases the number', async () => {
    const a = await addAccount(s, { name: 'a' });
    await addAccount(s, { name: 'b', status: 'disabled' });
    const c = await addAccount(s, { name: 'c' });
    const d = await addAccount(s, { name: 'd' });
    const res = await s.call('DELETE', `/api/integration-accounts/${a.id}`);
    expect(res.status).to.equal(200);
    expect(res.body.message).to.include('"a" deleted');
    expect((await s.call('GET', '/api/integrations/whatsapp')).body.default_account_id).to.equal(c.id);
    await s.call('DELETE', `/api/integration-accounts/${d.id}`);
    expect((await s.call('GET', '/api/integrations/whatsapp')).body.default_account_id).to.equal(c.id);
    await s.call('DELETE', `/api/integration-accounts/${c.id}`);
    expect((await s.call('GET', '/api/integrations/whatsapp')).body.default_account_id).to.equal(null);
    expect(await resolveAccount('whatsapp', a.external_id)).to.equal(null);
    expect((await s.call('GET', `/api/integration-accounts/${a.id}`)).status).to.equal(404);
    expect((await s.call('DELETE', `/api/integration-accounts/${a.id}`)).status).to.equal(404);
    await addAccount(other, { external_id: a.external_id });
  });

  it('answers 404 for another organization’s account and keeps it', async () => {
    const theirs = await addAccount(other);
    expect((await s.call('DELETE', `/api/integration-accounts/${theirs.id}`)).status).to.equal(404);
    expect((await resolveAccount('whatsapp', theirs.external_id))?.tenantId).to.equal(other.tenantId);
  });

  it('answers 400 for a malformed id', async () => {
    expect((await s.call('DELETE', '/api/integration-accounts/123')).status).to.equal(400);
  });
});

describe('POST /api/integration-accounts/{id}/default', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await Promise.all([configure(s, 'whatsapp'), configure(other, 'whatsapp')]);
  });
  itChecksAccess('POST', () => `/api/integration-accounts/${newId()}/default`, 'integrations.manage', () => s);

  it('makes the account the default and the previous one not', async () => {
    const a = await addAccount(s);
    const b = await addAccount(s);
    const res = await s.call('POST', `/api/integration-accounts/${b.id}/default`);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: b.id, is_default: true });
    expect((await s.call('GET', `/api/integration-accounts/${a.id}`)).body.is_default).to.equal(false);
    const [entry] = await activityLogs.find({ tenant_id: s.tenantId, action: 'integration_account.default_set', resource_id: b.id });
    expect(entry).to.not.equal(undefined);
  });

  it('leaves exactly one default after many concurrent calls', async () => {
    const accounts = [await addAccount(s), await addAccount(s), await addAccount(s), await addAccount(s)];
    const calls = [...accounts, ...accounts, ...accounts].map((a) => s.call('POST', `/api/integration-accounts/${a.id}/default`));
    const answers = await Promise.all(calls);
    expect(answers.map((r) => r.status)).to.deep.equal(answers.map(() => 200));
    const defaults = (await listAccounts(s, '&channel=whatsapp')).filter((a) => a.is_default);
    expect(defaults).to.have.length(1);
    expect((await s.call('GET', '/api/integrations/whatsapp')).body.default_account_id).to.equal(defaults[0].id);
  });

  it('answers 422 for a disabled account', async () => {
    const off = await addAccount(s, { status: 'disabled' });
    const res = await s.call('POST', `/api/integration-accounts/${off.id}/default`);
    expect(res.status).to.equal(422);
    expect(res.body.message).to.match(/disabled/);
  });

  it('answers 404 for another organization’s account without touching its default', async () => {
    const theirs = await addAccount(other);
    const second = await addAccount(other);
    expect((await s.call('POST', `/api/integration-accounts/${second.id}/default`)).status).to.equal(404);
    expect((await other.call('GET', '/api/integrations/whatsapp')).body.default_account_id).to.equal(theirs.id);
  });

  it('answers 400 for a malformed id', async () => {
    expect((await s.call('POST', '/api/integration-accounts/xyz/default')).status).to.equal(400);
  });
});
