/**
 * Coupon redemption exactly once under concurrent use (overall and per tenant), and discounts in
 * integer minor units on amounts where float arithmetic answers wrong.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { billingCoupons, couponRedemptions, type BillingCoupon } from '../../src/models/billing-coupon.js';
import { billingPlans, type BillingPlan } from '../../src/models/billing-plan.js';
import { discountFor, redeemCoupon, validateCoupon } from '../../src/services/billing-coupons.js';
import { createCoupon, createPlan } from '../../src/services/billing-catalogue.js';

const unique = () => randomBytes(4).toString('hex').toUpperCase();

const newPlan = () =>
  createPlan({ name: 'Pro', code: `pro-${unique().toLowerCase()}`, description: '', currency: 'IDR', prices: { monthly: 19_999 }, trial_days: 0, limits: {}, status: 'active' });

const newCoupon = (over: Partial<BillingCoupon> = {}) =>
  createCoupon({
    code: `C-${unique()}`,
    kind: 'percent',
    percent_off: 10,
    amount_off: null,
    currency: null,
    valid_from: null,
    valid_until: null,
    max_redemptions: null,
    max_per_tenant: null,
    plan_ids: [],
    duration: 'once',
    duration_months: null,
    status: 'active',
    ...over,
  });

/** The reason code each settled redemption failed with. */
const reasons = (results: PromiseSettledResult<unknown>[]) => results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code);

describe('Coupon redemption', () => {
  let plan: BillingPlan;
  before(async () => {
    plan = await newPlan();
  });

  it('20 tenants redeeming at once a coupon with max_redemptions 3: exactly 3 succeed, 17 are told the maximum is reached', async () => {
    const coupon = await newCoupon({ max_redemptions: 3 });
    const tenants = Array.from({ length: 20 }, () => randomUUID());
    const results = await Promise.allSettled(tenants.map((t) => redeemCoupon(t, coupon.code, plan._id)));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(3);
    expect(reasons(results)).to.deep.equal(Array(17).fill('coupon_max_redemptions'));
    expect((await billingCoupons.findById(coupon._id)).redemptions_count).to.equal(3);
    const stored = await Promise.all(tenants.map((t) => couponRedemptions.count({ tenant_id: t, coupon_id: coupon._id })));
    expect(stored.reduce((a, b) => a + b, 0)).to.equal(3);
  });

  it('one tenant redeeming 10 times at once a coupon with max_per_tenant 1: exactly one redemption', async () => {
    const coupon = await newCoupon({ max_per_tenant: 1 });
    const tenant = randomUUID();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => redeemCoupon(tenant, coupon.code, plan._id)));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    expect(reasons(results)).to.deep.equal(Array(9).fill('coupon_already_used'));
    expect((await billingCoupons.findById(coupon._id)).redemptions_count).to.equal(1);
    expect(await couponRedemptions.count({ tenant_id: tenant, coupon_id: coupon._id })).to.equal(1);
  });

  it('max_per_tenant 2 with max_redemptions 3, 3 tenants x 3 concurrent: 3 in all, none over 2 per tenant', async () => {
    const coupon = await newCoupon({ max_per_tenant: 2, max_redemptions: 3 });
    const tenants = [randomUUID(), randomUUID(), randomUUID()];
    const results = await Promise.allSettled(tenants.flatMap((t) => [1, 2, 3].map(() => redeemCoupon(t, coupon.code, plan._id))));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(3);
    const perTenant = await Promise.all(tenants.map((t) => couponRedemptions.count({ tenant_id: t, coupon_id: coupon._id })));
    expect(perTenant.reduce((a, b) => a + b, 0)).to.equal(3);
    expect(Math.max(...perTenant)).to.be.at.most(2);
    expect((await billingCoupons.findById(coupon._id)).redemptions_count).to.equal(3);
  });

  it('names why a coupon does not apply: unknown, expired, not yet valid, not for this plan, archived', async () => {
    const tenant = randomUUID();
    const other = await newPlan();
    const cases: [Partial<BillingCoupon> | null, string][] = [
      [null, 'coupon_unknown'],
      [{ valid_until: new Date(Date.now() - 1000) }, 'coupon_expired'],
      [{ valid_from: new Date(Date.now() + 3600_000) }, 'coupon_not_yet_valid'],
      [{ plan_ids: [other._id] }, 'coupon_not_for_plan'],
      [{ status: 'archived' }, 'coupon_archived'],
      [{ kind: 'fixed', percent_off: null, amount_off: 5000, currency: 'USD' }, 'coupon_currency_mismatch'],
    ];
    for (const [over, reason] of cases) {
      const code = over ? (await newCoupon(over)).code : 'NOPE-NOPE';
      for (const check of [validateCoupon, redeemCoupon]) {
        const err = await check(tenant, code, plan._id).then(
          () => null,
          (e: { code: string; status: number; message: string }) => e,
        );
        expect(err, `${reason} via ${check.name}`).to.include({ code: reason });
        expect(err!.status).to.equal(reason === 'coupon_unknown' ? 404 : 422);
        expect(err!.message).to.include(over ? code : 'NOPE-NOPE');
      }
    }
  });

  it('validation claims nothing; a redemption is read back by its id', async () => {
    const coupon = await newCoupon({ max_redemptions: 1 });
    const tenant = randomUUID();
    await validateCoupon(tenant, coupon.code, plan._id);
    await validateCoupon(tenant, coupon.code, plan._id);
    expect((await billingCoupons.findById(coupon._id)).redemptions_count).to.equal(0);
    const { redemptionId, coupon: after } = await redeemCoupon(tenant, coupon.code.toLowerCase(), plan._id);
    expect(after.redemptions_count).to.equal(1);
    expect(await couponRedemptions.findOwned(tenant, redemptionId)).to.include({ coupon_id: coupon._id, plan_id: plan._id, n: 1 });
    await billingPlans.findById(plan._id);
  });
});

describe('discountFor: integer minor units, rounded half up', () => {
  const percent = (p: number) => ({ kind: 'percent' as const, percent_off: p, amount_off: null });

  it('gets right what floats get wrong', () => {
    // 47% of 2,150 IDR is 1,010.5 -> 1,011; in floats 2150 * 0.47 = 1010.4999999999999 -> 1,010.
    expect(Math.round(2_150 * 0.47)).to.equal(1_010);
    expect(discountFor(percent(47), 2_150)).to.equal(1_011);
    // 35% of 90 is 31.5 -> 32; floats: 90 * 0.35 = 31.499999999999996 -> 31.
    expect(Math.round(90 * 0.35)).to.equal(31);
    expect(discountFor(percent(35), 90)).to.equal(32);
    // 10% of 19,999 IDR is 1,999.9 -> 2,000.
    expect(discountFor(percent(10), 19_999)).to.equal(2_000);
    // Three 10% discounts of 1 unit each add to 0.30000000000000004 in floats; in integers 3 x 10% of 10 is exactly 3.
    expect(0.1 + 0.1 + 0.1).to.not.equal(0.3);
    expect([10, 10, 10].map((a) => discountFor(percent(10), a)).reduce((x, y) => x + y, 0)).to.equal(3);
  });

  it('is exact past 2^53 / 100 and never more than the amount', () => {
    const big = 9_007_199_254_740_991; // Number.MAX_SAFE_INTEGER: amount x percent overflows doubles
    expect(discountFor(percent(50), big)).to.equal(4_503_599_627_370_496); // 4,503,599,627,370,495.5 rounded half up
    expect(discountFor(percent(100), 19_999)).to.equal(19_999);
    expect(discountFor({ kind: 'fixed', percent_off: null, amount_off: 50_000 }, 19_999)).to.equal(19_999);
    expect(discountFor({ kind: 'fixed', percent_off: null, amount_off: 5_000 }, 19_999)).to.equal(5_000);
    expect(discountFor(percent(10), 0)).to.equal(0);
  });

  it('refuses amounts that are not integers of minor units', () => {
    expect(() => discountFor(percent(10), 199.99)).to.throw(RangeError);
    expect(() => discountFor(percent(10), -1)).to.throw(RangeError);
  });
});
