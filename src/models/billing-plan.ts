/** Billing plans: the platform operator's catalogue of what tenants can subscribe to. Not tenant-scoped. */
import { model } from 'mongoose';
import { baseSchema } from './base.js';
import { BillingSubscriptionModel } from './billing-subscription.js';
import { catalogueRepo, type CatalogueDoc } from './catalogue-repo.js';
import { LIMIT_KEYS, type TenantLimits } from './tenant.js';

/** A plan's limits, the same set a tenant has; null is unlimited. */
export type PlanLimits = TenantLimits;

/** Prices per interval in integer minor units of the plan's currency; null: not offered at that interval. */
export interface PlanPrices {
  monthly: number | null;
  yearly: number | null;
}

/** A stored billing plan. */
export interface BillingPlan extends CatalogueDoc {
  name: string;
  /** Lower-case slug, unique across the platform. */
  code: string;
  description: string;
  /** ISO 4217, upper case (e.g. IDR). */
  currency: string;
  prices: PlanPrices;
  trial_days: number;
  limits: PlanLimits;
  /** Archived plans stay on existing subscriptions and cannot be subscribed to. */
  status: 'active' | 'archived';
}

const nullableInt = { type: Number, default: null };

const schema = baseSchema<BillingPlan>(
  {
    name: { type: String, required: true },
    code: { type: String, required: true },
    description: { type: String, default: '' },
    currency: { type: String, required: true },
    prices: { type: { monthly: nullableInt, yearly: nullableInt, _id: false }, required: true },
    trial_days: { type: Number, required: true },
    limits: { type: { ...Object.fromEntries(LIMIT_KEYS.map((k) => [k, nullableInt])), _id: false }, required: true },
    status: { type: String, required: true, enum: ['active', 'archived'] },
  },
  'billing_plans',
);
// Serves findByCode; uniqueness is the claim (stale unique entries on the embedded engine).
schema.index({ code: 1 });
// Serves the operator's list (with or without its status filter) and the tenants' active plans.
schema.index({ status: 1, created_at: 1, _id: 1 });
schema.index({ created_at: 1, _id: 1 });

/** The billing_plans collection. */
export const BillingPlanModel = model<BillingPlan>('BillingPlan', schema);

/** Plans are coded by lower-case slugs. */
export const planCodeKey = (code: string): string => code.toLowerCase();

/** Data access for billing plans. */
export const billingPlans = catalogueRepo<BillingPlan>(BillingPlanModel, 'Billing plan', planCodeKey);

/**
 * True when any subscription (whatever its status: its invoices name the plan) is on the plan;
 * served by the subscriptions' `plan_id` index.
 */
export async function planHasSubscriptions(planId: string): Promise<boolean> {
  return (await BillingSubscriptionModel.exists({ plan_id: planId }).exec()) !== null;
}
