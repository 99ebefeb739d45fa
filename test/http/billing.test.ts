/**
 * Billing (tenant) and Billing Admin (operator) subscription, invoice, refund and analytics
 * endpoints, over real HTTP. Plans are fixtures stored through the catalogue repository.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import { PDFParse } from 'pdf-parse';
import { newId } from '../../src/ids.js';
import { billingAddons } from '../../src/models/billing-addon.js';
import { billingInvoices, type BillingInvoice } from '../../src/models/billing-invoice.js';
import { billingPlans, type BillingPlan } from '../../src/models/billing-plan.js';
import { BillingSubscriptionModel, insertSubscription, subscriptionIdOf } from '../../src/models/billing-subscription.js';
import { findTenant } from '../../src/models/tenant.js';
import { users } from '../../src/models/user.js';
import { renewDueSubscriptions } from '../../src/services/billing-subscriptions.js';
import { createSuperAdminAccount } from '../../src/services/super-admins.js';
import { baseUrl } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { api, type ApiOptions } from '../support/http.js';
import { createSession, type TestSession } from '../support/session.js';
import { startFakeStripe } from '../support/fake-stripe.js';
import { startServerProcess } from '../support/server-process.js';
import { testServerEnv } from '../setup.js';

const unique = () => randomBytes(4).toString('hex');
const NULL_LIMITS = { agents: null, channel_accounts: null, monthly_conversations: null, monthly_messages: null, monthly_ai_replies: null, storage_bytes: null };

async function plan(monthly: number, over: Partial<BillingPlan> = {}): Promise<BillingPlan> {
  return billingPlans.insert({
    _id: newId(),
    name: `Plan ${unique()}`,
    code: `plan-${unique()}`,
    description: '',
    currency: 'IDR',
    prices: { monthly, yearly: monthly * 10 },
    trial_days: 0,
    limits: { ...NULL_LIMITS, agents: 10 },
    status: 'active',
    ...over,
  });
}

interface Operator {
  call<T = any>(method: string, path: string, opts?: ApiOptions): ReturnType<typeof api<T>>;
}

async function operator(): Promise<Operator> {
  const email = `ops-${unique()}@platform.test`;
  const password = 'operator-pass-1';
  await createSuperAdminAccount({ actor: null, name: 'Ops', email, password });
  const res = await api('POST', '/api/super-admin/login', { body: { email, password } });
  expect(res.status).to.equal(200);
  return { call: (m, p, o = {}) => api(m, p, { token: res.body.token, ...o }) };
}

/** Exact half-up of a x n / d, apart from the code under test. */
const exact = (a: number, n: number, d: number) => Number((BigInt(a) * BigInt(n) * 2n + BigInt(d)) / (2n * BigInt(d)));

describe('Billing', () => {
  let org: TestSession;
  let other: TestSession;
  let basic: BillingPlan;
  let pro: BillingPlan;
  let ops: Operator;

  before(async () => {
    [org, other, ops] = await Promise.all([createSession(), createSession(), operator()]);
    [basic, pro] = await Promise.all([plan(99_900), plan(149_900, { limits: { ...NULL_LIMITS, agents: 25 } })]);
  });

  describe('GET /api/billing/subscription', () => {
    itChecksAccess('GET', () => '/api/billing/subscription', 'billing.view', () => org);
    it('answers 404 before the organization subscribed', async () => {
      const res = await other.call('GET', '/api/billing/subscription');
      expect(res.status).to.equal(404);
    });
  });

  describe('POST /api/billing/subscribe', () => {
    itChecksAccess('POST', () => '/api/billing/subscribe', 'billing.manage', () => org, { body: { plan_id: newId() } });
    it('answers 400 for a bad body and 404 for an unknown plan', async () => {
      expect((await org.call('POST', '/api/billing/subscribe', { body: { plan_id: 'x' } })).status).to.equal(400);
      expect((await org.call('POST', '/api/billing/subscribe', { body: { plan_id: basic._id, card_number: '4242424242424242' } })).status).to.equal(400);
      expect((await org.call('POST', '/api/billing/subscribe', { body: { plan_id: newId() } })).status).to.equal(404);
    });
    it('subscribes, invoices the first period once per Idempotency-Key, and writes the plan’s limits', async () => {
      const key = `sub-${unique()}`;
      const first = await org.call('POST', '/api/billing/subscribe', { body: { plan_id: basic._id }, headers: { 'Idempotency-Key': key } });
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      expect(first.body.status).to.equal('active');
      expect(first.body.plan.id).to.equal(basic._id);
      expect(first.body.invoice.total).to.equal(99_900);
      expect(first.body.invoice.number).to.match(/^INV-\d{6}$/);
      const tz = (await findTenant(org.tenantId))?.timezone as string;
      const start = DateTime.fromISO(first.body.current_period_start, { zone: tz });
      expect(first.body.current_period_end).to.equal(start.plus({ months: 1 }).toUTC().toISO());
      const again = await org.call('POST', '/api/billing/subscribe', { body: { plan_id: basic._id }, headers: { 'Idempotency-Key': key } });
      expect(again.status).to.equal(201);
      expect(again.body).to.deep.equal(first.body);
      expect(again.headers.get('idempotent-replayed')).to.equal('true');
      const reused = await org.call('POST', '/api/billing/subscribe', { body: { plan_id: pro._id }, headers: { 'Idempotency-Key': key } });
      expect(reused.status).to.equal(422);
      expect(reused.body.code).to.equal('idempotency_key_reused');
      const invoices = await org.call('GET', '/api/billing/invoices');
      expect(invoices.body.pagination.total).to.equal(1);
      expect((await findTenant(org.tenantId))?.limits?.agents).to.equal(10);
      const twice = await org.call('POST', '/api/billing/subscribe', { body: { plan_id: basic._id } });
      expect(twice.status).to.equal(409);
    });
  });

  describe('POST /api/billing/change-plan', () => {
    itChecksAccess('POST', () => '/api/billing/change-plan', 'billing.manage', () => org, { body: { plan_id: newId() } });
    it('answers 400 for a bad body and 404 without a subscription', async () => {
      expect((await org.call('POST', '/api/billing/change-plan', { body: { plan_id: pro._id, when: 'later' } })).status).to.equal(400);
      expect((await other.call('POST', '/api/billing/change-plan', { body: { plan_id: pro._id } })).status).to.equal(404);
    });
    it('upgrades now with proration for the rest of the period in integer minor units', async () => {
      const before = (await org.call('GET', '/api/billing/subscription')).body;
      const res = await org.call('POST', '/api/billing/change-plan', { body: { plan_id: pro._id } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.plan.id).to.equal(pro._id);
      const tz = (await findTenant(org.tenantId))?.timezone as string;
      const end = DateTime.fromISO(before.current_period_end, { zone: tz }).startOf('day');
      const total = Math.round(end.diff(DateTime.fromISO(before.current_period_start, { zone: tz }).startOf('day'), 'days').days);
      const remaining = Math.round(end.diff(DateTime.now().setZone(tz).startOf('day'), 'days').days);
      const [credit, charge] = res.body.invoice.lines.map((l: { amount: number }) => l.amount);
      expect(credit).to.equal(-exact(99_900, remaining, total));
      expect(charge).to.equal(exact(149_900, remaining, total));
      expect(res.body.invoice.total).to.equal(charge + credit);
      expect((await findTenant(org.tenantId))?.limits?.agents).to.equal(25);
    });
    it('refuses a downgrade the current usage exceeds, naming the limit', async () => {
      const tiny = await plan(10_000, { limits: { ...NULL_LIMITS, agents: 0 } });
      const res = await org.call('POST', '/api/billing/change-plan', { body: { plan_id: tiny._id } });
      expect(res.status).to.equal(422);
      expect(res.body.message).to.include('agents');
    });
    it('schedules a downgrade at the period’s end, applied by the renewal with the next period’s invoice', async () => {
      const res = await org.call('POST', '/api/billing/change-plan', { body: { plan_id: basic._id } });
      expect(res.status).to.equal(200);
      expect(res.body.plan.id).to.equal(pro._id);
      expect(res.body.pending_plan.id).to.equal(basic._id);
      await BillingSubscriptionModel.updateOne({ _id: subscriptionIdOf(org.tenantId) }, { $set: { current_period_end: new Date(Date.now() - 1000) } }).exec();
      await renewDueSubscriptions();
      await renewDueSubscriptions(); // a second sweep invoices nothing more
      const sub = (await org.call('GET', '/api/billing/subscription')).body;
      expect(sub.plan.id).to.equal(basic._id);
      expect(sub.pending_plan).to.equal(null);
      const invoices = (await org.call('GET', '/api/billing/invoices')).body;
      expect(invoices.pagination.total).to.equal(3);
      expect(invoices.data[0].lines[0].amount).to.equal(99_900);
    });
  });

  describe('GET /api/billing/invoices and /{id}/pdf', () => {
    itChecksAccess('GET', () => '/api/billing/invoices', 'billing.view', () => org);
    it('answers 400 for a bad query', async () => {
      expect((await org.call('GET', '/api/billing/invoices?status=draft')).status).to.equal(400);
      expect((await org.call('GET', '/api/billing/invoices/not-a-uuid/pdf')).status).to.equal(400);
    });
    it('downloads a PDF whose text carries the invoice’s number and total, and 404 for another tenant', async () => {
      const inv = (await org.call('GET', '/api/billing/invoices')).body.data[0];
      const res = await fetch(`${baseUrl()}/api/billing/invoices/${inv.id}/pdf`, { headers: { authorization: `Bearer ${org.token}` } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.include('application/pdf');
      const text = (await new PDFParse({ data: new Uint8Array(await res.arrayBuffer()) }).getText()).text;
      expect(text).to.include(`Invoice ${inv.number}`);
      expect(text).to.include(`Total: IDR ${inv.total.toLocaleString('en')}`);
      expect((await other.call('GET', `/api/billing/invoices/${inv.id}/pdf`)).status).to.equal(404);
    });
    itChecksAccess('GET', () => `/api/billing/invoices/${newId()}/pdf`, 'billing.view', () => org);
  });

  describe('POST /api/billing/cancel', () => {
    itChecksAccess('POST', () => '/api/billing/cancel', 'billing.manage', () => org, { body: {} });
    it('answers 400 for a bad body and 404 without a subscription', async () => {
      expect((await org.call('POST', '/api/billing/cancel', { body: { when: 'soon' } })).status).to.equal(400);
      expect((await other.call('POST', '/api/billing/cancel', { body: {} })).status).to.equal(404);
    });
    it('cancels at the period’s end, then now; a cancelled subscription cannot be cancelled again', async () => {
      const later = await org.call('POST', '/api/billing/cancel', { body: {} });
      expect(later.status).to.equal(200);
      expect(later.body.cancel_at_period_end).to.equal(true);
      expect(later.body.status).to.equal('active');
      const now = await org.call('POST', '/api/billing/cancel', { body: { when: 'now' } });
      expect(now.body.status).to.equal('cancelled');
      expect(now.body.ended_at).to.be.a('string');
      expect((await org.call('POST', '/api/billing/cancel', { body: { when: 'now' } })).status).to.equal(422);
    });
  });

  describe('GET /api/billing/usage and add-ons', () => {
    let s: TestSession;
    let extraAgents: { _id: string };
    before(async () => {
      s = await createSession();
      const small = await plan(50_000, { limits: { ...NULL_LIMITS, agents: 10 } });
      expect((await s.call('POST', '/api/billing/subscribe', { body: { plan_id: small._id } })).status).to.equal(201);
      extraAgents = await billingAddons.insert({ _id: newId(), name: 'Extra agents', code: `xa-${unique()}`, kind: 'extra_agents', units: 5, unit_price: 20_000, currency: 'IDR', interval: 'monthly', status: 'active' });
    });
    itChecksAccess('GET', () => '/api/billing/usage', 'billing.view', () => s);
    itChecksAccess('GET', () => '/api/billing/addons/attached', 'billing.view', () => s);
    itChecksAccess('POST', () => `/api/billing/addons/${newId()}/attach`, 'billing.manage', () => s, { body: {} });
    itChecksAccess('DELETE', () => `/api/billing/addons/${newId()}/attach`, 'billing.manage', () => s);
    it('shows each limit with its use', async () => {
      const res = await s.call('GET', '/api/billing/usage');
      expect(res.status).to.equal(200);
      expect(res.body.limits.find((l: { name: string }) => l.name === 'agents')).to.deep.equal({ name: 'agents', limit: 10, used: await users.count({ tenant_id: s.tenantId, deleted_at: null }) });
      expect(res.body.limits.map((l: { name: string }) => l.name)).to.include.members(['channel_accounts', 'monthly_messages', 'monthly_ai_replies', 'storage_bytes']);
    });
    it('attaches with a prorated charge and raised limit, lists, detaches; 400, 404 and another tenant’s 404', async () => {
      expect((await s.call('POST', `/api/billing/addons/${extraAgents._id}/attach`, { body: { quantity: 0 } })).status).to.equal(400);
      expect((await s.call('POST', `/api/billing/addons/${newId()}/attach`, { body: {} })).status).to.equal(404);
      expect((await other.call('POST', `/api/billing/addons/${extraAgents._id}/attach`, { body: {} })).status).to.equal(404);
      const before = (await s.call('GET', '/api/billing/subscription')).body;
      const res = await s.call('POST', `/api/billing/addons/${extraAgents._id}/attach`, { body: { quantity: 2 } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const tz = (await findTenant(s.tenantId))?.timezone as string;
      const end = DateTime.fromISO(before.current_period_end, { zone: tz }).startOf('day');
      const total = Math.round(end.diff(DateTime.fromISO(before.current_period_start, { zone: tz }).startOf('day'), 'days').days);
      const remaining = Math.round(end.diff(DateTime.now().setZone(tz).startOf('day'), 'days').days);
      expect(res.body.invoice.lines[0].amount).to.equal(exact(40_000, remaining, total));
      expect((await s.call('GET', '/api/billing/usage')).body.limits.find((l: { name: string }) => l.name === 'agents').limit).to.equal(20);
      const attached = await s.call('GET', '/api/billing/addons/attached');
      expect(attached.body.data).to.have.length(1);
      expect(attached.body.data[0].quantity).to.equal(2);
      expect((await other.call('DELETE', `/api/billing/addons/${extraAgents._id}/attach`)).status).to.equal(404);
      const detached = await s.call('DELETE', `/api/billing/addons/${extraAgents._id}/attach`);
      expect(detached.status).to.equal(200);
      expect(detached.body.addons).to.deep.equal([]);
      expect((await findTenant(s.tenantId))?.limits?.agents).to.equal(10);
      expect((await s.call('DELETE', `/api/billing/addons/${extraAgents._id}/attach`)).status).to.equal(404);
    });
  });

  describe('/api/billing/payment-methods', () => {
    let s: TestSession;
    before(async () => {
      s = await createSession();
    });
    itChecksAccess('GET', () => '/api/billing/payment-methods', 'billing.view', () => s);
    itChecksAccess('POST', () => '/api/billing/payment-methods', 'billing.manage', () => s, { body: { type: 'bank_transfer', bank_name: 'BCA', account_holder: 'PT Toko' } });
    itChecksAccess('DELETE', () => `/api/billing/payment-methods/${newId()}`, 'billing.manage', () => s);
    it('refuses card numbers (400) and, with no card provider configured, card tokens (422)', async () => {
      const number = await s.call('POST', '/api/billing/payment-methods', { body: { type: 'card', token: '4242424242424242' } });
      expect(number.status).to.equal(400);
      const extra = await s.call('POST', '/api/billing/payment-methods', { body: { type: 'card', token: 'pm_card_visa', number: '4242424242424242' } });
      expect(extra.status).to.equal(400);
      const card = await s.call('POST', '/api/billing/payment-methods', { body: { type: 'card', token: 'pm_card_visa' } });
      expect(card.status).to.equal(422);
      expect(card.body.message).to.include('not configured');
    });
    it('adds bank transfer methods (the first is the default), lists them, deletes one; another tenant gets 404', async () => {
      const first = await s.call('POST', '/api/billing/payment-methods', { body: { type: 'bank_transfer', bank_name: 'BCA', account_holder: 'PT Toko' } });
      expect(first.status).to.equal(201);
      expect(first.body.is_default).to.equal(true);
      const second = await s.call('POST', '/api/billing/payment-methods', { body: { type: 'bank_transfer', bank_name: 'Mandiri', account_holder: 'PT Toko' } });
      expect(second.body.is_default).to.equal(false);
      expect((await other.call('DELETE', `/api/billing/payment-methods/${first.body.id}`)).status).to.equal(404);
      expect((await s.call('DELETE', `/api/billing/payment-methods/${first.body.id}`)).status).to.equal(200);
      const list = (await s.call('GET', '/api/billing/payment-methods')).body.data;
      expect(list.map((m: { id: string; is_default: boolean }) => [m.id, m.is_default])).to.deep.equal([[second.body.id, true]]);
      expect((await s.call('DELETE', '/api/billing/payment-methods/nope')).status).to.equal(400);
    });
  });

  describe('POST /api/billing/payment-methods with a card provider configured', () => {
    it('attaches a card token to the organization’s customer at the provider and detaches it on delete; a declined card is a 422', async function () {
      this.timeout(60_000);
      const stripe = await startFakeStripe();
      const server = await startServerProcess({ ...testServerEnv(), BILLING_STRIPE_API_URL: stripe.url, BILLING_STRIPE_SECRET_KEY: stripe.secretKey });
      try {
        const s = await createSession();
        const call = (m: string, p: string, o: ApiOptions = {}) => api(m, p, { token: s.token, baseUrl: server.url, ...o });
        const added = await call('POST', '/api/billing/payment-methods', { body: { type: 'card', token: 'pm_card_visa' } });
        expect(added.status, JSON.stringify(added.body)).to.equal(201);
        expect(added.body.card).to.deep.equal({ brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2030 });
        expect(added.body.provider).to.equal('stripe');
        const customer = stripe.attachments.get('pm_card_visa');
        expect(customer).to.match(/^cus_/);
        expect(stripe.requests.find((r) => r.path === '/v1/customers')?.form['metadata[tenant_id]']).to.equal(s.tenantId);
        const declined = await call('POST', '/api/billing/payment-methods', { body: { type: 'card', token: 'pm_card_chargeDeclined' } });
        expect(declined.status).to.equal(422);
        expect(declined.body.message).to.include('card_declined');
        expect((await call('DELETE', `/api/billing/payment-methods/${added.body.id}`)).status).to.equal(200);
        expect(stripe.attachments.get('pm_card_visa')).to.equal(null);
      } finally {
        server.kill();
        await stripe.close();
      }
    });
  });

  describe('card collection and dunning (a server process with the card provider)', () => {
    it('charges the default card at subscribe; a failing card is retried on schedule, then past_due, and active again once paid', async function () {
      this.timeout(90_000);
      const stripe = await startFakeStripe();
      const server = await startServerProcess({ ...testServerEnv(), BILLING_STRIPE_API_URL: stripe.url, BILLING_STRIPE_SECRET_KEY: stripe.secretKey, BILLING_SWEEP_MS: '300', BILLING_RETRY_MS: '300,600,900' });
      try {
        const as = (t: TestSession) => (m: string, p: string, o: ApiOptions = {}) => api(m, p, { token: t.token, baseUrl: server.url, ...o });
        const good = as(await createSession());
        expect((await good('POST', '/api/billing/payment-methods', { body: { type: 'card', token: 'pm_card_visa' } })).status).to.equal(201);
        const paid = await good('POST', '/api/billing/subscribe', { body: { plan_id: basic._id } });
        expect(paid.body.invoice.status).to.equal('paid');
        expect(paid.body.invoice.provider).to.equal('stripe');
        const intent = stripe.requests.find((r) => r.path === '/v1/payment_intents' && r.form['metadata[invoice_id]'] === paid.body.invoice.id);
        expect(intent?.form).to.include({ amount: '99900', currency: 'idr', confirm: 'true', off_session: 'true' });

        const bad = as(await createSession());
        expect((await bad('POST', '/api/billing/payment-methods', { body: { type: 'card', token: 'pm_card_chargeCustomerFail' } })).status).to.equal(201);
        const failing = await bad('POST', '/api/billing/subscribe', { body: { plan_id: basic._id } });
        expect(failing.body.status).to.equal('active');
        expect(failing.body.invoice.status).to.equal('open');
        expect(failing.body.invoice.last_payment_error).to.include('card_declined');
        const invoiceId = failing.body.invoice.id as string;
        let status = 'active';
        for (let i = 0; i < 450 && status !== 'past_due'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          status = (await bad('GET', '/api/billing/subscription')).body.status;
        }
        expect(status, JSON.stringify(stripe.requests.filter((r) => r.path === '/v1/payment_intents').map((r) => r.idempotencyKey))).to.equal('past_due');
        const attempts = stripe.requests.filter((r) => r.path === '/v1/payment_intents' && r.form['metadata[invoice_id]'] === invoiceId);
        expect(attempts.map((a) => a.idempotencyKey)).to.deep.equal([1, 2, 3, 4].map((n) => `${invoiceId}-attempt-${n}`));
        const invoice = (await bad('GET', '/api/billing/invoices')).body.data[0];
        expect(invoice.payment_attempts).to.equal(4);
        expect(invoice.next_payment_attempt_at).to.equal(null);
        expect((await ops.call('POST', `/api/billing-admin/invoices/${invoiceId}/mark-paid`)).body.status).to.equal('paid');
        expect((await bad('GET', '/api/billing/subscription')).body.status).to.equal('active');
      } finally {
        server.kill();
        await stripe.close();
      }
    });
  });

  describe('Billing Admin', () => {
    let paidInvoice: { id: string; total: number };
    before(async () => {
      const s = await createSession();
      const res = await s.call('POST', '/api/billing/subscribe', { body: { plan_id: pro._id } });
      paidInvoice = res.body.invoice;
    });
    it('answers 401 without credentials and 403 to a tenant token', async () => {
      for (const path of ['/api/billing-admin/analytics', '/api/billing-admin/analytics/mrr', '/api/billing-admin/analytics/churn']) {
        expect((await api('GET', path)).status).to.equal(401);
        expect((await org.call('GET', path)).status).to.equal(403);
      }
      expect((await org.call('POST', `/api/billing-admin/invoices/${paidInvoice.id}/refund`, { body: {} })).status).to.equal(403);
    });
    it('refunds partly and fully, never above what was paid', async () => {
      const path = `/api/billing-admin/invoices/${paidInvoice.id}`;
      expect((await ops.call('POST', `${path}/refund`, { body: {} })).status).to.equal(422); // not paid yet
      expect((await ops.call('POST', `${path}/mark-paid`)).body.status).to.equal('paid');
      expect((await ops.call('POST', `${path}/refund`, { body: { amount: 1.5 } })).status).to.equal(400);
      expect((await ops.call('POST', `/api/billing-admin/invoices/${newId()}/refund`, { body: {} })).status).to.equal(404);
      const part = await ops.call('POST', `${path}/refund`, { body: { amount: 49_900, reason: 'goodwill' } });
      expect(part.status).to.equal(200);
      expect(part.body.amount_refunded).to.equal(49_900);
      expect(part.body.status).to.equal('paid');
      const over = await ops.call('POST', `${path}/refund`, { body: { amount: paidInvoice.total } });
      expect(over.status).to.equal(422);
      expect(over.body.code).to.equal('refund_exceeds_paid');
      const rest = await ops.call('POST', `${path}/refund`, { body: {} });
      expect(rest.body.amount_refunded).to.equal(paidInvoice.total);
      expect(rest.body.status).to.equal('refunded');
    });

    it('computes MRR, revenue by plan, monthly revenue and churn as the fixtures say', async () => {
      // Fixtures in their own currency (XTS, ISO 4217's testing code), so no other test's data counts.
      const monthlyPlan = await plan(120_000, { currency: 'XTS' });
      const now = DateTime.utc();
      const monthStart = now.startOf('month');
      const subs = [
        { interval: 'monthly' as const, status: 'active' as const, started: monthStart.minus({ months: 3 }), ended: null },
        { interval: 'yearly' as const, status: 'active' as const, started: monthStart.minus({ months: 2 }), ended: null },
        { interval: 'monthly' as const, status: 'past_due' as const, started: monthStart.minus({ months: 1 }), ended: null },
        { interval: 'monthly' as const, status: 'cancelled' as const, started: monthStart.minus({ months: 5 }), ended: now.minus({ minutes: 5 }) },
        { interval: 'monthly' as const, status: 'trialing' as const, started: now.minus({ minutes: 10 }), ended: null },
      ];
      for (const s of subs) {
        const tenantId = newId();
        await insertSubscription({
          _id: subscriptionIdOf(tenantId), tenant_id: tenantId, plan_id: monthlyPlan._id, interval: s.interval, status: s.status, currency: 'XTS',
          current_period_start: s.started.toJSDate(), current_period_end: now.plus({ days: 10 }).toJSDate(), trial_end: null, cancel_at_period_end: false,
          pending_plan_id: null, coupon: null, addons: [], credit_balance: 0, started_at: s.started.toJSDate(), ended_at: s.ended?.toJSDate() ?? null, last_change_id: newId(), version: 1,
        });
      }
      const paid = [
        { amount: 120_000, refunded: 0, at: monthStart.minus({ months: 2 }).plus({ days: 3 }) },
        { amount: 120_000, refunded: 20_000, at: monthStart.minus({ months: 1 }).plus({ days: 3 }) },
        { amount: 1_200_000, refunded: 0, at: monthStart.minus({ months: 13 }) }, // outside the 12 months, still revenue by plan
      ];
      for (const p of paid) {
        const inv: Omit<BillingInvoice, 'created_at' | 'updated_at'> = {
          _id: newId(), tenant_id: newId(), subscription_id: newId(), plan_id: monthlyPlan._id, source: 'fixture', number: null, sequence: null, status: 'paid', currency: 'XTS', lines: [],
          subtotal: p.amount, discount_total: 0, tax_rate_bps: 0, tax_total: 0, credit_applied: 0, total: p.amount, amount_paid: p.amount, amount_refunded: p.refunded, refunds: [], provider: 'manual',
          period_start: null, period_end: null, finalized_at: p.at.toJSDate(), paid_at: p.at.toJSDate(), payment_attempts: 0, first_failed_at: null, next_payment_attempt_at: null, last_payment_error: null, version: 1,
        };
        await billingInvoices.insert(inv);
      }
      const mrr = (await ops.call('GET', '/api/billing-admin/analytics/mrr')).body.data.find((r: { currency: string }) => r.currency === 'XTS');
      expect(mrr).to.deep.equal({ currency: 'XTS', mrr: 120_000 + exact(1_200_000, 1, 12) + 120_000, subscriptions: 3 });
      const byPlan = (await ops.call('GET', '/api/billing-admin/analytics/revenue-by-plan')).body.data.find((r: { plan_id: string }) => r.plan_id === monthlyPlan._id);
      expect(byPlan.revenue).to.equal(120_000 + 100_000 + 1_200_000);
      expect(byPlan.invoices).to.equal(3);
      const monthly = (await ops.call('GET', '/api/billing-admin/analytics/revenue-monthly')).body.data as { month: string; revenue: { currency: string; amount: number }[] }[];
      expect(monthly).to.have.length(12);
      expect(monthly[11]!.month).to.equal(monthStart.toFormat('yyyy-MM'));
      const xts = (m: number) => monthly.find((r) => r.month === monthStart.minus({ months: m }).toFormat('yyyy-MM'))?.revenue.find((r) => r.currency === 'XTS')?.amount ?? 0;
      expect([xts(2), xts(1), xts(0)]).to.deep.equal([120_000, 100_000, 0]);
      // Churn counts every currency: compare with the whole collection, computed here apart.
      const all = await BillingSubscriptionModel.find({}).lean().exec();
      const atStart = all.filter((s) => s.started_at < monthStart.toJSDate() && (s.ended_at === null || s.ended_at >= monthStart.toJSDate()));
      const churned = atStart.filter((s) => s.ended_at !== null).length;
      const churn = (await ops.call('GET', '/api/billing-admin/analytics/churn')).body;
      expect(churn.active_at_month_start).to.equal(atStart.length).and.to.be.at.least(4);
      expect(churn.churned).to.equal(churned).and.to.be.at.least(1);
      expect(churn.churn_rate_bps).to.equal(exact(churned, 10_000, atStart.length));
      const dashboard = (await ops.call('GET', '/api/billing-admin/analytics')).body;
      expect(dashboard.churn).to.deep.equal(churn);
      expect(dashboard.subscriptions.trialing).to.be.at.least(1);
    });
  });
});
