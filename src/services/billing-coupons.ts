/**
 * Coupon checks, redemption and discounts. Redemption is exactly once under concurrent use
 * (models/billing-coupon.ts explains the two claims); money is integer minor units throughout.
 */
import { AppError, NotFoundError, StateError } from '../errors.js';
import {
  billingCoupons,
  claimRedemption,
  countCouponRedemption,
  countTenantRedemptions,
  redemptionId,
  releaseRedemption,
  type BillingCoupon,
} from '../models/billing-coupon.js';
import { billingPlans, type BillingPlan } from '../models/billing-plan.js';

/** A coupon that cannot be used, with the reason as its `code` (unknown is a 404, the rest 422). */
const Refused = (reason: string, message: string) => new AppError(422, `coupon_${reason}`, message);

/** Why a coupon applies to no subscription to `plan` by this tenant now, or null when it applies. */
function refusalOf(coupon: BillingCoupon, plan: BillingPlan, tenantUses: number, now: Date): AppError | null {
  const code = coupon.code;
  if (coupon.status !== 'active') return Refused('archived', `Coupon ${code} is no longer active`);
  if (coupon.valid_from && now < coupon.valid_from) return Refused('not_yet_valid', `Coupon ${code} is not valid before ${coupon.valid_from.toISOString()}`);
  if (coupon.valid_until && now >= coupon.valid_until) return Refused('expired', `Coupon ${code} expired at ${coupon.valid_until.toISOString()}`);
  if (coupon.plan_ids.length > 0 && !coupon.plan_ids.includes(plan._id)) return Refused('not_for_plan', `Coupon ${code} does not apply to the plan ${plan.code}`);
  if (coupon.kind === 'fixed' && coupon.currency !== plan.currency) {
    return Refused('currency_mismatch', `Coupon ${code} is in ${coupon.currency}, the plan ${plan.code} in ${plan.currency}`);
  }
  if (coupon.max_redemptions !== null && coupon.redemptions_count >= coupon.max_redemptions) {
    return Refused('max_redemptions', `Coupon ${code} has reached its maximum of ${coupon.max_redemptions} redemptions`);
  }
  if (coupon.max_per_tenant !== null && tenantUses >= coupon.max_per_tenant) {
    return Refused('already_used', `Coupon ${code} was already used by this organization (${coupon.max_per_tenant} use${coupon.max_per_tenant === 1 ? '' : 's'} allowed)`);
  }
  return null;
}

/** A coupon checked for a tenant and plan, the plan, and the discount it gives on the plan's price. */
export interface ValidCoupon {
  coupon: BillingCoupon;
  plan: BillingPlan;
}

async function load(code: string, planId: string): Promise<ValidCoupon> {
  const [coupon, plan] = await Promise.all([billingCoupons.findByCode(code), billingPlans.findByIdOrNull(planId)]);
  if (!coupon) throw new AppError(404, 'coupon_unknown', `Coupon ${code} does not exist`);
  if (!plan) throw NotFoundError('Billing plan');
  return { coupon, plan };
}

/** Checks that the tenant may use the coupon on the plan now, without claiming it; throws the reason. */
export async function validateCoupon(tenantId: string, code: string, planId: string, now = new Date()): Promise<ValidCoupon> {
  const found = await load(code, planId);
  const refusal = refusalOf(found.coupon, found.plan, await countTenantRedemptions(tenantId, found.coupon._id), now);
  if (refusal) throw refusal;
  return found;
}

// With no per-tenant maximum, a tenant's next slot is its count + 1; a concurrent redemption by
// the same tenant taking it moves this one on to the next.
const MAX_SLOT_ATTEMPTS = 20;

/**
 * Redeems the coupon for the tenant on the plan, exactly once: takes the tenant's next
 * redemption slot (its `_id` is coupon + tenant + n), then one of the coupon's remaining
 * redemptions (a conditional increment); when the second is refused the slot is given back.
 * Throws the reason it cannot be used (the same as validateCoupon).
 */
export async function redeemCoupon(tenantId: string, code: string, planId: string, now = new Date()): Promise<{ coupon: BillingCoupon; redemptionId: string }> {
  const { coupon, plan } = await validateCoupon(tenantId, code, planId, now);
  const used = await countTenantRedemptions(tenantId, coupon._id);
  const lastSlot = coupon.max_per_tenant ?? used + MAX_SLOT_ATTEMPTS;
  let claimed: number | null = null;
  for (let n = used + 1; n <= lastSlot && claimed === null; n++) {
    if (await claimRedemption({ tenant_id: tenantId, coupon_id: coupon._id, plan_id: plan._id, n })) claimed = n;
  }
  if (claimed === null) throw refusalOf(coupon, plan, lastSlot, now) ?? StateError(`Coupon ${coupon.code} could not be redeemed; try again`);
  const id = redemptionId(coupon._id, tenantId, claimed);
  if (!(await countCouponRedemption(coupon._id, coupon.max_redemptions))) {
    await releaseRedemption(id);
    const current = await billingCoupons.findByIdOrNull(coupon._id);
    throw (current && refusalOf(current, plan, 0, now)) ?? Refused('max_redemptions', `Coupon ${coupon.code} has reached its maximum of ${coupon.max_redemptions} redemptions`);
  }
  return { coupon: await billingCoupons.findById(coupon._id), redemptionId: id };
}

/**
 * The discount the coupon gives on `amountMinor` (integer minor units), never more than the
 * amount. Percent: amount x percent / 100 in integers, rounded half up (to the nearer minor
 * unit, a half going to the customer), e.g. 47% of 2,150 is 1,010.5 -> 1,011, where
 * `Math.round(2150 * 0.47)` gives 1,010. Fixed: `amount_off`, capped at the amount.
 */
export function discountFor(coupon: Pick<BillingCoupon, 'kind' | 'percent_off' | 'amount_off'>, amountMinor: number): number {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) throw new RangeError(`amount must be a non-negative integer of minor units, got ${amountMinor}`);
  if (coupon.kind === 'fixed') return Math.min(coupon.amount_off ?? 0, amountMinor);
  const percent = coupon.percent_off ?? 0;
  // BigInt keeps amount x percent exact beyond 2^53 too; the result is at most the amount.
  const scaled = BigInt(amountMinor) * BigInt(percent);
  return Math.min(Number((scaled * 2n + 100n) / 200n), amountMinor);
}
