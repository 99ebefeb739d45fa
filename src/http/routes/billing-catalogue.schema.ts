/** Schemas of the billing catalogue: plans, coupons, add-ons (operator) and what tenants read of them. */
import { z } from 'zod';
import { ADDON_KINDS } from '../../models/billing-addon.js';
import { LIMIT_KEYS } from '../../models/tenant.js';
import { BillingAddonBody, BillingCouponBody, BillingPlanBody } from '../../presenters/billing-catalogue.js';
import { Id, PageQuery, pageOf } from '../schemas/common.js';

/** Integer minor units (IDR has no decimals in practice); never a fraction. */
const Minor = z.number().int('must be an integer number of minor units (no fractions)').min(0).max(1_000_000_000_000);
const Currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 currency code such as IDR')
  .transform((c) => c.toUpperCase());
const Slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a lower-case slug of letters, digits and single hyphens, e.g. pro-monthly');
const Name = z.string().trim().min(1, 'must not be empty').max(120);
const Status = z.enum(['active', 'archived']);
const Limit = z.number().int().min(0).max(1_000_000_000_000).nullable();
const Date_ = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' }).transform((d) => new Date(d));

const LimitsInput = z.strictObject(Object.fromEntries(LIMIT_KEYS.map((k) => [k, Limit.optional()])) as Record<(typeof LIMIT_KEYS)[number], z.ZodOptional<typeof Limit>>);

const PricesInput = z.strictObject({ monthly: Minor.nullable().optional(), yearly: Minor.nullable().optional() });

const nonEmpty = <T extends z.ZodObject>(schema: T) => schema.refine((v) => Object.keys(v).length > 0, { message: 'must set at least one field' });

/** GET lists: paging and an optional status. */
export const CatalogueListQuery = PageQuery.extend({ status: Status.optional() });

/** POST /api/billing-admin/plans */
export const CreatePlanBody = z
  .strictObject({
    name: Name,
    code: Slug,
    description: z.string().max(2000).default(''),
    currency: Currency,
    prices: PricesInput,
    trial_days: z.number().int().min(0).max(365).default(0),
    limits: LimitsInput.default({}),
    status: Status.default('active'),
  })
  .refine((p) => p.prices.monthly != null || p.prices.yearly != null, { path: ['prices'], message: 'must give a monthly or a yearly price' });

/** PATCH /api/billing-admin/plans/{id} */
export const UpdatePlanBody = nonEmpty(
  z.strictObject({
    name: Name.optional(),
    code: Slug.optional(),
    description: z.string().max(2000).optional(),
    currency: Currency.optional(),
    prices: PricesInput.optional(),
    trial_days: z.number().int().min(0).max(365).optional(),
    limits: LimitsInput.optional().describe('Only the keys given change; null lifts one'),
    status: Status.optional(),
  }),
);

const CouponCode = z
  .string()
  .regex(/^[A-Za-z0-9_-]{3,40}$/, 'must be 3 to 40 letters, digits, _ or -')
  .transform((c) => c.toUpperCase());

const couponFields = {
  kind: z.enum(['percent', 'fixed']),
  percent_off: z.number().int('must be a whole percent').min(1).max(100).nullable(),
  amount_off: Minor.min(1).nullable(),
  currency: Currency.nullable(),
  valid_from: Date_.nullable(),
  valid_until: Date_.nullable(),
  max_redemptions: z.number().int().min(1).max(100_000_000).nullable(),
  max_per_tenant: z.number().int().min(1).max(100_000).nullable(),
  plan_ids: z.array(Id).max(100),
  duration: z.enum(['once', 'repeating', 'forever']),
  duration_months: z.number().int().min(1).max(120).nullable(),
  status: Status,
};

/** POST /api/billing-admin/coupons (coherence of kind/amounts/duration is checked on the merged coupon by the service). */
export const CreateCouponBody = z.strictObject({
  code: CouponCode,
  kind: couponFields.kind,
  percent_off: couponFields.percent_off.default(null),
  amount_off: couponFields.amount_off.default(null),
  currency: couponFields.currency.default(null),
  valid_from: couponFields.valid_from.default(null),
  valid_until: couponFields.valid_until.default(null),
  max_redemptions: couponFields.max_redemptions.default(null),
  max_per_tenant: couponFields.max_per_tenant.default(null),
  plan_ids: couponFields.plan_ids.default([]),
  duration: couponFields.duration.default('once'),
  duration_months: couponFields.duration_months.default(null),
  status: couponFields.status.default('active'),
});

/** PATCH /api/billing-admin/coupons/{id} */
export const UpdateCouponBody = nonEmpty(
  z.strictObject({
    code: CouponCode.optional(),
    ...Object.fromEntries(Object.entries(couponFields).map(([k, v]) => [k, v.optional()])),
  } as { code: z.ZodOptional<typeof CouponCode> } & { [K in keyof typeof couponFields]: z.ZodOptional<(typeof couponFields)[K]> }),
);

const addonFields = {
  name: Name,
  code: Slug,
  kind: z.enum(ADDON_KINDS),
  units: z.number().int().min(1).max(1_000_000_000),
  unit_price: Minor,
  currency: Currency,
  interval: z.enum(['monthly', 'yearly']),
  status: Status,
};

/** POST /api/billing-admin/addons */
export const CreateAddonBody = z.strictObject({ ...addonFields, interval: addonFields.interval.default('monthly'), status: addonFields.status.default('active') });

/** PATCH /api/billing-admin/addons/{id} (no defaults: only what is given changes) */
export const UpdateAddonBody = nonEmpty(z.strictObject(addonFields).partial());

/** POST /api/billing/coupons/validate */
export const ValidateCouponBody = z.strictObject({
  code: CouponCode,
  plan_id: Id,
  interval: z.enum(['monthly', 'yearly']).default('monthly'),
});

export const BillingPlanPage = pageOf(BillingPlanBody);
export const BillingCouponPage = pageOf(BillingCouponBody);
export const BillingAddonPage = pageOf(BillingAddonBody);
