/**
 * Attacks on the SMTP settings of e-mail accounts over real HTTP (issue 8, outbound targets):
 * a tenant names an SMTP host that leads into our own network, or asks for credentials to go
 * in plain text. The run's server allows only 127.0.0.1/32 (test/setup.ts); a second server
 * process runs with the production default (no network allowed) for loopback itself, and shows
 * that the send checks again: an account saved where 127.0.0.1 was allowed fails to send there.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SMTPServer } from 'smtp-server';
import { signMailgunFields } from '../../channels/email/verify.js';
import { messages } from '../../src/models/message.js';
import { testServerEnv } from '../setup.js';
import { api } from '../support/http.js';
import { findFirst } from '../support/repos.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, type TestSession } from '../support/session.js';
import { until } from '../support/whatsapp.js';

const suffix = () => randomBytes(4).toString('hex');

/** Sets up e-mail with its own inbound domain; answers an address at it. */
async function setUpEmail(s: TestSession, signingKey = `key-${suffix()}${suffix()}`): Promise<{ domain: string; address: (local: string) => string }> {
  const domain = `toko-${suffix()}.example`;
  const res = await s.call('PUT', '/api/integrations/email', { body: { webhook_signing_secret: signingKey, settings: { inbound_domain: domain } } });
  expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
  return { domain, address: (local) => `${local}-${suffix()}@${domain}` };
}

const emailAccount = (externalId: string, smtp: Record<string, unknown>) => ({ body: { channel: 'email', external_id: externalId, name: 'Support', settings: { smtp } } });

describe('POST /api/integration-accounts: SMTP hosts that lead into our network', () => {
  let s: TestSession;
  let address: (local: string) => string;
  before(async () => {
    s = await createSession();
    ({ address } = await setUpEmail(s));
  });

  it('attack: answers 422 naming the field for private, link-local, CGNAT and other loopback hosts, and claims nothing', async () => {
    // Before: each of these answered 201 and the send connected there (169.254.169.254 is the cloud metadata service).
    const cases: [string, string][] = [
      ['169.254.169.254', 'is a link-local address (169.254.169.254)'],
      ['10.0.0.5', 'is a private address (10.0.0.5)'],
      ['172.16.8.1', 'is a private address (172.16.8.1)'],
      ['192.168.1.1', 'is a private address (192.168.1.1)'],
      ['100.64.0.1', 'is a shared (CGNAT) address (100.64.0.1)'],
      ['0.0.0.0', 'is an unspecified address (0.0.0.0)'],
      ['127.0.0.2', 'is a loopback address (127.0.0.2)'],
      ['2130706434', 'is a loopback address (127.0.0.2)'],
      ['0x7f.0.0.2', 'is a loopback address (127.0.0.2)'],
      ['0xa9fea9fe', 'is a link-local address (169.254.169.254)'],
    ];
    const externalId = address('support');
    for (const [host, why] of cases) {
      const res = await s.call('POST', '/api/integration-accounts', emailAccount(externalId, { host, port: 587 }));
      expect(res.status, `${host}: ${JSON.stringify(res.body)}`).to.equal(422);
      expect(res.body).to.deep.equal({
        message: `settings.smtp.host ${why}`,
        code: 'outbound_target_refused',
        details: [{ in: 'body', field: 'settings.smtp.host', message: why }],
      });
    }
    // Nothing was claimed: the same address connects with a public server.
    const ok = await s.call('POST', '/api/integration-accounts', emailAccount(externalId, { host: 'smtp.mailgun.org', port: 587, user: 'postmaster', password: 'pw-123456' }));
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    expect(ok.body.settings.smtp).to.deep.equal({ host: 'smtp.mailgun.org', port: 587, secure: false, starttls: true, user: 'postmaster', has_password: true });
  });

  it('accepts 127.0.0.1 only because this server’s configuration allows 127.0.0.1/32', async () => {
    const res = await s.call('POST', '/api/integration-accounts', emailAccount(address('relay'), { host: '127.0.0.1', port: 2525 }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });

  it('attack: answers 422 for a user and password with STARTTLS turned off, and allows plain text without them', async () => {
    const plain = await s.call('POST', '/api/integration-accounts', emailAccount(address('plain'), { host: 'smtp.mailgun.org', port: 587, starttls: false, user: 'postmaster', password: 'pw-123456' }));
    expect(plain.status, JSON.stringify(plain.body)).to.equal(422);
    expect(plain.body).to.deep.include({ code: 'tls_required' });
    expect(plain.body.message).to.match(/^settings\.smtp\.starttls must not be false with a user or password: credentials are only sent over TLS/);
    expect(plain.body.details).to.deep.equal([{ in: 'body', field: 'settings.smtp.starttls', message: plain.body.message.replace('settings.smtp.starttls ', '') }]);
    const implicit = await s.call('POST', '/api/integration-accounts', emailAccount(address('implicit'), { host: 'smtp.mailgun.org', port: 465, starttls: false, user: 'postmaster', password: 'pw-123456' }));
    expect(implicit.status, JSON.stringify(implicit.body)).to.equal(201);
    expect(implicit.body.settings.smtp).to.include({ secure: true });
    const relay = await s.call('POST', '/api/integration-accounts', emailAccount(address('relay'), { host: 'smtp.mailgun.org', port: 25, starttls: false }));
    expect(relay.status, JSON.stringify(relay.body)).to.equal(201);
    expect(relay.body.settings.smtp).to.deep.equal({ host: 'smtp.mailgun.org', port: 25, secure: false, starttls: false, user: null, has_password: false });
  });
});

describe('PATCH /api/integration-accounts/{id}: SMTP hosts that lead into our network', () => {
  it('attack: answers 422 for a metadata host or plain-text credentials and keeps the stored server', async () => {
    const s = await createSession();
    const { address } = await setUpEmail(s);
    const created = await s.call('POST', '/api/integration-accounts', emailAccount(address('support'), { host: 'smtp.mailgun.org', port: 587, user: 'postmaster', password: 'pw-123456' }));
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const path = `/api/integration-accounts/${created.body.id}`;
    const metadata = await s.call('PATCH', path, { body: { settings: { smtp: { host: '169.254.169.254', port: 80 } } } });
    expect(metadata.status).to.equal(422);
    expect(metadata.body.message).to.equal('settings.smtp.host is a link-local address (169.254.169.254)');
    const plain = await s.call('PATCH', path, { body: { settings: { smtp: { host: 'smtp.mailgun.org', port: 587, starttls: false, user: 'postmaster' } } } });
    expect(plain.status).to.equal(422);
    expect(plain.body.details[0].field).to.equal('settings.smtp.starttls');
    const stored = await s.call('GET', path);
    expect(stored.body.settings.smtp).to.deep.equal({ host: 'smtp.mailgun.org', port: 587, secure: false, starttls: true, user: 'postmaster', has_password: true });
  });
});

/** A local SMTP server offering STARTTLS with the certificate test/setup.ts trusts; records logins and mail. */
async function startTlsSmtp() {
  const fixture = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url));
  const seen = { connections: 0, auths: [] as { username: string; secure: boolean }[], messages: 0 };
  const server = new SMTPServer({
    logger: false,
    key: fixture('smtp-key.pem'),
    cert: fixture('smtp-cert.pem'),
    allowInsecureAuth: true,
    onConnect(_session, callback) {
      seen.connections++;
      callback();
    },
    onAuth(auth, session, callback) {
      seen.auths.push({ username: auth.username ?? '', secure: Boolean(session.secure) });
      callback(null, { user: auth.username });
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        seen.messages++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('SMTP hosts under the production default (a second server process allowing no private network)', () => {
  let prod: ServerProcess;
  let smtp: Awaited<ReturnType<typeof startTlsSmtp>>;
  before(async function () {
    this.timeout(60000);
    // The same data as the run's server; only OUTBOUND_ALLOWED_NETWORKS differs (unset: nothing allowed).
    const { OUTBOUND_ALLOWED_NETWORKS: _allowed, ...env } = testServerEnv();
    prod = await startServerProcess({ ...env, OUTBOUND_ALLOWED_NETWORKS: '' });
    smtp = await startTlsSmtp();
  });
  after(async () => {
    prod?.kill();
    await smtp?.close();
  });

  it('attack: answers 422 for 127.0.0.1, localhost and the odd spellings of loopback', async () => {
    // Before: 201 for each, and the send then talked to whatever listened on the server's own loopback.
    const s = await createSession();
    const { address } = await setUpEmail(s);
    const cases: [string, string][] = [
      ['127.0.0.1', 'is a loopback address (127.0.0.1)'],
      ['localhost', 'resolves to a loopback address (127.0.0.1)'],
      ['2130706433', 'is a loopback address (127.0.0.1)'],
      ['0x7f.1', 'is a loopback address (127.0.0.1)'],
      ['127.1', 'is a loopback address (127.0.0.1)'],
    ];
    for (const [host, why] of cases) {
      const res = await api('POST', '/api/integration-accounts', { baseUrl: prod.url, token: s.token, ...emailAccount(address('support'), { host, port: 587 }) });
      expect(res.status, `${host}: ${JSON.stringify(res.body)}`).to.equal(422);
      expect(res.body.message).to.equal(`settings.smtp.host ${why}`);
    }
  });

  it('checks again at send time: an account saved where 127.0.0.1 was allowed fails to send here, permanently and on record', async function () {
    this.timeout(30000);
    const s = await createSession();
    const signingKey = `key-${suffix()}${suffix()}`;
    const { address } = await setUpEmail(s, signingKey);
    const inbox = address('support');
    // Saved on the run's server, which allows 127.0.0.1/32.
    const account = await s.call('POST', '/api/integration-accounts', emailAccount(inbox, { host: '127.0.0.1', port: smtp.port, user: 'mailer', password: 'pw-123456' }));
    expect(account.status, JSON.stringify(account.body)).to.equal(201);
    const form = new URLSearchParams({
      recipient: inbox,
      sender: 'bob@client.example',
      from: 'Bob <bob@client.example>',
      subject: 'Where is my parcel?',
      'body-plain': 'Hello',
      'Message-Id': `<${suffix()}@client.example>`,
      ...signMailgunFields(signingKey, randomBytes(25).toString('hex')),
    }).toString();
    const hook = await api('POST', '/api/webhooks/email', { raw: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(200);
    const inbound = await until(() => findFirst(messages, { tenant_id: s.tenantId, channel: 'email' }), 'the inbound e-mail');
    const send = (baseUrl: string | undefined) =>
      api('POST', `/api/conversations/${inbound.conversation_id}/messages`, { token: s.token, ...(baseUrl ? { baseUrl } : {}), body: { type: 'text', text: 'On its way', idempotency_key: `k-${suffix()}` } });

    const refused = await send(prod.url);
    expect(refused.status, JSON.stringify(refused.body)).to.equal(201);
    expect(refused.body.status).to.equal('failed');
    expect(refused.body.errors).to.deep.equal([
      { code: 'smtp_host_refused', message: 'SMTP host 127.0.0.1 is a loopback address (127.0.0.1): refused by the outbound policy', retryable: false, http_status: null },
    ]);
    expect(smtp.seen.connections).to.equal(0);

    // The run's server allows it, and sends over STARTTLS with the credentials only under TLS.
    const sent = await send(undefined);
    expect(sent.status, JSON.stringify(sent.body)).to.equal(201);
    expect(sent.body.status, JSON.stringify(sent.body)).to.equal('sent');
    expect(smtp.seen.auths).to.deep.equal([{ username: 'mailer', secure: true }]);
    expect(smtp.seen.messages).to.equal(1);
  });
});
