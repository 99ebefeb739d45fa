/**
 * WA Templates over real HTTP against Meta's template edge played on the fake Graph API
 * (test/support/meta-templates.ts): create with Meta's validation rules and submission, Meta's
 * refusals mapped (duplicate name 409, invalid 422, retried 5xx, 503 after the retries), sync
 * over several pages, the message_template_status_update webhook, header media, local delete,
 * tenant isolation, and template sends checked against the stored template.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Model } from 'mongoose';
import { IntegrationModel } from '../../src/models/integration.js';
import { IntegrationAccountModel } from '../../src/models/integration-account.js';
import { recordTemplateStatus, WaTemplateModel, waTemplates } from '../../src/models/wa-template.js';
import { findWebhookEventState } from '../../src/models/webhook-event.js';
import { EVENTS } from '../../src/events/types.js';
import { runCampaign } from '../../src/services/campaign-run.js';
import { readEventsAfter } from '../../src/models/event.js';
import { baseUrl, fakeGraph } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { indexesUsed } from '../support/query-plans.js';
import { playMetaTemplates, type MetaTemplates } from '../support/meta-templates.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { openSocket, type TestSocket } from '../support/sockets.js';
import { acceptSends, connectWhatsapp, digits, postSigned, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

/** A tenant's WhatsApp number in a WABA whose templates Meta (the fake) keeps. */
interface Waba {
  wa: WhatsappAccount;
  meta: MetaTemplates;
}

/** Connects a number, puts it in a new WABA (settings.waba_id) and plays that WABA's template edge. */
async function connectWaba(s: TestSession, pageSize = 2): Promise<Waba> {
  const wa = await connectWhatsapp(s);
  const wabaId = digits(15);
  const res = await s.call('PATCH', `/api/integration-accounts/${wa.accountId}`, { body: { settings: { waba_id: wabaId } } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return { wa, meta: playMetaTemplates(wabaId, pageSize) };
}

/** A valid template body, as Meta's own example (order update with a header, body variables, footer, buttons). */
const orderUpdate = (name = `order_update_${digits(6)}`) => ({
  name,
  language: 'en_US',
  category: 'UTILITY',
  components: [
    { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['#1234'] } },
    { type: 'BODY', text: 'Hi {{1}}, your order {{2}} ships today.', example: { body_text: [['Budi', '#1234']] } },
    { type: 'FOOTER', text: 'Toko Sejahtera' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'URL', text: 'Track', url: 'https://toko.example/track/{{1}}', example: ['https://toko.example/track/1234'] },
        { type: 'QUICK_REPLY', text: 'Thanks' },
      ],
    },
  ],
});

async function createTemplate(s: TestSession, body: Record<string, unknown> = orderUpdate()): Promise<any> {
  const res = await s.call('POST', '/api/wa-templates', { body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
}

describe('POST /api/wa-templates', () => {
  let s: TestSession;
  let waba: Waba;
  before(async () => {
    s = await createSession();
    waba = await connectWaba(s);
  });
  itChecksAccess('POST', () => '/api/wa-templates', 'templates.manage', () => s, { body: orderUpdate() });

  it('validates, submits to the WABA with the account token and stores Meta’s id and status', async () => {
    const body = orderUpdate();
    const created = await createTemplate(s, body);
    const [submission] = waba.meta.submissions.slice(-1);
    expect(submission?.json).to.deep.include({ name: body.name, language: 'en_US', category: 'UTILITY' });
    expect((submission?.json as { components: unknown[] }).components).to.deep.equal(body.components);
    expect(submission?.headers.authorization).to.match(/^Bearer EAAG/);
    const meta = waba.meta.templates.find((t) => t.name === body.name);
    expect(created).to.include({ name: body.name, language: 'en_US', category: 'UTILITY', status: 'PENDING', meta_template_id: meta?.id, waba_id: waba.meta.wabaId, account_id: waba.wa.accountId, source: 'created', body_variables: 2 });
    expect(created.id).to.match(/^[0-9a-f-]{36}$/);
    const read = await s.call('GET', `/api/wa-templates/${created.id}`);
    expect(read.status).to.equal(200);
    expect(read.body.components).to.deep.equal(body.components);
  });

  const refusals: [string, (b: any) => void, RegExp][] = [
    ['an upper-case name', (b) => (b.name = 'Order_Update'), /body\.name: must be lower-case letters, digits and underscores/],
    ['a name over 512 characters', (b) => (b.name = 'a'.repeat(513)), /body\.name: must be at most 512 characters/],
    ['a body whose variables skip a number', (b) => (b.components[1] = { type: 'BODY', text: 'Hi {{1}}, order {{3}} ok', example: { body_text: [['a', 'b']] } }), /components\.1\.text: .*\{\{2\}\} is missing/],
    ['a named variable', (b) => (b.components[1] = { type: 'BODY', text: 'Hi {{name}} ok', example: { body_text: [['a']] } }), /components\.1\.text: uses \{\{name\}\}/],
    ['fewer example values than variables', (b) => (b.components[1].example = { body_text: [['Budi']] }), /components\.1\.example\.body_text\.0: must give 2 example values/],
    ['examples missing', (b) => delete b.components[0].example, /components\.0\.example\.header_text: must give 1 example value/],
    ['a body that starts with a variable', (b) => (b.components[1] = { type: 'BODY', text: '{{1}} is here', example: { body_text: [['x']] } }), /may not start or end with a variable/],
    ['two header variables', (b) => (b.components[0] = { type: 'HEADER', format: 'TEXT', text: '{{1}} {{2}}', example: { header_text: ['a'] } }), /at most 1 variable/],
    ['a footer variable', (b) => (b.components[2] = { type: 'FOOTER', text: 'Bye {{1}}' }), /components\.2\.text: may not have variables/],
    ['no body', (b) => b.components.splice(1, 1), /body\.components: must include a BODY component/],
    ['two bodies', (b) => (b.components[2] = { type: 'BODY', text: 'again' }), /components\.2\.type: repeats BODY/],
    ['eleven buttons', (b) => (b.components[3].buttons = Array.from({ length: 11 }, (_, i) => ({ type: 'QUICK_REPLY', text: `B${i}` }))), /at most 10 buttons/],
    ['three URL buttons', (b) => (b.components[3].buttons = [1, 2, 3].map((i) => ({ type: 'URL', text: `U${i}`, url: `https://toko.example/${i}` }))), /at most 2 URL buttons/],
    ['quick replies split by a URL button', (b) => b.components[3].buttons.unshift({ type: 'QUICK_REPLY', text: 'First' }), /QUICK_REPLY buttons together/],
    ['a URL variable in the middle', (b) => (b.components[3].buttons[0].url = 'https://toko.example/{{1}}/track'), /only at the end/],
    ['a media header without its sample', (b) => (b.components[0] = { type: 'HEADER', format: 'IMAGE' }), /example\.header_handle: must hold one sample media handle/],
    ['an unknown category', (b) => (b.category = 'PROMO'), /body\.category/],
    ['an unknown field', (b) => (b.colour = 'red'), /Unrecognized key/],
  ];
  for (const [what, mutate, message] of refusals) {
    it(`answers 400 for ${what}, before asking Meta`, async () => {
      const body = orderUpdate();
      mutate(body);
      const before = waba.meta.submissions.length;
      const res = await s.call('POST', '/api/wa-templates', { body });
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
      expect(res.body.message).to.match(message);
      expect(waba.meta.submissions.length).to.equal(before);
    });
  }

  it('answers 409 for a name and language it already stores, without asking Meta', async () => {
    const body = orderUpdate();
    await createTemplate(s, body);
    const before = waba.meta.submissions.length;
    const res = await s.call('POST', '/api/wa-templates', { body });
    expect(res.status).to.equal(409);
    expect(res.body.message).to.include(body.name);
    expect(waba.meta.submissions.length).to.equal(before);
    // Another language is another template.
    await createTemplate(s, { ...body, language: 'id' });
  });

  it('answers 409 with Meta’s message when Meta already has the name (code 100, subcode 2388023), and stores nothing', async () => {
    const body = orderUpdate();
    waba.meta.add({ name: body.name, language: 'en_US' });
    const res = await s.call('POST', '/api/wa-templates', { body });
    expect(res.status, JSON.stringify(res.body)).to.equal(409);
    expect(res.body.message).to.include("Message template language is being deleted: New en_US content can't be added").and.include('subcode 2388023');
    const list = await s.call('GET', `/api/wa-templates?name=${body.name}`);
    expect(list.body.data).to.have.length(0);
  });

  it('answers 422 with Meta’s message, code and fbtrace_id for content Meta refuses, and the name can be tried again', async () => {
    const body = orderUpdate();
    const refusal = { message: 'Invalid parameter', type: 'OAuthException', code: 100, error_subcode: 2388072, error_user_title: 'Invalid body', error_user_msg: 'The body contains content that is not allowed.', fbtrace_id: 'AbCdEf' };
    waba.meta.failNext(1, { status: 400, body: { error: refusal } });
    const res = await s.call('POST', '/api/wa-templates', { body });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.code).to.equal('provider_refused');
    expect(res.body.message).to.include('Invalid parameter: Invalid body: The body contains content that is not allowed.').and.include('subcode 2388072').and.include('fbtrace_id AbCdEf');
    await createTemplate(s, body);
  });

  it('retries a 5xx with backoff and succeeds', async () => {
    const body = orderUpdate();
    waba.meta.failNext(1, { status: 500, body: { error: { message: 'An unexpected error has occurred. Please retry your request later.', type: 'OAuthException', code: 2, is_transient: true } } });
    const before = waba.meta.submissions.length;
    const created = await createTemplate(s, body);
    expect(waba.meta.submissions.length - before).to.equal(2);
    expect(created.meta_template_id).to.be.a('string');
  });

  it('answers 503 when Meta keeps failing after the retries, and stores nothing', async () => {
    const body = orderUpdate();
    waba.meta.failNext(3, { status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2 } } });
    const before = waba.meta.submissions.length;
    const res = await s.call('POST', '/api/wa-templates', { body });
    expect(res.status, JSON.stringify(res.body)).to.equal(503);
    expect(res.body.code).to.equal('provider_unavailable');
    expect(waba.meta.submissions.length - before).to.equal(3);
    const list = await s.call('GET', `/api/wa-templates?name=${body.name}`);
    expect(list.body.data).to.have.length(0);
  });

  it('answers 422 when the WhatsApp account has no WABA id, and when the organization has no WhatsApp account', async () => {
    const bare = await createSession();
    let res = await bare.call('POST', '/api/wa-templates', { body: orderUpdate() });
    expect(res.status).to.equal(422);
    expect(res.body.message).to.include('no WhatsApp account');
    await connectWhatsapp(bare);
    res = await bare.call('POST', '/api/wa-templates', { body: orderUpdate() });
    expect(res.status).to.equal(422);
    expect(res.body.message).to.include('settings.waba_id');
  });

  it('answers 400 for an account_id that is not one of the organization’s WhatsApp accounts', async () => {
    const res = await s.call('POST', '/api/wa-templates', { body: { ...orderUpdate(), account_id: randomUUID() } });
    expect(res.status).to.equal(400);
    expect(res.body.message).to.include('account_id');
  });
});

describe('GET /api/wa-templates and GET /api/wa-templates/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let first: any;
  let second: any;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await connectWaba(s);
    first = await createTemplate(s);
    second = await createTemplate(s, { ...orderUpdate(), category: 'MARKETING' });
  });
  itChecksAccess('GET', () => '/api/wa-templates', 'templates.view', () => s);
  itChecksAccess('GET', () => `/api/wa-templates/${first.id}`, 'templates.view', () => s);

  it('lists newest first with pagination and filters', async () => {
    const res = await s.call('GET', '/api/wa-templates');
    expect(res.status).to.equal(200);
    expect(res.body.data.map((t: any) => t.id)).to.deep.equal([second.id, first.id]);
    expect(res.body.pagination).to.deep.equal({ page: 1, limit: 20, total: 2, total_pages: 1 });
    const marketing = await s.call('GET', '/api/wa-templates?category=MARKETING&status=PENDING');
    expect(marketing.body.data.map((t: any) => t.id)).to.deep.equal([second.id]);
  });

  it('answers the list, its status filter, a sync’s WABA read and the WABA webhook’s account lookups from indexes', async () => {
    const asModel = <T>(m: Model<T>) => m as unknown as Model<never>;
    const newest = { created_at: -1, _id: -1 } as const;
    expect(await indexesUsed(asModel(WaTemplateModel), { tenant_id: s.tenantId }, newest)).to.deep.equal(['tenant_id_1_created_at_-1__id_-1']);
    expect(await indexesUsed(asModel(WaTemplateModel), { tenant_id: s.tenantId, status: 'PENDING' }, newest)).to.deep.equal(['tenant_id_1_status_1_created_at_-1__id_-1']);
    expect(await indexesUsed(asModel(WaTemplateModel), { tenant_id: s.tenantId, waba_id: first.waba_id }, { created_at: 1, _id: 1 }, 0)).to.deep.equal(['tenant_id_1_waba_id_1_created_at_1__id_1']);
    expect(await indexesUsed(asModel(IntegrationAccountModel), { 'settings.waba_id': first.waba_id, channel: 'whatsapp' }, { created_at: 1 }, 1)).to.deep.equal(['settings.waba_id_1_channel_1_created_at_1']);
    expect(await indexesUsed(asModel(IntegrationModel), { channel: 'whatsapp', 'settings.waba_id': first.waba_id }, { created_at: 1 }, 1)).to.deep.equal(['channel_1_settings.waba_id_1_created_at_1']);
  });

  it('answers 400 for a bad filter or id', async () => {
    expect((await s.call('GET', '/api/wa-templates?status=GOOD')).status).to.equal(400);
    expect((await s.call('GET', '/api/wa-templates?limit=1000')).status).to.equal(400);
    expect((await s.call('GET', '/api/wa-templates/not-a-uuid')).status).to.equal(400);
  });

  it('never shows another organization’s templates (404)', async () => {
    const res = await other.call('GET', `/api/wa-templates/${first.id}`);
    expect(res.status).to.equal(404);
    expect(res.body.message).to.not.include(first.name);
    const list = await other.call('GET', '/api/wa-templates');
    expect(list.body.data).to.have.length(0);
  });
});

describe('POST /api/wa-templates/sync', () => {
  let s: TestSession;
  let waba: Waba;
  before(async () => {
    s = await createSession();
    waba = await connectWaba(s, 2);
  });
  itChecksAccess('POST', () => '/api/wa-templates/sync', 'templates.manage', () => s, { body: {} });

  it('reads every page, creates new templates, updates statuses with their reasons and keeps local-only ones', async () => {
    const mine = await createTemplate(s);
    const localOnly = await createTemplate(s);
    // Meta forgets the second (deleted in WhatsApp Manager) and decides on the first.
    waba.meta.templates.splice(waba.meta.templates.findIndex((t) => t.name === localOnly.name), 1);
    const meta = waba.meta.templates.find((t) => t.name === mine.name);
    Object.assign(meta ?? {}, { status: 'REJECTED', rejected_reason: 'INVALID_FORMAT' });
    const added = ['welcome', 'promo_july', 'otp_code', 'paused_one'].map((name) => waba.meta.add({ name: `${name}_${digits(4)}`, status: name === 'paused_one' ? 'PAUSED' : 'APPROVED', category: name === 'promo_july' ? 'MARKETING' : 'UTILITY' }));
    const res = await s.call('POST', '/api/wa-templates/sync', { body: {} });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ account_id: waba.wa.accountId, waba_id: waba.meta.wabaId, total: 5, created: 4, updated: 1, unchanged: 0, local_only: 1 });
    // 5 templates in pages of 2: three requests, each after the previous page's cursor.
    expect(waba.meta.listings.map((r) => r.query.get('after'))).to.deep.equal([null, waba.meta.listings[1]?.query.get('after'), waba.meta.listings[2]?.query.get('after')]);
    expect(waba.meta.listings).to.have.length(3);
    const rejected = await s.call('GET', `/api/wa-templates/${mine.id}`);
    expect(rejected.body).to.include({ status: 'REJECTED', status_reason: 'INVALID_FORMAT' });
    expect(rejected.body.synced_at).to.be.a('string');
    const kept = await s.call('GET', `/api/wa-templates/${localOnly.id}`);
    expect(kept.status).to.equal(200);
    expect(kept.body).to.include({ status: 'PENDING', synced_at: null });
    const paused = await s.call('GET', `/api/wa-templates?status=PAUSED`);
    expect(paused.body.data.map((t: any) => t.name)).to.deep.equal([added[3]?.name]);
    expect(paused.body.data[0]).to.include({ source: 'synced', meta_template_id: added[3]?.id });

    const again = await s.call('POST', '/api/wa-templates/sync', { body: {} });
    expect(again.body).to.include({ total: 5, created: 0, updated: 0, unchanged: 5, local_only: 1 });
    // The status the first sync changed is one template.status_changed; the second sync changed none.
    const changes = (await readEventsAfter(s.tenantId, 0, 1000)).filter((e) => e.event === EVENTS.templateStatusChanged).map((e) => ({ ...e, data: e.data as any }));
    expect(changes.map((e) => ({ ...e.data, template: e.data.template.id }))).to.deep.equal([{ template: mine.id, previous_status: 'PENDING', previous_status_reason: null, source: 'sync' }]);
    expect(changes[0]?.data.template).to.include({ name: mine.name, status: 'REJECTED', status_reason: 'INVALID_FORMAT', status_changed_at: rejected.body.status_changed_at });
    expect(changes[0]?.audience).to.deep.equal({ scope: 'tenant', permission: 'templates.manage' });
  });

  it('answers 422 with Meta’s message when Meta refuses the token', async () => {
    waba.meta.failNext(1, { status: 401, body: { error: { message: 'Error validating access token: Session has expired', type: 'OAuthException', code: 190, error_subcode: 463, fbtrace_id: 'Xy' } } });
    const res = await s.call('POST', '/api/wa-templates/sync', { body: {} });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.message).to.include('Session has expired').and.include('code 190');
  });

  it('answers 400 for an unknown field', async () => {
    const res = await s.call('POST', '/api/wa-templates/sync', { body: { force: true } });
    expect(res.status).to.equal(400);
  });
});

describe('DELETE /api/wa-templates/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let template: any;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await connectWaba(s);
    template = await createTemplate(s);
  });
  itChecksAccess('DELETE', () => `/api/wa-templates/${template.id}`, 'templates.manage', () => s);

  it('answers 404 for another organization’s template and leaves it', async () => {
    const res = await other.call('DELETE', `/api/wa-templates/${template.id}`);
    expect(res.status).to.equal(404);
    expect((await s.call('GET', `/api/wa-templates/${template.id}`)).status).to.equal(200);
  });

  it('answers 400 for a bad id', async () => {
    expect((await s.call('DELETE', '/api/wa-templates/123')).status).to.equal(400);
  });

  it('deletes it here only: nothing is asked of Meta', async () => {
    const before = fakeGraph().requests.length;
    const res = await s.call('DELETE', `/api/wa-templates/${template.id}`);
    expect(res.status).to.equal(200);
    expect(res.body.message).to.include(template.name);
    expect(fakeGraph().requests.length).to.equal(before);
    expect((await s.call('GET', `/api/wa-templates/${template.id}`)).status).to.equal(404);
  });
});

describe('PATCH /api/wa-templates/{id}/header-media', () => {
  let s: TestSession;
  let other: TestSession;
  let image: any;
  let text: any;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    await connectWaba(s);
    const body = orderUpdate();
    body.components[0] = { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2UvanBlZw==:ARa1'] } } as never;
    image = await createTemplate(s, body);
    text = await createTemplate(s);
  });
  const url = 'https://cdn.toko.example/banner.jpg';
  itChecksAccess('PATCH', () => `/api/wa-templates/${image.id}/header-media`, 'templates.manage', () => s, { body: { header_media_url: url } });

  it('sets and clears the header media URL of a media header', async () => {
    let res = await s.call('PATCH', `/api/wa-templates/${image.id}/header-media`, { body: { header_media_url: url } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.header_media_url).to.equal(url);
    res = await s.call('PATCH', `/api/wa-templates/${image.id}/header-media`, { body: { header_media_url: null } });
    expect(res.body.header_media_url).to.equal(null);
  });

  it('answers 422 for a template without a media header', async () => {
    const res = await s.call('PATCH', `/api/wa-templates/${text.id}/header-media`, { body: { header_media_url: url } });
    expect(res.status).to.equal(422);
    expect(res.body.message).to.include('no IMAGE, VIDEO or DOCUMENT header');
  });

  it('answers 400 for a URL that is not https, or a missing field', async () => {
    expect((await s.call('PATCH', `/api/wa-templates/${image.id}/header-media`, { body: { header_media_url: 'http://cdn.toko.example/a.jpg' } })).status).to.equal(400);
    expect((await s.call('PATCH', `/api/wa-templates/${image.id}/header-media`, { body: {} })).status).to.equal(400);
  });

  it('answers 404 for another organization’s template', async () => {
    const res = await other.call('PATCH', `/api/wa-templates/${image.id}/header-media`, { body: { header_media_url: url } });
    expect(res.status).to.equal(404);
  });
});

/** Meta's message_template_status_update webhook, as Meta posts it (the template id a JSON number). */
function templateStatusWebhook(wabaId: string, t: { id: string; name: string; language: string }, event: string, reason = 'NONE', at = Math.floor(Date.now() / 1000), otherInfo?: Record<string, string>) {
  const value = { event, message_template_id: Number(t.id), message_template_name: t.name, message_template_language: t.language, reason, ...(otherInfo ? { other_info: otherInfo } : {}) };
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: wabaId, time: at, changes: [{ value, field: 'message_template_status_update' }] }] });
}

describe('WhatsApp message_template_status_update webhook', () => {
  let s: TestSession;
  let other: TestSession;
  let waba: Waba;
  let template: any;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    waba = await connectWaba(s);
    template = await createTemplate(s);
  });

  const statusOf = async (id: string) => (await waTemplates.findOwned(s.tenantId, id)).status;

  it('approves, then rejects with Meta’s reason, signed with the organization’s own app secret and routed by the WABA id', async () => {
    const meta = { id: template.meta_template_id, name: template.name, language: 'en_US' };
    const at = Math.floor(Date.now() / 1000) + 5;
    let res = await postSigned(templateStatusWebhook(waba.meta.wabaId, meta, 'APPROVED', 'NONE', at), waba.wa.appSecret);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    await until(async () => (await statusOf(template.id)) === 'APPROVED', 'the approval');
    res = await postSigned(templateStatusWebhook(waba.meta.wabaId, meta, 'REJECTED', 'INVALID_FORMAT', at + 1), waba.wa.appSecret);
    expect(res.status).to.equal(200);
    await until(async () => (await statusOf(template.id)) === 'REJECTED', 'the rejection');
    const read = await s.call('GET', `/api/wa-templates/${template.id}`);
    expect(read.body).to.include({ status: 'REJECTED', status_reason: 'INVALID_FORMAT', status_changed_at: new Date((at + 1) * 1000).toISOString() });
  });

  it('keeps the newer status when an older report arrives late, and takes PAUSED with other_info’s description', async () => {
    const meta = { id: template.meta_template_id, name: template.name, language: 'en_US' };
    const at = Math.floor(Date.now() / 1000) + 60;
    await postSigned(templateStatusWebhook(waba.meta.wabaId, meta, 'PAUSED', 'NONE', at, { title: 'FIRST_PAUSE', description: 'Your template has been paused for 3 hours due to low quality.' }), waba.wa.appSecret);
    await until(async () => (await statusOf(template.id)) === 'PAUSED', 'the pause');
    const { id } = (await postSigned(templateStatusWebhook(waba.meta.wabaId, meta, 'APPROVED', 'NONE', at - 30), waba.wa.appSecret)).body;
    await until(async () => (await findWebhookEventState(id))?.status === 'processed', 'the late report processed');
    const read = await s.call('GET', `/api/wa-templates/${template.id}`);
    expect(read.body).to.include({ status: 'PAUSED', status_reason: 'Your template has been paused for 3 hours due to low quality.' });
  });

  it('emits template.status_changed once for a report Meta posts twice: to an outgoing webhook subscribed to it, and to an admin’s socket, not an agent’s', async () => {
    const received: { event: string; data: any }[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const sockets: TestSocket[] = [];
    try {
      const hook = await s.call('POST', '/api/outgoing-webhooks', {
        body: { name: 'Template reviews', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/templates`, events: [EVENTS.templateStatusChanged] },
      });
      expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
      const admin = await openSocket(baseUrl(), { token: s.token });
      const agent = await openSocket(baseUrl(), { token: (await userWithPermissions(s, ['templates.view'])).token });
      sockets.push(admin, agent);
      const fresh = await createTemplate(s);
      const meta = { id: fresh.meta_template_id, name: fresh.name, language: 'en_US' };
      const report = templateStatusWebhook(waba.meta.wabaId, meta, 'APPROVED', 'NONE', Math.floor(Date.now() / 1000) + 5);
      // Meta's retry (the same bytes, stored once), and the same report in other bytes (processed again).
      for (const [i, raw] of [report, report, `${report}\n`].entries()) {
        const res = await postSigned(raw, waba.wa.appSecret);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        await until(async () => (await findWebhookEventState(res.body.id))?.status === 'processed', `report ${i + 1} processed`);
      }
      const about = (list: { event: string; data: any }[]) => list.filter((e) => e.event === EVENTS.templateStatusChanged && e.data.template.id === fresh.id);
      await until(async () => about(received).length > 0 && about(admin.events).length > 0, 'the event delivered');
      await new Promise((r) => setTimeout(r, 500));
      expect(about(received)).to.have.length(1);
      expect(about(admin.events)).to.have.length(1);
      expect(about(received)[0]?.data).to.deep.include({ previous_status: 'PENDING', previous_status_reason: null, source: 'webhook' });
      expect(about(received)[0]?.data.template).to.include({ id: fresh.id, name: fresh.name, status: 'APPROVED', status_reason: null });
      expect(about(admin.events)[0]?.data).to.deep.equal(about(received)[0]?.data);
      expect(about(agent.events)).to.have.length(0);
    } finally {
      for (const socket of sockets) socket.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('emits the event of a report recorded before a crash that came before its event, when the report is processed again', async () => {
    const fresh = await createTemplate(s);
    const at = Math.floor(Date.now() / 1000) + 7;
    // The write of the report took place; the process died before its event was appended.
    expect(await recordTemplateStatus(s.tenantId, fresh.id, 'REJECTED', 'INVALID_FORMAT', new Date(at * 1000))).to.include({ replayed: false });
    const changes = async () => (await readEventsAfter(s.tenantId, 0, 1000)).filter((e) => e.event === EVENTS.templateStatusChanged && (e.data as any).template.id === fresh.id);
    expect(await changes()).to.have.length(0);
    const meta = { id: fresh.meta_template_id, name: fresh.name, language: 'en_US' };
    const report = templateStatusWebhook(waba.meta.wabaId, meta, 'REJECTED', 'INVALID_FORMAT', at);
    for (const [i, raw] of [report, `${report}\n`].entries()) {
      const res = await postSigned(raw, waba.wa.appSecret);
      await until(async () => (await findWebhookEventState(res.body.id))?.status === 'processed', `report ${i + 1} processed`);
    }
    const [change, ...more] = await changes();
    expect(more).to.have.length(0);
    expect(change?.data).to.deep.include({ previous_status: 'PENDING', previous_status_reason: null });
    expect((change?.data as any).template).to.include({ status: 'REJECTED', status_reason: 'INVALID_FORMAT' });
  });

  it('is refused (401) when signed with another organization’s secret, and never touches its templates', async () => {
    const foreign = await connectWhatsapp(other);
    const meta = { id: template.meta_template_id, name: template.name, language: 'en_US' };
    const before = await statusOf(template.id);
    const res = await postSigned(templateStatusWebhook(waba.meta.wabaId, meta, 'DISABLED', 'NONE', Math.floor(Date.now() / 1000) + 120), foreign.appSecret);
    expect(res.status).to.equal(401);
    expect(await statusOf(template.id)).to.equal(before);
  });
});

describe('Sending a template message checks the stored template', () => {
  let s: TestSession;
  let waba: Waba;
  let conversationId: string;
  let approved: any;
  let image: any;
  let plain: any;
  before(async () => {
    s = await createSession();
    waba = await connectWaba(s);
    acceptSends(waba.wa);
    conversationId = (await startConversation(s, waba.wa)).conversationId;
    approved = await createTemplate(s);
    const withImage = orderUpdate();
    withImage.components[0] = { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2UvanBlZw==:ARa1'] } } as never;
    image = await createTemplate(s, withImage);
    plain = await createTemplate(s, { ...orderUpdate(), components: [orderUpdate().components[1]] });
    for (const t of waba.meta.templates) t.status = 'APPROVED';
    expect((await s.call('POST', '/api/wa-templates/sync', { body: {} })).body.updated).to.equal(3);
  });

  const send = (template: Record<string, unknown>) =>
    s.call('POST', `/api/conversations/${conversationId}/messages`, { body: { type: 'template', template, idempotency_key: randomBytes(8).toString('hex') } });
  const body = (...values: string[]) => ({ type: 'body', parameters: values.map((text) => ({ type: 'text', text })) });
  const header = { type: 'header', parameters: [{ type: 'text', text: '#1234' }] };
  const urlButton = { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '1234' }] };

  it('sends when the parameters fit', async () => {
    const res = await send({ name: approved.name, language: 'en_US', components: [header, body('Budi', '#1234'), urlButton] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.status).to.equal('sent');
  });

  const misfits: [string, () => Record<string, unknown>[], RegExp][] = [
    ['too few body parameters', () => [header, body('Budi'), urlButton], /the body of template "order_update_\d+" \(en_US\) takes 2 parameters \(\{\{1\}\} to \{\{2\}\}\); the send gives 1/],
    ['no header parameter', () => [body('Budi', '#1234'), urlButton], /the TEXT header of template "order_update_\d+" needs a text parameter/],
    ['no URL button parameter', () => [header, body('Budi', '#1234')], /button 0 .* needs a parameter/],
    ['a button index past the buttons', () => [header, body('Budi', '#1234'), urlButton, { ...urlButton, index: '5' }], /has 2 buttons; a button component has index 5/],
    ['an empty body parameter', () => [header, body('Budi', ' '), urlButton], /body parameter 2 is empty/],
  ];
  for (const [what, components, message] of misfits) {
    it(`answers 422 naming the problem for ${what}, and sends nothing`, async () => {
      const before = fakeGraph().requests.length;
      const res = await send({ name: approved.name, language: 'en_US', components: components() });
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body.code).to.equal('template_parameters_invalid');
      expect(res.body.message).to.match(message);
      expect(fakeGraph().requests.length).to.equal(before);
    });
  }

  it('fills a media header from the stored header media URL', async () => {
    const url = 'https://cdn.toko.example/banner.jpg';
    expect((await s.call('PATCH', `/api/wa-templates/${image.id}/header-media`, { body: { header_media_url: url } })).status).to.equal(200);
    const before = fakeGraph().requests.length;
    const res = await send({ name: image.name, language: 'en_US', components: [body('Budi', '#1234'), urlButton] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const sent = fakeGraph().requests.slice(before).find((r) => r.path.endsWith('/messages'));
    expect((sent?.json as any).template.components[0]).to.deep.equal({ type: 'header', parameters: [{ type: 'image', image: { link: url } }] });
  });

  it('refuses (422) a WhatsApp campaign whose body_parameters do not fit the stored template, or whose template needs more than body parameters', async () => {
    const campaign = (name: string, body_parameters: string[]) =>
      s.call('POST', '/api/campaigns', { body: { name: 'July', channel: 'whatsapp', message: { type: 'template', template: { name, language: 'en_US', body_parameters } } } });
    let res = await campaign(plain.name, ['{{contact.name}}']);
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.code).to.equal('template_parameters_invalid');
    expect(res.body.message).to.include('takes 2 parameters');
    res = await campaign(approved.name, ['{{contact.name}}', '#1']);
    expect(res.status).to.equal(422);
    expect(res.body.message).to.match(/TEXT header .* needs a text parameter/);
    res = await campaign(plain.name, ['{{contact.name}}', '{{csv.order}}']);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });

  it('sends a campaign of a template with a media header with the stored header media, and refuses (422) one while none is stored', async () => {
    const banner = await createTemplate(s, { ...orderUpdate(), components: [{ type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1hZ2UvanBlZw==:ARa2'] } }, orderUpdate().components[1]] });
    await waTemplates.update(s.tenantId, banner.id, { status: 'APPROVED' });
    const create = () =>
      s.call('POST', '/api/campaigns', { body: { name: 'Banner', channel: 'whatsapp', message: { type: 'template', template: { name: banner.name, language: 'en_US', body_parameters: ['{{csv.name}}', '#7'] } } } });
    const refused = await create();
    expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
    expect(refused.body.message).to.include('no header media URL is stored');
    const url = 'https://cdn.toko.example/july.png';
    expect((await s.call('PATCH', `/api/wa-templates/${banner.id}/header-media`, { body: { header_media_url: url } })).status).to.equal(200);
    const campaign = await create();
    expect(campaign.status, JSON.stringify(campaign.body)).to.equal(201);
    const phone = `0812${digits(8)}`;
    expect((await s.call('POST', `/api/campaigns/${campaign.body.id}/recipients`, { body: { csv: `phone,name\n${phone},Sari\n` } })).status).to.equal(200);
    const before = fakeGraph().requests.length;
    const started = await s.call('POST', `/api/campaigns/${campaign.body.id}/send`, { body: {} });
    expect(started.status, JSON.stringify(started.body)).to.equal(200);
    // This process sends no campaigns (CAMPAIGN_SENDER=false): run the campaign job's service here.
    await runCampaign({ tenantId: s.tenantId, campaignId: campaign.body.id });
    expect((await s.call('GET', `/api/campaigns/${campaign.body.id}`)).body).to.deep.include({ status: 'completed' });
    const sent = fakeGraph().requests.slice(before).filter((r) => r.path.endsWith('/messages'));
    expect(sent).to.have.length(1);
    expect((sent[0]?.json as any).template.components).to.deep.equal([
      { type: 'header', parameters: [{ type: 'image', image: { link: url } }] },
      { type: 'body', parameters: [{ type: 'text', text: 'Sari' }, { type: 'text', text: '#7' }] },
    ]);
  });

  it('refuses (422) to schedule a template message whose parameters do not fit, and schedules one that fits', async () => {
    const schedule = (components: Record<string, unknown>[]) =>
      s.call('POST', `/api/conversations/${conversationId}/scheduled-messages`, {
        body: { send_at: new Date(Date.now() + 3_600_000).toISOString(), message: { type: 'template', template: { name: plain.name, language: 'en_US', components }, idempotency_key: randomBytes(8).toString('hex') } },
      });
    const refused = await schedule([body('Budi')]);
    expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
    expect(refused.body.code).to.equal('template_parameters_invalid');
    expect((await schedule([body('Budi', '#1234')])).status).to.equal(201);
  });

  it('answers 422 for a template that is not approved', async () => {
    await waTemplates.update(s.tenantId, approved.id, { status: 'REJECTED', status_reason: 'INVALID_FORMAT' });
    const res = await send({ name: approved.name, language: 'en_US', components: [header, body('Budi', '#1234'), urlButton] });
    expect(res.status).to.equal(422);
    expect(res.body.code).to.equal('template_not_approved');
    expect(res.body.message).to.include('REJECTED (INVALID_FORMAT)');
  });

  it('leaves a template it does not store to Meta', async () => {
    const res = await send({ name: 'not_stored_here', language: 'en_US', components: [body('x')] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });
});
