/** Billing plans, coupons and add-ons as the API shows them; money in integer minor units. */
import { z } from 'zod';
import { ADDON_KINDS, type BillingAddon } from '../models/billing-addon.js';
import type { BillingCoupon } from '../models/billing-coupon.js';
import type { BillingPlan } from '../models/billing-plan.js';
import { iso } from './page.js';

const Minor = z.number().int();
const Limit = z.number().int().nullable();

/** A plan's limits; null is unlimited. */
export const PlanLimitsBody = z.object({
  agents: Limit.describe('Agents at most'),
  channel_accounts: Limit.describe('Connected channel accounts at most'),
  monthly_conversations: Limit.describe('Conversations opened per calendar month (tenant time zone) at most'),
  monthly_messages: Limit.describe('Messages per calendar month (tenant time zone) at most; outbound sends past it are refused'),
  monthly_ai_replies: Limit.describe('AI agent replies per calendar month at most'),
  storage_bytes: Limit.describe('Stored media bytes at most'),
});

/** The plan JSON shape. */
export const BillingPlanBody = z.object({
  id: z.uuid(),
  name: z.string(),
  code: z.string().describe('Lower-case slug, unique'),
  description: z.string(),
  currency: z.string().describe('ISO 4217'),
  prices: z.object({
    monthly: Minor.nullable().describe('Integer minor units of currency per month; null: not offered monthly'),
    yearly: Minor.nullable().describe('Integer minor units per year; null: not offered yearly'),
  }),
  trial_days: z.number().int(),
  limits: PlanLimitsBody,
  status: z.enum(['active', 'archived']),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a plan. */
export const presentBillingPlan = (p: BillingPlan): z.infer<typeof BillingPlanBody> => ({
  id: p._id,
  name: p.name,
  code: p.code,
  description: p.description,
  currency: p.currency,
  prices: { monthly: p.prices.monthly, yearly: p.prices.yearly },
  trial_days: p.trial_days,
  limits: { ...p.limits },
  status: p.status,
  created_at: iso(p.created_at) as string,
  updated_at: iso(p.updated_at) as string,
});

/** The coupon JSON shape. */
export const BillingCouponBody = z.object({
  id: z.uuid(),
  code: z.string().describe('Upper case, unique'),
  kind: z.enum(['percent', 'fixed']),
  percent_off: z.number().int().nullable(),
  amount_off: Minor.nullable().describe('Integer minor units of currency (fixed coupons)'),
  currency: z.string().nullable(),
  valid_from: z.iso.datetime().nullable(),
  valid_until: z.iso.datetime().nullable(),
  max_redemptions: z.number().int().nullable(),
  max_per_tenant: z.number().int().nullable(),
  plan_ids: z.array(z.uuid()).describe('Plans it applies to; empty: every plan'),
  duration: z.enum(['once', 'repeating', 'forever']),
  duration_months: z.number().int().nullable(),
  redemptions_count: z.number().int(),
  status: z.enum(['active', 'archived']),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a coupon. */
export const presentBillingCoupon = (c: BillingCoupon): z.infer<typeof BillingCouponBody> => ({
  id: c._id,
  code: c.code,
  kind: c.kind,
  percent_off: c.percent_off,
  amount_off: c.amount_off,
  currency: c.currency,
  valid_from: iso(c.valid_from),
  valid_until: iso(c.valid_until),
  max_redemptions: c.max_redemptions,
  max_per_tenant: c.max_per_tenant,
  plan_ids: [...c.plan_ids],
  duration: c.duration,
  duration_months: c.duration_months,
  redemptions_count: c.redemptions_count,
  status: c.status,
  created_at: iso(c.created_at) as string,
  updated_at: iso(c.updated_at) as string,
});

/** The add-on JSON shape. */
export const BillingAddonBody = z.object({
  id: z.uuid(),
  name: z.string(),
  code: z.string(),
  kind: z.enum(ADDON_KINDS),
  units: z.number().int().describe('How much one unit adds to its limit'),
  unit_price: Minor.describe('Integer minor units of currency per unit and interval'),
  currency: z.string(),
  interval: z.enum(['monthly', 'yearly']),
  status: z.enum(['active', 'archived']),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes an add-on. */
export const presentBillingAddon = (a: BillingAddon): z.infer<typeof BillingAddonBody> => ({
  id: a._id,
  name: a.name,
  code: a.code,
  kind: a.kind,
  units: a.units,
  unit_price: a.unit_price,
  currency: a.currency,
  interval: a.interval,
  status: a.status,
  created_at: iso(a.created_at) as string,
  updated_at: iso(a.updated_at) as string,
});

/** POST /api/billing/coupons/validate's answer. */
export const CouponValidationBody = z.object({
  valid: z.literal(true),
  coupon: BillingCouponBody,
  plan_id: z.uuid(),
  interval: z.enum(['monthly', 'yearly']),
  currency: z.string(),
  price: Minor.describe('The plan’s price at the interval, minor units'),
  discount: Minor.describe('What the coupon takes off the first invoice’s plan price, minor units (percent: rounded half up)'),
  total: Minor.describe('price - discount'),
});
