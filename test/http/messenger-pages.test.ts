/**
 * A connected Page's webhook subscription, disconnect and persistent menu, and a WhatsApp
 * number's health, against the run's fake Graph API with each account's own token. Another
 * organization's Page or account is a 404 before anything is asked of Meta.
 */
import { expect } from 'chai';
import { findAccountRoute, integrationAccounts } from '../../src/models/integration-account.js';
import { fakeGraph } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { call, expectNoSecretsAnswered, graphToken, issuedSecrets, metaId, requestsTo, strictGraph } from '../support/meta-login.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';



/** Connects a Meta account with a token the fake Graph API says controls it; answers the account and token. */
async function connect(s: TestSession, channel: 'messenger' | 'whatsapp', extra: Record<string, unknown> = {}): Promise<{ account: any; token: string }> {
  const id = metaId();
  const token = graphToken();
  issuedSecrets.push(token);
  fakeGraph().grant(id, token);
  const res = await call(s, 'POST', '/api/integration-accounts', { channel, external_id: id, name: `Line ${id.slice(-4)}`, access_token: token, ...extra });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { account: res.body, token };
}

/** Two new organizations with `channel` set up: the caller's and another. */
async function twoOrganizations(channel: string): Promise<[TestSession, TestSession]> {
  const orgs = await Promise.all([createSession(), createSession()]);
  for (const org of orgs) expect((await call(org, 'PUT', `/api/integrations/${channel}`, {})).status).to.equal(201);
  return orgs as [TestSession, TestSession];
}

after(() => expectNoSecretsAnswered());

describe('POST /api/integrations/messenger/pages/subscribe', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await twoOrganizations('messenger');
  });
  strictGraph();
  itChecksAccess('POST', () => '/api/integrations/messenger/pages/subscribe', 'integrations.manage', () => s, { body: { page_ids: ['1'] } });

  it('subscribes each Page with its own token to the fields asked for (all OmniStream reads by default)', async () => {
    const [a, b] = [await connect(s, 'messenger'), await connect(s, 'messenger')];
    fakeGraph().on('POST', '/v21.0/*/subscribed_apps', { body: { success: true } });
    const res = await call(s, 'POST', '/api/integrations/messenger/pages/subscribe', { page_ids: [a.account.external_id, b.account.external_id] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data.map((d: any) => [d.page_id, d.account_id, d.subscribed])).to.deep.equal([
      [a.account.external_id, a.account.id, true],
      [b.account.external_id, b.account.id, true],
    ]);
    const [req] = requestsTo('POST', `/v21.0/${b.account.external_id}/subscribed_apps`);
    expect(req?.headers.authorization).to.equal(`Bearer ${b.token}`);
    expect(req?.query.get('subscribed_fields')).to.equal('messages,messaging_postbacks,message_deliveries,message_reads,message_echoes,message_reactions');
    const only = await call(s, 'POST', '/api/integrations/messenger/pages/subscribe', { page_ids: [a.account.external_id], subscribed_fields: ['messages'] });
    expect(only.body.data[0].subscribed_fields).to.deep.equal(['messages']);
  });

  it('answers 404 for another organization’s Page before asking Meta, and 400 for bad input', async () => {
    const theirs = await connect(other, 'messenger');
    const mine = await connect(s, 'messenger');
    fakeGraph().reset();
    const res = await call(s, 'POST', '/api/integrations/messenger/pages/subscribe', { page_ids: [mine.account.external_id, theirs.account.external_id] });
    expect(res.status).to.equal(404);
    expect(fakeGraph().requests).to.have.length(0);
    for (const body of [{ page_ids: [] }, { page_ids: [123] }, { page_ids: ['1'], subscribed_fields: ['feed'] }]) {
      expect((await call(s, 'POST', '/api/integrations/messenger/pages/subscribe', body)).status, JSON.stringify(body)).to.equal(400);
    }
  });

  it('maps Meta’s permission error to a 422 with its message', async () => {
    const page = await connect(s, 'messenger');
    fakeGraph().on('POST', `/v21.0/${page.account.external_id}/subscribed_apps`, {
      status: 403,
      body: { error: { message: '(#200) The user must be an administrator of the Page', type: 'OAuthException', code: 200, fbtrace_id: 'Aperm' } },
    });
    const res = await call(s, 'POST', '/api/integrations/messenger/pages/subscribe', { page_ids: [page.account.external_id] });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.message).to.include('administrator of the Page').and.include('code 200');
  });
});

describe('POST /api/integrations/messenger/pages/{pageId}/disconnect', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await twoOrganizations('messenger');
  });
  strictGraph();
  itChecksAccess('POST', () => '/api/integrations/messenger/pages/1234/disconnect', 'integrations.manage', () => s, { body: {} });

  it('unsubscribes the app, deletes the account and hands the default to the next Page', async () => {
    const first = await connect(s, 'messenger');
    const second = await connect(s, 'messenger');
    fakeGraph().on('DELETE', '/v21.0/*/subscribed_apps', { body: { success: true } });
    const res = await call(s, 'POST', `/api/integrations/messenger/pages/${first.account.external_id}/disconnect`, {});
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ page_id: first.account.external_id, account_id: first.account.id, account_deleted: true, unsubscribed: true, default_account_id: second.account.id });
    expect(requestsTo('DELETE', `/v21.0/${first.account.external_id}/subscribed_apps`)[0]?.headers.authorization).to.equal(`Bearer ${first.token}`);
    expect(await findAccountRoute('messenger', first.account.external_id)).to.equal(null);
    expect((await call(s, 'GET', `/api/integration-accounts/${first.account.id}`)).status).to.equal(404);
  });

  it('keeps the account disabled with keep_account, and disconnects even when Meta refuses the unsubscribe', async () => {
    const page = await connect(s, 'messenger');
    fakeGraph().on('DELETE', `/v21.0/${page.account.external_id}/subscribed_apps`, {
      status: 400,
      body: { error: { message: 'Error validating access token: The user has not authorized application', type: 'OAuthException', code: 190, fbtrace_id: 'Arev' } },
    });
    const res = await call(s, 'POST', `/api/integrations/messenger/pages/${page.account.external_id}/disconnect`, { keep_account: true });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ account_deleted: false, unsubscribed: false });
    expect(res.body.unsubscribe_error).to.include('not authorized');
    expect((await integrationAccounts.findOwned(s.tenantId, page.account.id)).status).to.equal('disabled');
  });

  it('changes nothing when Meta is down (503 after retries), and answers 404 for another organization’s Page', async () => {
    const page = await connect(s, 'messenger');
    fakeGraph().on('DELETE', `/v21.0/${page.account.external_id}/subscribed_apps`, { status: 500, body: { error: { message: 'Please retry your request later.', code: 2 } } });
    const down = await call(s, 'POST', `/api/integrations/messenger/pages/${page.account.external_id}/disconnect`, {});
    expect(down.status, JSON.stringify(down.body)).to.equal(503);
    expect(requestsTo('DELETE', `/v21.0/${page.account.external_id}/subscribed_apps`)).to.have.length(3);
    expect((await integrationAccounts.findOwned(s.tenantId, page.account.id)).status).to.equal('active');
    const theirs = await connect(other, 'messenger');
    fakeGraph().reset();
    const res = await call(s, 'POST', `/api/integrations/messenger/pages/${theirs.account.external_id}/disconnect`, {});
    expect(res.status).to.equal(404);
    expect(fakeGraph().requests).to.have.length(0);
    expect((await call(s, 'POST', '/api/integrations/messenger/pages/abc/disconnect', {})).status).to.equal(400);
  });
});

describe('GET and POST /api/integrations/messenger/persistent-menu', () => {
  let s: TestSession;
  let other: TestSession;
  let page: { account: any; token: string };
  const menu = [
    {
      locale: 'default',
      composer_input_disabled: false,
      call_to_actions: [
        { type: 'postback', title: 'Talk to an agent', payload: 'AGENT' },
        { type: 'web_url', title: 'Shop', url: 'https://toko.example/shop', webview_height_ratio: 'full' },
      ],
    },
  ];
  before(async () => {
    [s, other] = await twoOrganizations('messenger');
    page = await connect(s, 'messenger');
  });
  strictGraph();
  itChecksAccess('GET', () => '/api/integrations/messenger/persistent-menu', 'integrations.view', () => s);
  itChecksAccess('POST', () => '/api/integrations/messenger/persistent-menu', 'integrations.manage', () => s, { body: { persistent_menu: null } });

  it('sets the menu with a Get Started button on a Page without one, reads both back, and deletes the menu with null', async () => {
    fakeGraph().on('GET', '/v21.0/me/messenger_profile', { body: { data: [] } });
    fakeGraph().on('POST', '/v21.0/me/messenger_profile', { body: { result: 'success' } });
    const set = await call(s, 'POST', '/api/integrations/messenger/persistent-menu', { persistent_menu: menu });
    expect(set.status, JSON.stringify(set.body)).to.equal(200);
    expect(set.body).to.deep.equal({ page_id: page.account.external_id, account_id: page.account.id, persistent_menu: menu, get_started: { payload: 'GET_STARTED' } });
    const [read] = requestsTo('GET', '/v21.0/me/messenger_profile');
    expect(read?.query.get('fields')).to.equal('get_started,persistent_menu');
    expect(read?.headers.authorization).to.equal(`Bearer ${page.token}`);
    const [post] = requestsTo('POST', '/v21.0/me/messenger_profile');
    expect(post?.json).to.deep.equal({ get_started: { payload: 'GET_STARTED' }, persistent_menu: menu });
    expect(post?.headers.authorization).to.equal(`Bearer ${page.token}`);

    fakeGraph().on('GET', '/v21.0/me/messenger_profile', { body: { data: [{ get_started: { payload: 'GET_STARTED' }, persistent_menu: menu }] } });
    const viewer = await userWithPermissions(s, ['integrations.view']);
    const got = await call(viewer, 'GET', `/api/integrations/messenger/persistent-menu?page_id=${page.account.external_id}`);
    expect(got.status, JSON.stringify(got.body)).to.equal(200);
    expect(got.body.persistent_menu).to.deep.equal(menu);
    expect(got.body.get_started).to.deep.equal({ payload: 'GET_STARTED' });
    expect(requestsTo('GET', '/v21.0/me/messenger_profile').at(-1)?.query.get('fields')).to.equal('get_started,persistent_menu');

    fakeGraph().on('DELETE', '/v21.0/me/messenger_profile', { body: { result: 'success' } });
    const removed = await call(s, 'POST', '/api/integrations/messenger/persistent-menu', { persistent_menu: null });
    expect(removed.status).to.equal(200);
    expect(removed.body.persistent_menu).to.equal(null);
    expect(removed.body.get_started).to.deep.equal({ payload: 'GET_STARTED' });
    expect(requestsTo('DELETE', '/v21.0/me/messenger_profile')[0]?.json).to.deep.equal({ fields: ['persistent_menu'] });
    fakeGraph().on('GET', '/v21.0/me/messenger_profile', { body: { data: [] } });
    expect((await call(s, 'GET', '/api/integrations/messenger/persistent-menu')).body).to.include({ persistent_menu: null, get_started: null });
  });

  it('keeps a Get Started button the Page has, and sets the payload asked for on a Page without one', async () => {
    fakeGraph().on('GET', '/v21.0/me/messenger_profile', { body: { data: [{ get_started: { payload: 'HELLO' } }] } });
    fakeGraph().on('POST', '/v21.0/me/messenger_profile', { body: { result: 'success' } });
    const kept = await call(s, 'POST', '/api/integrations/messenger/persistent-menu', { persistent_menu: menu, get_started_payload: 'START' });
    expect(kept.status, JSON.stringify(kept.body)).to.equal(200);
    expect(kept.body.get_started).to.deep.equal({ payload: 'HELLO' });
    expect(requestsTo('POST', '/v21.0/me/messenger_profile')[0]?.json).to.deep.equal({ persistent_menu: menu });

    fakeGraph().reset();
    fakeGraph().on('GET', '/v21.0/me/messenger_profile', { body: { data: [{ persistent_menu: menu }] } });
    fakeGraph().on('POST', '/v21.0/me/messenger_profile', { body: { result: 'success' } });
    const added = await call(s, 'POST', '/api/integrations/messenger/persistent-menu', { persistent_menu: menu, get_started_payload: 'START' });
    expect(added.body.get_started).to.deep.equal({ payload: 'START' });
    expect(requestsTo('POST', '/v21.0/me/messenger_profile')[0]?.json).to.deep.equal({ get_started: { payload: 'START' }, persistent_menu: menu });
    expect((await call(s, 'POST', '/api/integrations/messenger/persistent-menu', { persistent_menu: menu, get_started_payload: '' })).status).to.equal(400);
  });

  it('maps Meta’s refusal of the menu to a 422 naming persistent_menu', async () => {
    fakeGraph().on('GET', '/v21.0/me/messenger_profile', { body: { data: [] } });
    fakeGraph().on('POST', '/v21.0/me/messenger_profile', {
      status: 400,
      body: { error: { message: '(#100) Invalid keys "get_started" were found in param "name_placeholder"', type: 'OAuthException', code: 100, fbtrace_id: 'Amenu' } },
    });
    const res = await call(s, 'POST', '/api/integrations/messenger/persistent-menu', { persistent_menu: menu });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body).to.include({ code: 'provider_refused' });
    expect(res.body.details[0].field).to.equal('persistent_menu');
  });

  it('answers 400 for a menu Meta would refuse, before asking it', async () => {
    const item = { type: 'postback', title: 'Hi', payload: 'HI' };
    for (const persistent_menu of [
      [{ locale: 'en_US', call_to_actions: [item] }],
      [{ locale: 'default', call_to_actions: [] }],
      [{ locale: 'default', call_to_actions: [{ ...item, title: 'x'.repeat(31) }] }],
      [{ locale: 'default', call_to_actions: [{ type: 'web_url', title: 'Shop', url: 'javascript:alert(1)' }] }],
      [{ locale: 'default', call_to_actions: Array.from({ length: 21 }, () => item) }],
    ]) {
      const res = await call(s, 'POST', '/api/integrations/messenger/persistent-menu', { persistent_menu });
      expect(res.status, JSON.stringify(persistent_menu)).to.equal(400);
    }
    expect(fakeGraph().requests).to.have.length(0);
  });

  it('answers 404 for another organization’s Page, and for an organization without a default Page', async () => {
    const theirs = await connect(other, 'messenger');
    fakeGraph().reset();
    expect((await call(s, 'GET', `/api/integrations/messenger/persistent-menu?page_id=${theirs.account.external_id}`)).status).to.equal(404);
    expect((await call(s, 'POST', '/api/integrations/messenger/persistent-menu', { page_id: theirs.account.external_id, persistent_menu: null })).status).to.equal(404);
    const empty = await createSession();
    expect((await call(empty, 'GET', '/api/integrations/messenger/persistent-menu')).status).to.equal(404);
    expect(fakeGraph().requests).to.have.length(0);
  });
});

describe('GET /api/integrations/whatsapp/health', () => {
  let s: TestSession;
  let other: TestSession;
  let line: { account: any; token: string };
  const health = {
    quality_rating: 'GREEN',
    messaging_limit_tier: 'TIER_1K',
    throughput: { level: 'STANDARD' },
    health_status: {
      can_send_message: 'LIMITED',
      entities: [
        { entity_type: 'PHONE_NUMBER', id: 'x', can_send_message: 'AVAILABLE' },
        { entity_type: 'WABA', id: '1029384756', can_send_message: 'LIMITED', errors: [{ error_code: 141006, error_description: 'Payment method issue', possible_solution: 'Add a payment method' }] },
      ],
    },
  };
  before(async () => {
    [s, other] = await twoOrganizations('whatsapp');
    line = await connect(s, 'whatsapp', { settings: { waba_id: '1029384756' } });
  });
  strictGraph();
  itChecksAccess('GET', () => '/api/integrations/whatsapp/health', 'integrations.view', () => s);

  it('reads quality, limit tier, throughput and health status with the account’s token, saying when', async () => {
    fakeGraph().on('GET', `/v21.0/${line.account.external_id}`, { body: { id: line.account.external_id, display_phone_number: '+62 812 1', verified_name: 'Toko', ...health } });
    const started = Date.now();
    const viewer = await userWithPermissions(s, ['integrations.view']);
    const res = await call(viewer, 'GET', '/api/integrations/whatsapp/health');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({
      account_id: line.account.id,
      phone_number_id: line.account.external_id,
      waba_id: '1029384756',
      quality_rating: 'GREEN',
      messaging_limit_tier: 'TIER_1K',
      throughput_level: 'STANDARD',
      verified_name: 'Toko',
    });
    expect(res.body.health_status.can_send_message).to.equal('LIMITED');
    expect(res.body.health_status.entities[1]).to.deep.equal({
      entity_type: 'WABA',
      id: '1029384756',
      can_send_message: 'LIMITED',
      errors: [{ error_code: 141006, error_description: 'Payment method issue', possible_solution: 'Add a payment method' }],
    });
    expect(Date.parse(res.body.checked_at)).to.be.at.least(started - 1000);
    const [req] = requestsTo('GET', `/v21.0/${line.account.external_id}`);
    expect(req?.headers.authorization).to.equal(`Bearer ${line.token}`);
    expect(req?.query.get('fields')).to.include('quality_rating').and.include('messaging_limit_tier').and.include('health_status');
    const byId = await call(s, 'GET', `/api/integrations/whatsapp/health?account_id=${line.account.id}`);
    expect(byId.body.phone_number_id).to.equal(line.account.external_id);
  });

  it('answers 404 for another organization’s account and without a default; 400 for a bad id', async () => {
    const theirs = await connect(other, 'whatsapp');
    fakeGraph().reset();
    expect((await call(s, 'GET', `/api/integrations/whatsapp/health?account_id=${theirs.account.id}`)).status).to.equal(404);
    expect((await call(await createSession(), 'GET', '/api/integrations/whatsapp/health')).status).to.equal(404);
    expect((await call(s, 'GET', '/api/integrations/whatsapp/health?account_id=nope')).status).to.equal(400);
    expect(fakeGraph().requests).to.have.length(0);
  });

  it('maps an expired token to 422, a rate limit to 503, and retries a 429 before answering', async () => {
    const path = `/v21.0/${line.account.external_id}`;
    fakeGraph().on('GET', path, { status: 400, body: { error: { message: 'Error validating access token: Session has expired', type: 'OAuthException', code: 190, error_subcode: 463, fbtrace_id: 'Aexp' } } });
    const expired = await call(s, 'GET', '/api/integrations/whatsapp/health');
    expect(expired.status).to.equal(422);
    expect(expired.body).to.include({ code: 'provider_refused' });
    expect(expired.body.message).to.include('Session has expired').and.include('subcode 463');
    fakeGraph().on('GET', path, { status: 400, body: { error: { message: '(#80007) Rate limit hit', code: 80007 } } });
    expect((await call(s, 'GET', '/api/integrations/whatsapp/health')).status).to.equal(503);
    fakeGraph().reset();
    let n = 0;
    fakeGraph().on('GET', path, () => (++n === 1 ? { status: 429, headers: { 'retry-after': '0' }, body: {} } : { body: { id: line.account.external_id, ...health } }));
    const ok = await call(s, 'GET', '/api/integrations/whatsapp/health');
    expect(ok.status).to.equal(200);
    expect(n).to.equal(2);
  });
});
