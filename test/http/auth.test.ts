import { expect } from 'chai';
import { api } from '../support/http.js';
import { itChecksAccess } from '../support/access.js';
import { expectOneWinner, insertClaim } from '../support/claims.js';
import { createSession, type TestSession } from '../support/session.js';

describe('POST /api/auth/register', () => {
  it('creates the tenant, its admin, built-in roles and default working hours', async () => {
    const s = await createSession({ organization_name: 'Toko Maju Jaya' });
    const me = await s.call('GET', '/api/auth/me');
    expect(me.status).to.equal(200);
    expect(me.body.tenant.timezone).to.equal('Asia/Jakarta');
    expect(me.body.tenant.slug).to.match(/^toko-maju-jaya/);
    expect(me.body.agent.role.name).to.equal('admin');
    expect(me.body.permissions).to.include.members(['settings.manage', 'roles.manage', 'agents.manage']);
  });

  it('sets an httpOnly session cookie that authenticates', async () => {
    const res = await api('POST', '/api/auth/register', {
      body: { organization_name: 'Cookie Co', name: 'A', email: `c-${Date.now()}@example.test`, password: 'password-1' },
    });
    expect(res.status).to.equal(201);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).to.match(/omnistream_token=/).and.match(/httponly/i);
    const me = await api('GET', '/api/auth/me', { headers: { cookie: cookie.split(';')[0] as string } });
    expect(me.status).to.equal(200);
  });

  it('answers 409 when the requested slug is taken', async () => {
    const first = await createSession();
    const res = await api('POST', '/api/auth/register', {
      body: { organization_name: 'Xyz', slug: first.tenantSlug, name: 'A', email: 'x@example.test', password: 'password-1' },
    });
    expect(res.status).to.equal(409);
  });

  it('gives one of two simultaneous registrations of one slug a 201 and the other a 409', async () => {
    const slug = `twin-${Date.now().toString(36)}`;
    let n = 0;
    await expectOneWinner(() =>
      api('POST', '/api/auth/register', {
        body: { organization_name: 'Twin', slug, name: 'A', email: `twin-${n++}-${slug}@example.test`, password: 'password-1' },
      }),
    );
  });

  it('is not blocked by a slug claim whose tenant never came to be', async () => {
    const slug = `stranded-${Date.now().toString(36)}`;
    await insertClaim({ kind: 'tenant.slug', scopeId: 'platform' }, slug);
    const s = await createSession({ slug });
    expect(s.tenantSlug).to.equal(slug);
    const again = await api('POST', '/api/auth/register', {
      body: { organization_name: 'Again', slug, name: 'A', email: `again-${slug}@example.test`, password: 'password-1' },
    });
    expect(again.status).to.equal(409);
    expect(again.body.message).to.equal(`The slug "${slug}" is already taken`);
  });

  it('answers 400 for bad fields, naming the field', async () => {
    const cases = [
      { organization_name: 'X', name: 'A', email: 'not-an-email', password: 'password-1' },
      { organization_name: 'X', name: 'A', email: 'a@example.test', password: 'short' },
      { organization_name: 'X', name: 'A', email: 'a@example.test', password: 'password-1', timezone: 'Mars/Base' },
      { organization_name: 'X', name: 'A', email: 'a@example.test', password: 'password-1', role: 'admin' },
      { organization_name: 42, name: 'A', email: 'a@example.test', password: 'password-1' },
    ];
    for (const body of cases) {
      const res = await api('POST', '/api/auth/register', { body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
      expect(res.body.details).to.be.an('array').that.is.not.empty;
    }
  });

  it('answers 400 for malformed JSON and 413 for an oversized body, without a stack trace', async () => {
    const bad = await api('POST', '/api/auth/register', { raw: '{"organization_name": ' });
    expect(bad.status).to.equal(400);
    expect(bad.body.message).to.match(/JSON/);
    expect(JSON.stringify(bad.body)).not.to.match(/at .*\.js/);
    const big = await api('POST', '/api/auth/register', { raw: JSON.stringify({ organization_name: 'x'.repeat(2 * 1024 * 1024) }) });
    expect(big.status).to.equal(413);
  });
});

describe('POST /api/auth/login', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });

  it('returns a working bearer token', async () => {
    const res = await api('POST', '/api/auth/login', { body: { email: s.email.toUpperCase(), password: s.password } });
    expect(res.status).to.equal(200);
    expect(res.body.token_type).to.equal('Bearer');
    const me = await api('GET', '/api/auth/me', { token: res.body.token });
    expect(me.body.agent.id).to.equal(s.userId);
    expect(me.body.agent.last_login_at).to.be.a('string');
  });

  it('answers 401 with the same message for a wrong password and an unknown e-mail', async () => {
    const wrong = await api('POST', '/api/auth/login', { body: { email: s.email, password: 'nope-nope' } });
    const unknown = await api('POST', '/api/auth/login', { body: { email: 'nobody@example.test', password: 'nope-nope' } });
    expect(wrong.status).to.equal(401);
    expect(unknown.status).to.equal(401);
    expect(wrong.body.message).to.equal(unknown.body.message);
  });

  it('records successful and failed logins in the activity log', async () => {
    const res = await s.call('GET', '/api/activity-logs?action=auth.login_failed');
    expect(res.status).to.equal(200);
    expect(res.body.data.length).to.be.at.least(1);
    expect(res.body.data[0].resource_id).to.equal(s.userId);
  });

  it('asks for the tenant when the e-mail is in two organizations', async () => {
    const other = await createSession({ email: s.email, password: s.password });
    const ambiguous = await api('POST', '/api/auth/login', { body: { email: s.email, password: s.password } });
    expect(ambiguous.status).to.equal(400);
    expect(ambiguous.body.code).to.equal('tenant_required');
    const chosen = await api('POST', '/api/auth/login', { body: { email: s.email, password: s.password, tenant: other.tenantSlug } });
    expect(chosen.status).to.equal(200);
    expect(chosen.body.tenant.id).to.equal(other.tenantId);
  });

  it('answers 400 for a missing password', async () => {
    const res = await api('POST', '/api/auth/login', { body: { email: s.email } });
    expect(res.status).to.equal(400);
    expect(res.body.details[0].field).to.equal('password');
  });
});

describe('POST /api/auth/login does not reveal which e-mails exist', () => {
  let s: TestSession;
  let shared: TestSession;
  const login = (email: string, password: string) => api('POST', '/api/auth/login', { body: { email, password } });

  before(async () => {
    s = await createSession();
    // An e-mail in two organizations, the second with another password.
    shared = await createSession();
    await createSession({ email: shared.email, password: 'kata-sandi-lain' });
  });

  it('answers an unknown e-mail, a wrong password and a two-organization e-mail with a wrong password alike', async () => {
    const answers = [await login(`nobody-${Date.now()}@example.test`, 'rahasia-123'), await login(s.email, 'tebakan-salah'), await login(shared.email, 'tebakan-salah')];
    for (const res of answers) {
      expect(res.status).to.equal(401);
      expect(res.body).to.deep.equal({ message: 'Invalid e-mail or password', code: 'unauthorized' });
    }
  });

  it('asks which organization only once the password matched in several, and logs into the one it matched', async () => {
    const ambiguous = await createSession();
    await createSession({ email: ambiguous.email, password: ambiguous.password });
    expect((await login(ambiguous.email, ambiguous.password)).body.code).to.equal('tenant_required');
    const one = await login(shared.email, shared.password);
    expect(one.status).to.equal(200);
    expect(one.body.tenant.id).to.equal(shared.tenantId);
  });

  it('spends about as long on an unknown e-mail as on a wrong password', async () => {
    // Interleaved, medians: the gap between the two is what a guesser would measure. Before,
    // an unknown e-mail was compared with a cost-10 hash while accounts use the configured cost.
    const unknown: number[] = [];
    const wrong: number[] = [];
    const timed = async (into: number[], email: string) => {
      const started = performance.now();
      expect((await login(email, 'tebakan-salah')).status).to.equal(401);
      into.push(performance.now() - started);
    };
    for (let i = 0; i < 11; i++) {
      await timed(unknown, `nobody-${i}-${Date.now()}@example.test`);
      await timed(wrong, s.email);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    expect(Math.abs(median(unknown) - median(wrong))).to.be.below(25);
  });

  it('writes one auth.login_failed row per account for a run of wrong guesses', async () => {
    const target = await createSession();
    for (let i = 0; i < 12; i++) expect((await login(target.email, `tebakan-${i}`)).status).to.equal(401);
    const rows = await target.call('GET', '/api/activity-logs?action=auth.login_failed');
    expect(rows.body.data).to.have.length(1);
    expect(rows.body.data[0].resource_id).to.equal(target.userId);
  });
});

describe('GET /api/auth/me', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('GET', () => '/api/auth/me', 'authenticated', () => s);

  it('answers 401 for a malformed Authorization header', async () => {
    const res = await api('GET', '/api/auth/me', { headers: { authorization: 'Token abc' } });
    expect(res.status).to.equal(401);
  });
});

describe('POST /api/auth/logout', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('POST', () => '/api/auth/logout', 'authenticated', () => s);

  it('revokes the token and clears the cookie', async () => {
    const login = await api('POST', '/api/auth/login', { body: { email: s.email, password: s.password } });
    const token = login.body.token as string;
    const out = await api('POST', '/api/auth/logout', { token });
    expect(out.status).to.equal(200);
    expect(out.headers.get('set-cookie')).to.match(/omnistream_token=;/);
    const after = await api('GET', '/api/auth/me', { token });
    expect(after.status).to.equal(401);
    expect(after.body.message).to.match(/revoked/);
    // Other sessions of the same user are unaffected.
    expect((await s.call('GET', '/api/auth/me')).status).to.equal(200);
  });
});

describe('GET /api/auth/token', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('GET', () => '/api/auth/token', 'authenticated', () => s);

  it('issues a new token that works and expires later', async () => {
    const res = await s.call('GET', '/api/auth/token');
    expect(res.status).to.equal(200);
    expect(res.body.token).to.not.equal(s.token);
    expect(Date.parse(res.body.expires_at)).to.be.greaterThan(Date.now());
    const me = await api('GET', '/api/auth/me', { token: res.body.token });
    expect(me.status).to.equal(200);
  });
});
