/**
 * Billing coupons (platform-wide, the operator's) and their redemptions (one per tenant use).
 *
 * A redemption is counted exactly once under concurrent use without a transaction (invariant 9):
 * - per tenant: the redemption's `_id` is derived from coupon + tenant + n, n = 1..max_per_tenant
 *   (invariant 10), so two concurrent redemptions by one tenant cannot take the same slot;
 * - overall: `redemptions_count` is raised by a single-document conditional write that only
 *   matches while it is below `max_redemptions` (atomic on every engine), so N concurrent
 *   redemptions of a coupon with 3 left raise it exactly 3 times.
 */
import { model } from 'mongoose';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { catalogueRepo, type CatalogueDoc } from './catalogue-repo.js';
import { collectionOf, findDocById, insertClaim } from './driver.js';
import { tenantRepo } from './repo.js';

/** A stored coupon. */
export interface BillingCoupon extends CatalogueDoc {
  /** Upper case, unique across the platform. */
  code: string;
  kind: 'percent' | 'fixed';
  /** 1..100 for a percent coupon, else null. */
  percent_off: number | null;
  /** Integer minor units of `currency` for a fixed coupon, else null. */
  amount_off: number | null;
  /** ISO 4217 of a fixed coupon (it only applies to amounts in that currency), else null. */
  currency: string | null;
  valid_from: Date | null;
  valid_until: Date | null;
  /** Redemptions allowed across all tenants; null: any number. */
  max_redemptions: number | null;
  /** Redemptions allowed per tenant; null: any number. */
  max_per_tenant: number | null;
  /** Plans it applies to; empty: every plan. */
  plan_ids: string[];
  /** How many invoices the discount applies to: the first, `duration_months` months, or all. */
  duration: 'once' | 'repeating' | 'forever';
  duration_months: number | null;
  redemptions_count: number;
  status: 'active' | 'archived';
}

const nullable = (type: unknown) => ({ type, default: null });

const schema = baseSchema<BillingCoupon>(
  {
    code: { type: String, required: true },
    kind: { type: String, required: true, enum: ['percent', 'fixed'] },
    percent_off: nullable(Number),
    amount_off: nullable(Number),
    currency: nullable(String),
    valid_from: nullable(Date),
    valid_until: nullable(Date),
    max_redemptions: nullable(Number),
    max_per_tenant: nullable(Number),
    plan_ids: { type: [String], default: [] },
    duration: { type: String, required: true, enum: ['once', 'repeating', 'forever'] },
    duration_months: nullable(Number),
    redemptions_count: { type: Number, required: true },
    status: { type: String, required: true, enum: ['active', 'archived'] },
  },
  'billing_coupons',
);
// Serves findByCode (redeem, validate); uniqueness is the claim.
schema.index({ code: 1 });
// Serves the operator's list, with or without its status filter.
schema.index({ status: 1, created_at: 1, _id: 1 });
schema.index({ created_at: 1, _id: 1 });

/** The billing_coupons collection. */
export const BillingCouponModel = model<BillingCoupon>('BillingCoupon', schema);

/** Coupon codes compare upper-cased. */
export const couponCodeKey = (code: string): string => code.toUpperCase();

/** Data access for coupons. */
export const billingCoupons = catalogueRepo<BillingCoupon>(BillingCouponModel, 'Coupon', couponCodeKey);

/**
 * Raises the coupon's redemption count unless `max` is reached (or the coupon is no longer
 * active); true when this call counted one. `max` is the value read from the coupon: a change of
 * it meanwhile is an operator's edit, and the count still never passes the value filtered on.
 */
export async function countCouponRedemption(couponId: string, max: number | null): Promise<boolean> {
  const filter = { _id: couponId, status: 'active', ...(max === null ? {} : { redemptions_count: { $lt: max } }) };
  const res = await collectionOf(BillingCouponModel).updateOne(filter, { $inc: { redemptions_count: 1 }, $set: { updated_at: new Date() } });
  return res.modifiedCount === 1;
}

/** Gives back a count taken by countCouponRedemption (its redemption could not be recorded). */
export async function uncountCouponRedemption(couponId: string): Promise<void> {
  await collectionOf(BillingCouponModel).updateOne({ _id: couponId, redemptions_count: { $gt: 0 } }, { $inc: { redemptions_count: -1 } });
}

/** One tenant's use of a coupon. */
export interface CouponRedemption extends TenantDoc {
  coupon_id: string;
  /** The plan it was redeemed for. */
  plan_id: string;
  /** This tenant's n-th redemption of the coupon (1-based): part of the `_id`. */
  n: number;
}

const redemptionSchema = baseSchema<CouponRedemption>(
  {
    tenant_id: { type: String, required: true },
    coupon_id: { type: String, required: true },
    plan_id: { type: String, required: true },
    n: { type: Number, required: true },
  },
  'billing_coupon_redemptions',
);
// Serves a tenant's count of one coupon's redemptions, and a tenant's redemptions newest first.
redemptionSchema.index({ tenant_id: 1, coupon_id: 1, n: 1 });
redemptionSchema.index({ tenant_id: 1, created_at: -1, _id: -1 });

/** The billing_coupon_redemptions collection. */
export const CouponRedemptionModel = model<CouponRedemption>('BillingCouponRedemption', redemptionSchema);

/** Tenant-scoped data access for redemptions. */
export const couponRedemptions = tenantRepo<CouponRedemption>(CouponRedemptionModel, 'Coupon redemption');

/** The natural id of a tenant's n-th redemption of a coupon. */
export const redemptionId = (couponId: string, tenantId: string, n: number): string => naturalId('billing-coupon-redemption', couponId, tenantId, String(n));

/** Takes the tenant's n-th redemption slot of the coupon; false when it was taken. */
export const claimRedemption = (doc: Omit<CouponRedemption, '_id' | 'created_at' | 'updated_at'>): Promise<boolean> =>
  insertClaim(CouponRedemptionModel, { ...doc, _id: redemptionId(doc.coupon_id, doc.tenant_id, doc.n) });

/** A redemption by id, or null (read by `_id`, the embedded engine's cheapest lookup). */
export const findRedemption = (id: string) => findDocById<CouponRedemption>(CouponRedemptionModel as never, id);

/** Removes a redemption slot taken by a redemption that then failed; only that one. */
export async function releaseRedemption(id: string): Promise<void> {
  await CouponRedemptionModel.deleteOne({ _id: id }).exec();
}

/** How many times the tenant has redeemed the coupon. */
export const countTenantRedemptions = (tenantId: string, couponId: string) => couponRedemptions.count({ tenant_id: tenantId, coupon_id: couponId });
