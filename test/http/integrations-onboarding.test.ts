/**
 * Meta onboarding against the run's fake Graph API: WhatsApp Embedded Signup, Facebook Login
 * for Instagram and Messenger, and their config endpoints. Meta is asked first and each account
 * is claimed with the proof of ownership of POST /api/integration-accounts; tokens are stored
 * encrypted and no answer ever carries one (nor the app secret, nor the code).
 */
import { expect } from 'chai';
import { decryptSecret } from '../../src/crypto/secrets.js';
import { activityLogs } from '../../src/models/activity-log.js';
import { findAccountRoute, integrationAccounts } from '../../src/models/integration-account.js';
import { accountSecretContext, resolveAccount } from '../../src/services/integration-accounts.js';
import { fakeGraph, testServerEnv } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import {
  authCode,
  call,
  expectNoSecretsAnswered,
  fakePage,
  fakeWaba,
  issuedSecrets,
  onEmbeddedSignup,
  onFacebookLogin,
  requestsTo,
  strictGraph,
  type FakeWaba,
} from '../support/meta-login.js';
import { api } from '../support/http.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

const REDIRECT = 'https://app.omnistream.test/integrations/meta/callback';



async function accountsOf(s: TestSession, channel: string): Promise<any[]> {
  const res = await call(s, 'GET', `/api/integration-accounts?channel=${channel}&limit=100`);
  expect(res.status).to.equal(200);
  return res.body.data;
}

after(() => expectNoSecretsAnswered([...issuedSecrets, testServerEnv().META_APP_SECRET as string]));

describe('GET /api/integrations/whatsapp/embedded-signup/config', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('GET', () => '/api/integrations/whatsapp/embedded-signup/config', 'integrations.manage', () => s);

  it('answers the app id, configuration id and Graph version, never the app secret', async () => {
    const res = await call(s, 'GET', '/api/integrations/whatsapp/embedded-signup/config');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ configured: true, app_id: '1234567890123', config_id: '9876543210987', graph_version: 'v21.0' });
  });
});

describe('GET /api/integrations/{instagram,messenger}/oauth/config', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('GET', () => '/api/integrations/instagram/oauth/config', 'integrations.manage', () => s);
  itChecksAccess('GET', () => '/api/integrations/messenger/oauth/config', 'integrations.manage', () => s);

  it('answers what the Facebook Login dialog needs for each channel', async () => {
    const ig = await call(s, 'GET', '/api/integrations/instagram/oauth/config');
    expect(ig.status).to.equal(200);
    expect(ig.body).to.include({ configured: true, app_id: '1234567890123', graph_version: 'v21.0', redirect_uri: REDIRECT, dialog_url: 'https://www.facebook.com/v21.0/dialog/oauth' });
    expect(ig.body.scopes).to.include.members(['instagram_basic', 'instagram_manage_messages', 'pages_show_list']);
    const fb = await call(s, 'GET', '/api/integrations/messenger/oauth/config');
    expect(fb.body.scopes).to.include.members(['pages_messaging', 'pages_manage_metadata']);
    expect(Object.keys(fb.body)).to.have.members(['configured', 'app_id', 'graph_version', 'redirect_uri', 'scopes', 'dialog_url']);
  });
});

describe('POST /api/integrations/whatsapp/embedded-signup', () => {
  let s: TestSession;
  const signup = (waba: FakeWaba, code: string, extra: Record<string, unknown> = {}) =>
    call(s, 'POST', '/api/integrations/whatsapp/embedded-signup', { code, waba_id: waba.id, pin: '123456', ...extra });
  before(async () => {
    s = await createSession();
  });
  strictGraph();
  itChecksAccess('POST', () => '/api/integrations/whatsapp/embedded-signup', 'integrations.manage', () => s, { body: { code: 'x', waba_id: '1', pin: '123456' } });

  it('exchanges the code, registers the numbers, subscribes the app and connects them with one default', async () => {
    const waba = fakeWaba(2);
    const code = authCode();
    const token = onEmbeddedSignup(code, waba);
    const res = await signup(waba, code, { business_id: '5550001112223334' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ waba_id: waba.id, waba_name: waba.name, business_id: '5550001112223334', subscribed: true });
    expect(res.body.accounts.map((a: any) => a.external_id)).to.deep.equal(waba.numbers.map((n) => n.id));
    expect(res.body.accounts[0]).to.include({ channel: 'whatsapp', name: 'Toko 1', display: waba.numbers[0]?.display_phone_number, status: 'active', has_access_token: true });
    expect(res.body.accounts[0].settings).to.deep.equal({ waba_id: waba.id });
    // The code went once to /oauth/access_token with the app's id and secret, no redirect_uri.
    const [exchange] = requestsTo('GET', '/v21.0/oauth/access_token');
    expect(exchange?.query.get('client_id')).to.equal('1234567890123');
    expect(exchange?.query.has('redirect_uri')).to.equal(false);
    // Each number registered with the PIN, the app subscribed, all with the business token as bearer.
    for (const n of waba.numbers) {
      const [register] = requestsTo('POST', `/v21.0/${n.id}/register`);
      expect(register?.json).to.deep.equal({ messaging_product: 'whatsapp', pin: '123456' });
      expect(register?.headers.authorization).to.equal(`Bearer ${token}`);
    }
    expect(requestsTo('POST', `/v21.0/${waba.id}/subscribed_apps`)).to.have.length(1);
    // Ownership was proven per number before the claim (the proof of POST /api/integration-accounts).
    for (const n of waba.numbers) expect(requestsTo('GET', `/v21.0/${n.id}`)[0]?.query.get('fields')).to.equal('id,display_phone_number');
    // Exactly one default; the integration was created with the WABA.
    const accounts = await accountsOf(s, 'whatsapp');
    expect(accounts.filter((a) => a.is_default).map((a) => a.external_id)).to.deep.equal([waba.numbers[0]?.id]);
    const integration = await call(s, 'GET', '/api/integrations/whatsapp');
    expect(integration.body.settings).to.include({ waba_id: waba.id, business_id: '5550001112223334' });
    // The token is stored encrypted, bound to its account, and routes webhooks to this organization.
    const stored = await integrationAccounts.findOwned(s.tenantId, res.body.accounts[0].id);
    expect(stored.access_token).to.match(/^v1:/).and.not.include(token);
    expect(decryptSecret(stored.access_token as string, { context: accountSecretContext(stored._id, 'access_token') })).to.equal(token);
    expect((await resolveAccount('whatsapp', waba.numbers[1]?.id as string))?.tenantId).to.equal(s.tenantId);
    // The activity log keeps neither the code nor the PIN.
    const [log] = await activityLogs.find({ tenant_id: s.tenantId, action: 'integration.whatsapp_signup_completed' });
    expect(JSON.stringify(log)).not.to.include(code).and.not.include('123456');
  });

  it('connects only the numbers asked for, and refuses one that is not the WABA’s', async () => {
    const waba = fakeWaba(2);
    const code = authCode();
    onEmbeddedSignup(code, waba);
    const stranger = await signup(waba, code, { phone_number_ids: ['1999999999999999'] });
    expect(stranger.status, JSON.stringify(stranger.body)).to.equal(422);
    expect(stranger.body.details[0].field).to.equal('phone_number_ids');
    expect(requestsTo('POST', '/v21.0/1999999999999999/register')).to.have.length(0);
    const code2 = authCode();
    onEmbeddedSignup(code2, waba);
    const one = await signup(waba, code2, { phone_number_ids: [waba.numbers[1]?.id] });
    expect(one.status, JSON.stringify(one.body)).to.equal(200);
    expect(one.body.accounts.map((a: any) => a.external_id)).to.deep.equal([waba.numbers[1]?.id]);
    expect(await findAccountRoute('whatsapp', waba.numbers[0]?.id as string)).to.equal(null);
  });

  it('finds the WABA the signup shared when waba_id is absent, and asks for it when there are several', async () => {
    const waba = fakeWaba(1);
    const code = authCode();
    const token = onEmbeddedSignup(code, waba);
    const env = testServerEnv();
    let shared = [waba.id];
    fakeGraph().on('GET', '/v21.0/debug_token', (req) =>
      req.headers.authorization === `Bearer ${env.META_APP_ID}|${env.META_APP_SECRET}` && req.query.get('input_token') === token
        ? { body: { data: { app_id: env.META_APP_ID, is_valid: true, granular_scopes: [{ scope: 'business_management' }, { scope: 'whatsapp_business_management', target_ids: shared }] } } }
        : { status: 400, body: { error: { message: 'Invalid OAuth access token', code: 190 } } },
    );
    const res = await call(s, 'POST', '/api/integrations/whatsapp/embedded-signup', { code, pin: '123456' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.waba_id).to.equal(waba.id);
    const code2 = authCode();
    const token2 = onEmbeddedSignup(code2, waba);
    shared = [waba.id, '1888888888888888'];
    fakeGraph().on('GET', '/v21.0/debug_token', (req) =>
      req.query.get('input_token') === token2 ? { body: { data: { granular_scopes: [{ scope: 'whatsapp_business_management', target_ids: shared }] } } } : { status: 400, body: {} },
    );
    const several = await call(s, 'POST', '/api/integrations/whatsapp/embedded-signup', { code: code2, pin: '123456' });
    expect(several.status, JSON.stringify(several.body)).to.equal(422);
    expect(several.body.details[0].field).to.equal('waba_id');
    expect(several.body.message).to.include('1888888888888888');
  });

  it('refreshes the token of a number this organization has when signing up again', async () => {
    const waba = fakeWaba(1);
    const first = authCode();
    onEmbeddedSignup(first, waba);
    const before = await signup(waba, first);
    expect(before.status).to.equal(200);
    const second = authCode();
    const token = onEmbeddedSignup(second, waba);
    const again = await signup(waba, second);
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body.accounts[0].id).to.equal(before.body.accounts[0].id);
    const stored = await integrationAccounts.findOwned(s.tenantId, before.body.accounts[0].id);
    expect(decryptSecret(stored.access_token as string, { context: accountSecretContext(stored._id, 'access_token') })).to.equal(token);
  });

  it('answers 400 for a bad PIN, a numeric WABA id or a missing code, before asking Meta', async () => {
    for (const body of [
      { code: authCode(), waba_id: '123', pin: '12345' },
      { code: authCode(), waba_id: 123, pin: '123456' },
      { waba_id: '123', pin: '123456' },
      { code: authCode(), waba_id: '123', pin: '123456', app_secret: 'x' },
    ]) {
      const res = await call(s, 'POST', '/api/integrations/whatsapp/embedded-signup', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    }
    expect(fakeGraph().requests).to.have.length(0);
  });

  it('maps Meta’s refusal of a used code to a 422 naming code, with Meta’s message and trace, claiming nothing', async () => {
    const waba = fakeWaba(1);
    const code = authCode();
    onEmbeddedSignup(code, waba);
    expect((await signup(waba, code)).status).to.equal(200);
    const reused = await signup(waba, code);
    expect(reused.status, JSON.stringify(reused.body)).to.equal(422);
    expect(reused.body.code).to.equal('provider_refused');
    expect(reused.body.message).to.include('This authorization code has been used').and.include('fbtrace_id AcodeTrace').and.include('code 100');
    expect(reused.body.details[0].field).to.equal('code');
  });

  it('retries a 5xx from Meta with backoff and then goes on', async () => {
    const waba = fakeWaba(1);
    const code = authCode();
    onEmbeddedSignup(code, waba);
    let calls = 0;
    fakeGraph().on('GET', `/v21.0/${waba.id}/phone_numbers`, () => {
      calls += 1;
      return calls === 1 ? { status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2, is_transient: true } } } : { body: { data: waba.numbers } };
    });
    const res = await signup(waba, code);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const tries = requestsTo('GET', `/v21.0/${waba.id}/phone_numbers`);
    expect(tries).to.have.length(2);
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).to.be.at.least(150);
  });

  it('answers 503 when Meta keeps failing (three attempts), and 502 for an unreadable answer, claiming nothing', async () => {
    const waba = fakeWaba(1);
    const code = authCode();
    onEmbeddedSignup(code, waba);
    fakeGraph().on('POST', `/v21.0/${waba.id}/subscribed_apps`, { status: 500, body: { error: { message: 'An unexpected error has occurred.', code: 1 } } });
    const down = await signup(waba, code);
    expect(down.status, JSON.stringify(down.body)).to.equal(503);
    expect(down.body.code).to.equal('provider_unavailable');
    expect(requestsTo('POST', `/v21.0/${waba.id}/subscribed_apps`)).to.have.length(3);
    expect(await findAccountRoute('whatsapp', waba.numbers[0]?.id as string)).to.equal(null);
    const code2 = authCode();
    onEmbeddedSignup(code2, waba);
    fakeGraph().on('GET', `/v21.0/${waba.id}/phone_numbers`, { raw: Buffer.from('<html>oops</html>') });
    const nonsense = await signup(waba, code2);
    expect(nonsense.status, JSON.stringify(nonsense.body)).to.equal(502);
    expect(nonsense.body.code).to.equal('provider_error');
  });

  it('answers 409 for a number another organization has connected, after Meta was asked', async () => {
    const waba = fakeWaba(1);
    const code = authCode();
    onEmbeddedSignup(code, waba);
    expect((await signup(waba, code)).status).to.equal(200);
    const other = await createSession();
    const code2 = authCode();
    onEmbeddedSignup(code2, waba);
    const taken = await call(other, 'POST', '/api/integrations/whatsapp/embedded-signup', { code: code2, waba_id: waba.id, pin: '123456' });
    expect(taken.status, JSON.stringify(taken.body)).to.equal(409);
    expect((await resolveAccount('whatsapp', waba.numbers[0]?.id as string))?.tenantId).to.equal(s.tenantId);
    expect(await accountsOf(other, 'whatsapp')).to.deep.equal([]);
  });

  it('answers 403 to a caller with integrations.view only', async () => {
    const viewer = await userWithPermissions(s, ['integrations.view']);
    const res = await call(viewer, 'POST', '/api/integrations/whatsapp/embedded-signup', { code: authCode(), waba_id: '123', pin: '123456' });
    expect(res.status).to.equal(403);
  });
});

describe('POST /api/integrations/instagram/oauth', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  strictGraph();
  itChecksAccess('POST', () => '/api/integrations/instagram/oauth', 'integrations.manage', () => s, { body: { code: 'abcdefghij' } });

  it('connects the Instagram accounts linked to the user’s Pages, each with its Page token, and subscribes each linked Page', async () => {
    const pages = [fakePage(true), fakePage(false), fakePage(true)];
    const code = authCode();
    onFacebookLogin(code, pages, REDIRECT);
    const res = await call(s, 'POST', '/api/integrations/instagram/oauth', { code });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const linked = pages.filter((p) => p.instagram);
    expect(res.body.accounts.map((a: any) => a.external_id)).to.deep.equal(linked.map((p) => p.instagram?.id));
    expect(res.body.accounts[0]).to.include({ channel: 'instagram', display: `@${linked[0]?.instagram?.username}`, has_access_token: true, is_default: true });
    expect(res.body.accounts[0].settings).to.deep.equal({ page_id: linked[0]?.id });
    // code -> token (with the redirect_uri) -> long-lived token -> Pages.
    const exchanges = requestsTo('GET', '/v21.0/oauth/access_token');
    expect(exchanges.map((r) => r.query.get('grant_type'))).to.deep.equal([null, 'fb_exchange_token']);
    expect(exchanges[0]?.query.get('redirect_uri')).to.equal(REDIRECT);
    expect(requestsTo('GET', '/v21.0/me/accounts')[0]?.query.get('fields')).to.include('instagram_business_account');
    const stored = await integrationAccounts.findOwned(s.tenantId, res.body.accounts[1].id);
    expect(decryptSecret(stored.access_token as string, { context: accountSecretContext(stored._id, 'access_token') })).to.equal(linked[1]?.token);
    // Meta delivers Instagram messages only to an app subscribed to the linked Page, with the Page token.
    const fields = ['messages', 'messaging_postbacks', 'messaging_seen', 'message_reactions'];
    expect(res.body.subscriptions).to.deep.equal(
      linked.map((p, i) => ({ account_id: res.body.accounts[i].id, instagram_account_id: p.instagram?.id, page_id: p.id, subscribed: true, subscribed_fields: fields, error: null })),
    );
    for (const p of linked) {
      const reqs = requestsTo('POST', `/v21.0/${p.id}/subscribed_apps`);
      expect(reqs, p.id).to.have.length(1);
      expect(reqs[0]?.headers.authorization).to.equal(`Bearer ${p.token}`);
      expect(reqs[0]?.query.get('subscribed_fields')).to.equal(fields.join(','));
    }
    expect(requestsTo('POST', `/v21.0/${pages[1]?.id}/subscribed_apps`)).to.have.length(0);
  });

  it('reports a Page Meta refuses to subscribe, keeping the accounts connected', async () => {
    const pages = [fakePage(true), fakePage(true)];
    const code = authCode();
    onFacebookLogin(code, pages, REDIRECT);
    fakeGraph().on('POST', `/v21.0/${pages[0]?.id}/subscribed_apps`, {
      status: 403,
      body: { error: { message: '(#200) The user must be an administrator of the Page', type: 'OAuthException', code: 200, fbtrace_id: 'AigSub' } },
    });
    const res = await call(s, 'POST', '/api/integrations/instagram/oauth', { code });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.accounts).to.have.length(2);
    const [refused, ok] = res.body.subscriptions;
    expect(refused).to.include({ page_id: pages[0]?.id, subscribed: false });
    expect(refused.error.code).to.equal('provider_refused');
    expect(refused.error.message).to.include('Meta refused to subscribe the app to Page').and.include('administrator of the Page').and.include('code 200').and.include('AigSub');
    expect(ok).to.include({ page_id: pages[1]?.id, subscribed: true, error: null });
    expect((await integrationAccounts.findOwned(s.tenantId, refused.account_id)).status).to.equal('active');
  });

  it('answers 422 when the login reaches no Instagram account, and 400 without a code', async () => {
    const code = authCode();
    onFacebookLogin(code, [fakePage(false)], REDIRECT);
    const none = await call(s, 'POST', '/api/integrations/instagram/oauth', { code });
    expect(none.status, JSON.stringify(none.body)).to.equal(422);
    expect(none.body.details[0].field).to.equal('code');
    const bad = await call(s, 'POST', '/api/integrations/instagram/oauth', { redirect_uri: 'ftp://x' });
    expect(bad.status).to.equal(400);
    expect(bad.body.details.map((d: any) => d.field)).to.have.members(['code', 'redirect_uri']);
  });
});

describe('POST /api/integrations/messenger/oauth', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  strictGraph();
  itChecksAccess('POST', () => '/api/integrations/messenger/oauth', 'integrations.manage', () => s, { body: { code: 'abcdefghij' } });

  it('connects the chosen Pages with their Page tokens; the first becomes the default', async () => {
    const pages = [fakePage(), fakePage(), fakePage()];
    const code = authCode();
    const redirect = 'https://console.example.test/fb/callback';
    onFacebookLogin(code, pages, redirect);
    const res = await call(s, 'POST', '/api/integrations/messenger/oauth', { code, redirect_uri: redirect, page_ids: [pages[2]?.id, pages[0]?.id] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.accounts.map((a: any) => a.external_id)).to.deep.equal([pages[0]?.id, pages[2]?.id]);
    expect(res.body.accounts.map((a: any) => a.is_default)).to.deep.equal([true, false]);
    expect(res.body.accounts[0]).to.include({ name: pages[0]?.name, display: pages[0]?.name });
    expect(await findAccountRoute('messenger', pages[1]?.id as string)).to.equal(null);
  });

  it('follows the Pages list to its next page', async () => {
    const pages = [fakePage(), fakePage(), fakePage()];
    const code = authCode();
    onFacebookLogin(code, pages, REDIRECT);
    const item = (p: (typeof pages)[number]) => ({ id: p.id, name: p.name, access_token: p.token });
    fakeGraph().on('GET', '/v21.0/me/accounts', (req) =>
      req.query.get('after') === 'CURSOR2'
        ? { body: { data: pages.slice(2).map(item), paging: { cursors: { before: 'CURSOR2', after: 'END' } } } }
        : { body: { data: pages.slice(0, 2).map(item), paging: { cursors: { before: 'x', after: 'CURSOR2' }, next: `${fakeGraph().url}/v21.0/me/accounts?after=CURSOR2` } } },
    );
    const res = await call(s, 'POST', '/api/integrations/messenger/oauth', { code });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.accounts.map((a: any) => a.external_id)).to.deep.equal(pages.map((p) => p.id));
    expect(requestsTo('GET', '/v21.0/me/accounts').map((r) => r.query.get('limit'))).to.deep.equal(['100', '100']);
  });

  it('answers 422 naming page_ids for a Page the login does not reach', async () => {
    const code = authCode();
    onFacebookLogin(code, [fakePage()], REDIRECT);
    const res = await call(s, 'POST', '/api/integrations/messenger/oauth', { code, page_ids: ['1000000000000001'] });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.details[0].field).to.equal('page_ids');
  });

  it('answers 422 for a code Meta refuses, and 409 for a Page of another organization', async () => {
    const page = fakePage();
    const code = authCode();
    onFacebookLogin(code, [page], REDIRECT);
    fakeGraph().on('GET', '/v21.0/oauth/access_token', (req) => (req.query.get('code') === 'AQwrong-code-000' ? { status: 400, body: { error: { message: 'Invalid verification code format.', type: 'OAuthException', code: 100, fbtrace_id: 'Aw' } } } : { body: { access_token: 'EAAGx', token_type: 'bearer' } }));
    const wrong = await call(s, 'POST', '/api/integrations/messenger/oauth', { code: 'AQwrong-code-000' });
    expect(wrong.status, JSON.stringify(wrong.body)).to.equal(422);
    expect(wrong.body.message).to.include('Invalid verification code format');
    fakeGraph().reset();
    onFacebookLogin(code, [page], REDIRECT);
    expect((await call(s, 'POST', '/api/integrations/messenger/oauth', { code })).status).to.equal(200);
    const other = await createSession();
    const code2 = authCode();
    onFacebookLogin(code2, [page], REDIRECT);
    const taken = await call(other, 'POST', '/api/integrations/messenger/oauth', { code: code2 });
    expect(taken.status, JSON.stringify(taken.body)).to.equal(409);
  });
});

describe('OpenAPI: the Meta onboarding and Page rows', () => {
  it('documents each row with its Graph error answers, and no config answer names the app secret', async () => {
    const doc = (await api('GET', '/api/openapi.json')).body;
    const rows: [string, string, string[]][] = [
      ['/api/integrations/whatsapp/health', 'get', ['404', '422', '502', '503']],
      ['/api/integrations/whatsapp/embedded-signup/config', 'get', ['401', '403']],
      ['/api/integrations/whatsapp/embedded-signup', 'post', ['400', '409', '422', '502', '503']],
      ['/api/integrations/instagram/oauth/config', 'get', ['401', '403']],
      ['/api/integrations/instagram/oauth', 'post', ['400', '409', '422', '502', '503']],
      ['/api/integrations/messenger/oauth/config', 'get', ['401', '403']],
      ['/api/integrations/messenger/oauth', 'post', ['400', '409', '422', '502', '503']],
      ['/api/integrations/messenger/pages/subscribe', 'post', ['400', '404', '422', '502', '503']],
      ['/api/integrations/messenger/pages/{pageId}/disconnect', 'post', ['400', '404', '502', '503']],
      ['/api/integrations/messenger/persistent-menu', 'get', ['404', '422', '502', '503']],
      ['/api/integrations/messenger/persistent-menu', 'post', ['400', '404', '422', '502', '503']],
    ];
    for (const [path, method, statuses] of rows) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).to.be.an('object');
      expect(Object.keys(op.responses), `${method} ${path}`).to.include.members(['200', ...statuses]);
    }
    for (const path of ['/api/integrations/whatsapp/embedded-signup/config', '/api/integrations/instagram/oauth/config']) {
      expect(JSON.stringify(doc.paths[path].get.responses['200'])).not.to.include('app_secret');
    }
  });
});
