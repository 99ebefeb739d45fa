/**
 * The billing catalogue: the operator's plans, coupons and add-ons (Billing Admin, super-admin
 * realm) and what tenants read of them (Billing). Every route: success, 400, 401, the realm's
 * 403 to tenant credentials, 404.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { BillingPlanModel } from '../../src/models/billing-plan.js';
import { itChecksAccess } from '../support/access.js';
import { api } from '../support/http.js';
import { createOperator, type Operator } from '../support/operator.js';
import { createSession, type TestSession } from '../support/session.js';

const unique = () => randomBytes(4).toString('hex');

const planBody = (over: Record<string, unknown> = {}) => ({
  name: 'Pro',
  code: `pro-${unique()}`,
  currency: 'IDR',
  prices: { monthly: 199_999, yearly: 1_999_990 },
  trial_days: 14,
  limits: { agents: 5, channel_accounts: 2, monthly_messages: 10_000 },
  ...over,
});

describe('Billing catalogue', () => {
  let ops: Operator;
  let org: TestSession;
  let orgKey: string;

  before(async () => {
    ops = await createOperator();
    org = await createSession();
    const key = await org.call('POST', '/api/api-keys', { body: { name: `key ${unique()}` } });
    expect(key.status, JSON.stringify(key.body)).to.equal(201);
    orgKey = key.body.key;
  });

  /** 401 without or with a forged credential; 403 to a tenant admin's token and API key. */
  function itGuardsTheRealm(method: string, path: () => string, body?: () => unknown) {
    const opts = () => (body ? { body: body() } : {});
    it('answers 401 without credentials and with a forged token', async () => {
      expect((await api(method, path(), opts())).status).to.equal(401);
      expect((await api(method, path(), { ...opts(), token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad' })).status).to.equal(401);
    });
    it('answers 403 to a tenant admin’s token and API key', async () => {
      for (const token of [org.token, orgKey]) {
        const res = await api(method, path(), { ...opts(), token });
        expect(res.status, JSON.stringify(res.body)).to.equal(403);
        expect(res.body.code).to.equal('forbidden');
      }
    });
  }

  const createPlan = async (over: Record<string, unknown> = {}) => {
    const res = await ops.call('POST', '/api/billing-admin/plans', { body: planBody(over) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };

  describe('plans (operator)', () => {
    let plan: any;
    before(async () => {
      plan = await createPlan();
    });

    it('creates a plan with integer prices, unlimited absent limits, and lists and reads it', async () => {
      expect(plan).to.include({ name: 'Pro', currency: 'IDR', trial_days: 14, status: 'active' });
      expect(plan.prices).to.deep.equal({ monthly: 199_999, yearly: 1_999_990 });
      expect(plan.limits).to.deep.equal({ agents: 5, channel_accounts: 2, monthly_conversations: null, monthly_messages: 10_000, monthly_ai_replies: null, storage_bytes: null });
      const got = await ops.call('GET', `/api/billing-admin/plans/${plan.id}`);
      expect(got.status).to.equal(200);
      expect(got.body).to.deep.equal(plan);
      const list = await ops.call('GET', '/api/billing-admin/plans?limit=100&status=active');
      expect(list.status).to.equal(200);
      expect(list.body.data.map((p: any) => p.id)).to.include(plan.id);
    });

    it('answers 409 for a taken code, 400 for fractions, bad currency, no price or unknown fields', async () => {
      expect((await ops.call('POST', '/api/billing-admin/plans', { body: planBody({ code: plan.code }) })).status).to.equal(409);
      for (const bad of [
        planBody({ prices: { monthly: 199.5 } }),
        planBody({ currency: 'RUPIAH' }),
        planBody({ prices: { monthly: null, yearly: null } }),
        planBody({ code: 'Not A Slug' }),
        planBody({ limits: { seats: 3 } }),
        planBody({ discount: 1 }),
      ]) {
        const res = await ops.call('POST', '/api/billing-admin/plans', { body: bad });
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
      }
      const list = await ops.call('GET', '/api/billing-admin/plans?status=gone');
      expect(list.status).to.equal(400);
    });

    it('patches fields, merging limits key by key; the old code is free again after a rename', async () => {
      const created = await createPlan();
      const res = await ops.call('PATCH', `/api/billing-admin/plans/${created.id}`, { body: { limits: { monthly_ai_replies: 500, agents: null }, code: `${created.code}-v2` } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.limits).to.include({ agents: null, channel_accounts: 2, monthly_messages: 10_000, monthly_ai_replies: 500 });
      expect(res.body.code).to.equal(`${created.code}-v2`);
      await createPlan({ code: created.code });
      expect((await ops.call('PATCH', `/api/billing-admin/plans/${created.id}`, { body: {} })).status).to.equal(400);
      expect((await ops.call('PATCH', `/api/billing-admin/plans/${created.id}`, { body: { prices: { monthly: null, yearly: null } } })).status).to.equal(400);
    });

    it('deletes an unused plan; a plan a subscription is on answers 409 telling to archive it', async () => {
      const unused = await createPlan();
      const del = await ops.call('DELETE', `/api/billing-admin/plans/${unused.id}`);
      expect(del.status).to.equal(200);
      expect((await ops.call('GET', `/api/billing-admin/plans/${unused.id}`)).status).to.equal(404);

      const used = await createPlan();
      // A subscription on it, as the subscription module stores one (its collection, plan_id).
      await BillingPlanModel.db.collection('billing_subscriptions').insertOne({ _id: randomUUID() as never, tenant_id: org.tenantId, plan_id: used.id, status: 'active' });
      const refused = await ops.call('DELETE', `/api/billing-admin/plans/${used.id}`);
      expect(refused.status).to.equal(409);
      expect(refused.body.message).to.match(/archive/);
      const archived = await ops.call('PATCH', `/api/billing-admin/plans/${used.id}`, { body: { status: 'archived' } });
      expect(archived.status).to.equal(200);
      expect(archived.body.status).to.equal('archived');
    });

    it('answers 404 for unknown ids and 400 for malformed ones', async () => {
      for (const [method, body] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
        expect((await ops.call(method, `/api/billing-admin/plans/${randomUUID()}`, { body })).status).to.equal(404);
        expect((await ops.call(method, '/api/billing-admin/plans/not-a-uuid', { body })).status).to.equal(400);
      }
    });

    describe('GET /api/billing-admin/plans', () => itGuardsTheRealm('GET', () => '/api/billing-admin/plans'));
    describe('POST /api/billing-admin/plans', () => itGuardsTheRealm('POST', () => '/api/billing-admin/plans', () => planBody()));
    describe('GET /api/billing-admin/plans/{id}', () => itGuardsTheRealm('GET', () => `/api/billing-admin/plans/${plan.id}`));
    describe('PATCH /api/billing-admin/plans/{id}', () => itGuardsTheRealm('PATCH', () => `/api/billing-admin/plans/${plan.id}`, () => ({ name: 'x' })));
    describe('DELETE /api/billing-admin/plans/{id}', () => itGuardsTheRealm('DELETE', () => `/api/billing-admin/plans/${plan.id}`));
  });

  describe('coupons (operator)', () => {
    let plan: any;
    let coupon: any;
    const couponBody = (over: Record<string, unknown> = {}) => ({ code: `save-${unique()}`, kind: 'percent', percent_off: 15, plan_ids: [plan.id], max_redemptions: 100, ...over });
    before(async () => {
      plan = await createPlan();
      const res = await ops.call('POST', '/api/billing-admin/coupons', { body: couponBody() });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      coupon = res.body;
    });

    it('creates an upper-cased coupon and lists it', async () => {
      expect(coupon.code).to.match(/^SAVE-[0-9A-F]{8}$/);
      expect(coupon).to.include({ kind: 'percent', percent_off: 15, amount_off: null, duration: 'once', redemptions_count: 0, status: 'active' });
      const list = await ops.call('GET', '/api/billing-admin/coupons?limit=100');
      expect(list.status).to.equal(200);
      expect(list.body.data.map((c: any) => c.id)).to.include(coupon.id);
      expect((await ops.call('POST', '/api/billing-admin/coupons', { body: couponBody({ code: coupon.code.toLowerCase() }) })).status).to.equal(409);
    });

    it('answers 400 naming the field for incoherent coupons', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ percent_off: null }, 'percent_off'],
        [{ percent_off: 101 }, 'percent_off'],
        [{ percent_off: 12.5 }, 'percent_off'],
        [{ kind: 'fixed', percent_off: null, amount_off: 5000 }, 'currency'],
        [{ kind: 'fixed', percent_off: null, amount_off: 50.5, currency: 'IDR' }, 'amount_off'],
        [{ duration: 'repeating' }, 'duration_months'],
        [{ valid_from: '2026-12-02T00:00:00Z', valid_until: '2026-12-01T00:00:00Z' }, 'valid_until'],
        [{ plan_ids: [randomUUID()] }, 'plan_ids'],
      ];
      for (const [over, field] of cases) {
        const res = await ops.call('POST', '/api/billing-admin/coupons', { body: couponBody(over) });
        expect(res.status, JSON.stringify(over)).to.equal(400);
        expect(res.body.message, JSON.stringify(res.body)).to.include(field);
      }
    });

    it('patches a coupon keeping it coherent, and deletes an unredeemed one', async () => {
      const res = await ops.call('PATCH', `/api/billing-admin/coupons/${coupon.id}`, { body: { kind: 'fixed', percent_off: null, amount_off: 25_000, currency: 'idr' } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ kind: 'fixed', amount_off: 25_000, currency: 'IDR', percent_off: null });
      expect((await ops.call('PATCH', `/api/billing-admin/coupons/${coupon.id}`, { body: { amount_off: null } })).status).to.equal(400);
      const other = await ops.call('POST', '/api/billing-admin/coupons', { body: couponBody() });
      expect((await ops.call('DELETE', `/api/billing-admin/coupons/${other.body.id}`)).status).to.equal(200);
      expect((await ops.call('DELETE', `/api/billing-admin/coupons/${other.body.id}`)).status).to.equal(404);
      expect((await ops.call('PATCH', `/api/billing-admin/coupons/${randomUUID()}`, { body: { status: 'archived' } })).status).to.equal(404);
      expect((await ops.call('DELETE', '/api/billing-admin/coupons/nope')).status).to.equal(400);
    });

    describe('GET /api/billing-admin/coupons', () => itGuardsTheRealm('GET', () => '/api/billing-admin/coupons'));
    describe('POST /api/billing-admin/coupons', () => itGuardsTheRealm('POST', () => '/api/billing-admin/coupons', () => couponBody()));
    describe('PATCH /api/billing-admin/coupons/{id}', () => itGuardsTheRealm('PATCH', () => `/api/billing-admin/coupons/${coupon.id}`, () => ({ status: 'archived' })));
    describe('DELETE /api/billing-admin/coupons/{id}', () => itGuardsTheRealm('DELETE', () => `/api/billing-admin/coupons/${coupon.id}`));
  });

  describe('add-ons (operator)', () => {
    let addon: any;
    const addonBody = (over: Record<string, unknown> = {}) => ({ name: 'Five more agents', code: `agents-${unique()}`, kind: 'extra_agents', units: 5, unit_price: 75_000, currency: 'IDR', ...over });
    before(async () => {
      const res = await ops.call('POST', '/api/billing-admin/addons', { body: addonBody() });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      addon = res.body;
    });

    it('creates, lists, patches and deletes add-ons', async () => {
      expect(addon).to.include({ kind: 'extra_agents', units: 5, unit_price: 75_000, interval: 'monthly', status: 'active' });
      const list = await ops.call('GET', '/api/billing-admin/addons?limit=100');
      expect(list.body.data.map((a: any) => a.id)).to.include(addon.id);
      const patched = await ops.call('PATCH', `/api/billing-admin/addons/${addon.id}`, { body: { unit_price: 80_000 } });
      expect(patched.status).to.equal(200);
      expect(patched.body).to.include({ unit_price: 80_000, interval: 'monthly', status: 'active' });
      const doomed = await ops.call('POST', '/api/billing-admin/addons', { body: addonBody() });
      expect((await ops.call('DELETE', `/api/billing-admin/addons/${doomed.body.id}`)).status).to.equal(200);
      expect((await ops.call('DELETE', `/api/billing-admin/addons/${doomed.body.id}`)).status).to.equal(404);
    });

    it('answers 400 for bad add-ons and 404 for unknown ids', async () => {
      for (const bad of [addonBody({ kind: 'extra_storage' }), addonBody({ unit_price: 0.1 }), addonBody({ units: 0 }), addonBody({ interval: 'weekly' })]) {
        expect((await ops.call('POST', '/api/billing-admin/addons', { body: bad })).status, JSON.stringify(bad)).to.equal(400);
      }
      expect((await ops.call('PATCH', `/api/billing-admin/addons/${addon.id}`, { body: {} })).status).to.equal(400);
      expect((await ops.call('PATCH', `/api/billing-admin/addons/${randomUUID()}`, { body: { units: 2 } })).status).to.equal(404);
      expect((await ops.call('POST', '/api/billing-admin/addons', { body: addonBody({ code: addon.code }) })).status).to.equal(409);
    });

    describe('GET /api/billing-admin/addons', () => itGuardsTheRealm('GET', () => '/api/billing-admin/addons'));
    describe('POST /api/billing-admin/addons', () => itGuardsTheRealm('POST', () => '/api/billing-admin/addons', () => addonBody()));
    describe('PATCH /api/billing-admin/addons/{id}', () => itGuardsTheRealm('PATCH', () => `/api/billing-admin/addons/${addon.id}`, () => ({ units: 2 })));
    describe('DELETE /api/billing-admin/addons/{id}', () => itGuardsTheRealm('DELETE', () => `/api/billing-admin/addons/${addon.id}`));
  });

  describe('tenant side', () => {
    let active: any;
    let archived: any;
    let addon: any;
    before(async () => {
      active = await createPlan();
      archived = await createPlan({ status: 'archived' });
      const res = await ops.call('POST', '/api/billing-admin/addons', { body: { name: 'AI pack', code: `ai-${unique()}`, kind: 'extra_ai_replies', units: 1000, unit_price: 50_000, currency: 'IDR' } });
      addon = res.body;
      await ops.call('POST', '/api/billing-admin/addons', { body: { name: 'Old', code: `old-${unique()}`, kind: 'extra_agents', units: 1, unit_price: 1, currency: 'IDR', status: 'archived' } });
    });

    it('GET /api/billing/plans lists only active plans', async () => {
      const res = await org.call('GET', '/api/billing/plans?limit=100');
      expect(res.status).to.equal(200);
      const ids = res.body.data.map((p: any) => p.id);
      expect(ids).to.include(active.id);
      expect(ids).to.not.include(archived.id);
      expect(res.body.data.every((p: any) => p.status === 'active')).to.equal(true);
      expect((await org.call('GET', '/api/billing/plans?limit=0')).status).to.equal(400);
    });
    describe('GET /api/billing/plans access', () => itChecksAccess('GET', () => '/api/billing/plans', 'billing.view', () => org));

    it('GET /api/billing/addons lists only active add-ons', async () => {
      const res = await org.call('GET', '/api/billing/addons?limit=100');
      expect(res.status).to.equal(200);
      expect(res.body.data.map((a: any) => a.id)).to.include(addon.id);
      expect(res.body.data.every((a: any) => a.status === 'active')).to.equal(true);
      expect((await org.call('GET', '/api/billing/addons?page=x')).status).to.equal(400);
    });
    describe('GET /api/billing/addons access', () => itChecksAccess('GET', () => '/api/billing/addons', 'billing.view', () => org));

    it('POST /api/billing/coupons/validate quotes the discount in integers, and names why a coupon does not apply', async () => {
      const c = await ops.call('POST', '/api/billing-admin/coupons', { body: { code: `TEN-${unique()}`, kind: 'percent', percent_off: 15, plan_ids: [active.id] } });
      // 15% of 199,999 is 29,999.85, rounded half up to 30,000.
      const ok = await org.call('POST', '/api/billing/coupons/validate', { body: { code: c.body.code.toLowerCase(), plan_id: active.id } });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(ok.body).to.include({ valid: true, price: 199_999, discount: 30_000, total: 169_999, currency: 'IDR', interval: 'monthly' });
      const other = await createPlan();
      const wrongPlan = await org.call('POST', '/api/billing/coupons/validate', { body: { code: c.body.code, plan_id: other.id } });
      expect(wrongPlan.status).to.equal(422);
      expect(wrongPlan.body.code).to.equal('coupon_not_for_plan');
      const expired = await ops.call('POST', '/api/billing-admin/coupons', { body: { code: `OLD-${unique()}`, kind: 'percent', percent_off: 5, valid_until: '2020-01-01T00:00:00Z' } });
      const late = await org.call('POST', '/api/billing/coupons/validate', { body: { code: expired.body.code, plan_id: active.id } });
      expect(late.status).to.equal(422);
      expect(late.body.code).to.equal('coupon_expired');
      expect(late.body.message).to.include('expired');
      const unknown = await org.call('POST', '/api/billing/coupons/validate', { body: { code: 'NO-SUCH-CODE', plan_id: active.id } });
      expect(unknown.status).to.equal(404);
      expect(unknown.body.code).to.equal('coupon_unknown');
      expect((await org.call('POST', '/api/billing/coupons/validate', { body: { code: c.body.code, plan_id: randomUUID() } })).status).to.equal(404);
      expect((await org.call('POST', '/api/billing/coupons/validate', { body: { code: c.body.code } })).status).to.equal(400);
      expect((await org.call('POST', '/api/billing/coupons/validate', { body: { code: 'x', plan_id: active.id } })).status).to.equal(400);
    });
    describe('POST /api/billing/coupons/validate access', () =>
      itChecksAccess('POST', () => '/api/billing/coupons/validate', 'billing.view', () => org, { body: { code: 'ANY-CODE', plan_id: randomUUID() } }));

    it('a super-admin token does not reach the tenant routes', async () => {
      expect((await ops.call('GET', '/api/billing/plans')).status).to.equal(401);
    });
  });
});
