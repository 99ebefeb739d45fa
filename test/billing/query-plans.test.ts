/** The catalogue's and usage's lookups scan an index, never the collection. */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Model } from 'mongoose';
import { BillingAddonModel } from '../../src/models/billing-addon.js';
import { BillingCouponModel, CouponRedemptionModel } from '../../src/models/billing-coupon.js';
import { BillingPlanModel } from '../../src/models/billing-plan.js';
import { BillingSubscriptionModel } from '../../src/models/billing-subscription.js';
import { BillingUsageModel } from '../../src/models/billing-usage.js';
import { indexesUsed } from '../support/query-plans.js';

const OLDEST_FIRST = { created_at: 1, _id: 1 } as const;

describe('Billing catalogue query plans', () => {
  before(async () => {
    await Promise.all([BillingPlanModel, BillingCouponModel, BillingAddonModel, CouponRedemptionModel, BillingUsageModel, BillingSubscriptionModel].map((m) => (m as unknown as Model<never>).createIndexes()));
  });

  for (const [name, model] of [
    ['billing_plans', BillingPlanModel],
    ['billing_coupons', BillingCouponModel],
    ['billing_addons', BillingAddonModel],
  ] as const) {
    it(`${name}: the list with and without its status filter, and the lookup by code`, async () => {
      const m = model as unknown as Model<never>;
      expect(await indexesUsed(m, { status: 'active' }, OLDEST_FIRST)).to.not.be.empty;
      expect(await indexesUsed(m, {}, OLDEST_FIRST)).to.not.be.empty;
      expect(await indexesUsed(m, { code: 'PRO' }, {}, 1)).to.not.be.empty;
    });
  }

  it('a tenant’s redemptions of a coupon, a tenant’s usage months, and a plan’s subscriptions', async () => {
    expect(await indexesUsed(CouponRedemptionModel as unknown as Model<never>, { tenant_id: randomUUID(), coupon_id: randomUUID() })).to.not.be.empty;
    expect(await indexesUsed(BillingUsageModel as unknown as Model<never>, { tenant_id: randomUUID() }, { month: -1 })).to.not.be.empty;
    expect(await indexesUsed(BillingSubscriptionModel as unknown as Model<never>, { plan_id: randomUUID() }, {}, 1)).to.not.be.empty;
  });
});
