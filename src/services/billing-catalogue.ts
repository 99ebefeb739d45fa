/**
 * The billing catalogue the platform operator keeps (plans, coupons, add-ons) and what tenants
 * see of it. Money is integer minor units; codes are unique through the repositories' claims.
 */
import { assertNoFieldIssues, ConflictError, NotFoundError, StateError, type FieldIssue } from '../errors.js';
import { newId } from '../ids.js';
import { billingAddons, type BillingAddon } from '../models/billing-addon.js';
import { billingCoupons, type BillingCoupon } from '../models/billing-coupon.js';
import { billingPlans, planHasSubscriptions, type BillingPlan } from '../models/billing-plan.js';
import type { Page } from '../models/repo.js';
import { LIMIT_KEYS, type TenantLimits } from '../models/tenant.js';
import { discountFor, validateCoupon } from './billing-coupons.js';

type Status = 'active' | 'archived';

/** A list query: paging and an optional status. */
export interface CatalogueQuery {
  page: number;
  limit: number;
  status?: Status | undefined;
}

const OLDEST_FIRST = { created_at: 1, _id: 1 } as const;

async function pageOf<T>(repo: { page(f: Record<string, unknown>, s: Record<string, 1 | -1>, p: number, l: number): Promise<{ items: T[]; total: number }> }, q: CatalogueQuery): Promise<Page<T>> {
  const { items, total } = await repo.page(q.status ? { status: q.status } : {}, OLDEST_FIRST, q.page, q.limit);
  return { items, total, page: q.page, limit: q.limit };
}

const withoutUndefined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

// ---- Plans ----

/** A plan as given on create. */
export interface PlanInput {
  name: string;
  code: string;
  description: string;
  currency: string;
  prices: { monthly?: number | null | undefined; yearly?: number | null | undefined };
  trial_days: number;
  limits: Partial<Record<keyof TenantLimits, number | null | undefined>>;
  status: Status;
}

const limitsOf = (given: PlanInput['limits'], base?: TenantLimits): TenantLimits =>
  Object.fromEntries(LIMIT_KEYS.map((k) => [k, given[k] === undefined ? (base?.[k] ?? null) : given[k]])) as TenantLimits;

export const listPlans = (q: CatalogueQuery) => pageOf(billingPlans, q);

/** The active plans, oldest first (what a tenant can subscribe to). */
export const listActivePlans = (q: Omit<CatalogueQuery, 'status'>) => pageOf(billingPlans, { ...q, status: 'active' });

export const getPlan = (id: string) => billingPlans.findById(id);

export const createPlan = (input: PlanInput): Promise<BillingPlan> =>
  billingPlans.insert({
    _id: newId(),
    name: input.name,
    code: input.code,
    description: input.description,
    currency: input.currency,
    prices: { monthly: input.prices.monthly ?? null, yearly: input.prices.yearly ?? null },
    trial_days: input.trial_days,
    limits: limitsOf(input.limits),
    status: input.status,
  });

/** Changes a plan; prices and limits merge key by key. A plan keeps at least one price. */
export async function updatePlan(id: string, patch: Partial<PlanInput>): Promise<BillingPlan> {
  const plan = await billingPlans.findById(id);
  const { prices, limits, ...rest } = patch;
  const set: Partial<BillingPlan> = withoutUndefined(rest);
  if (prices) {
    set.prices = { ...plan.prices, ...withoutUndefined(prices) } as BillingPlan['prices'];
    if (set.prices.monthly === null && set.prices.yearly === null) assertNoFieldIssues([{ in: 'body', field: 'prices', message: 'must leave a monthly or a yearly price' }]);
  }
  if (limits) set.limits = limitsOf(limits, plan.limits);
  return billingPlans.update(id, set);
}

/** Deletes a plan no subscription is on; one in use answers 409 (archive it instead). */
export async function deletePlan(id: string): Promise<BillingPlan> {
  const plan = await billingPlans.findById(id);
  if (await planHasSubscriptions(id)) {
    throw ConflictError(`The plan ${plan.code} is in use by subscriptions and cannot be deleted; archive it instead (PATCH status: archived)`);
  }
  if (!(await billingPlans.remove(id))) throw NotFoundError('Billing plan');
  return plan;
}

// ---- Coupons ----

/** A coupon as stored, minus what the server keeps. */
export type CouponInput = Omit<BillingCoupon, '_id' | 'redemptions_count' | 'created_at' | 'updated_at'>;

/** What is incoherent about a coupon (as it would be stored after a create or a patch). */
async function couponIssues(c: CouponInput): Promise<FieldIssue[]> {
  const issues: FieldIssue[] = [];
  const issue = (field: string, message: string) => issues.push({ in: 'body', field, message });
  if (c.kind === 'percent') {
    if (c.percent_off === null) issue('percent_off', 'is required for a percent coupon (1 to 100)');
    if (c.amount_off !== null) issue('amount_off', 'must be null for a percent coupon');
  } else {
    if (c.amount_off === null) issue('amount_off', 'is required for a fixed coupon (integer minor units)');
    if (c.currency === null) issue('currency', 'is required for a fixed coupon');
    if (c.percent_off !== null) issue('percent_off', 'must be null for a fixed coupon');
  }
  if (c.duration === 'repeating' && c.duration_months === null) issue('duration_months', 'is required when duration is repeating');
  if (c.duration !== 'repeating' && c.duration_months !== null) issue('duration_months', 'must be null unless duration is repeating');
  if (c.valid_from && c.valid_until && c.valid_until <= c.valid_from) issue('valid_until', 'must be after valid_from');
  if (c.plan_ids.length > 0) {
    const found = new Set((await billingPlans.findMany(c.plan_ids)).map((p) => p._id));
    const missing = c.plan_ids.filter((p) => !found.has(p));
    if (missing.length) issue('plan_ids', `names plans that do not exist: ${missing.join(', ')}`);
  }
  return issues;
}

export const listCoupons = (q: CatalogueQuery) => pageOf(billingCoupons, q);

export async function createCoupon(input: CouponInput): Promise<BillingCoupon> {
  const coupon = { ...input, plan_ids: [...new Set(input.plan_ids)] };
  assertNoFieldIssues(await couponIssues(coupon));
  return billingCoupons.insert({ _id: newId(), ...coupon, redemptions_count: 0 });
}

/** Changes a coupon; the result must be coherent as a whole (a fixed coupon keeps its amount...). */
export async function updateCoupon(id: string, patch: Partial<CouponInput>): Promise<BillingCoupon> {
  const current = await billingCoupons.findById(id);
  const set = withoutUndefined(patch);
  if (set.plan_ids) set.plan_ids = [...new Set(set.plan_ids)];
  const { _id, redemptions_count, created_at, updated_at, ...before } = current;
  assertNoFieldIssues(await couponIssues({ ...before, ...set }));
  return billingCoupons.update(id, set);
}

/** Deletes a coupon never redeemed; a redeemed one stays (invoices and subscriptions name it): archive it. */
export async function deleteCoupon(id: string): Promise<BillingCoupon> {
  const coupon = await billingCoupons.findById(id);
  if (coupon.redemptions_count > 0) {
    throw ConflictError(`Coupon ${coupon.code} has been redeemed ${coupon.redemptions_count} time(s) and cannot be deleted; archive it instead (PATCH status: archived)`);
  }
  if (!(await billingCoupons.remove(id))) throw NotFoundError('Coupon');
  return coupon;
}

/** What a coupon takes off a plan's price at an interval, for a tenant (checked, not claimed). */
export async function quoteCoupon(tenantId: string, code: string, planId: string, interval: 'monthly' | 'yearly') {
  const { coupon, plan } = await validateCoupon(tenantId, code, planId);
  const price = plan.prices[interval];
  if (price === null) throw StateError(`The plan ${plan.code} has no ${interval} price`);
  const discount = discountFor(coupon, price);
  return { coupon, plan, interval, price, discount, total: price - discount };
}

// ---- Add-ons ----

/** An add-on as given. */
export type AddonInput = Omit<BillingAddon, '_id' | 'created_at' | 'updated_at'>;

export const listAddons = (q: CatalogueQuery) => pageOf(billingAddons, q);

export const listActiveAddons = (q: Omit<CatalogueQuery, 'status'>) => pageOf(billingAddons, { ...q, status: 'active' });

export const createAddon = (input: AddonInput) => billingAddons.insert({ _id: newId(), ...input });

export async function updateAddon(id: string, patch: Partial<AddonInput>): Promise<BillingAddon> {
  return billingAddons.update(id, withoutUndefined(patch));
}

export async function deleteAddon(id: string): Promise<BillingAddon> {
  const addon = await billingAddons.findById(id);
  if (!(await billingAddons.remove(id))) throw NotFoundError('Add-on');
  return addon;
}
