/**
 * Subscriptions: subscribe (with an optional coupon), change plan with proration, cancel, and
 * the renewal of periods that ended. Periods are calendar periods in the tenant's time zone;
 * money is integer minor units; every write is a compare-and-set on the subscription's version,
 * and every change writes tenant.limits = effectiveLimits(plan, add-ons), which the existing
 * enforcement reads. Invoices are written as drafts before the subscription changes and
 * finalized (numbered) after, so a refused change leaves no numbered invoice behind.
 */
import { DateTime } from 'luxon';
import { ConflictError, isDuplicateKey, NotFoundError, StateError } from '../errors.js';
import { naturalId, newId } from '../ids.js';
import { billingAddons } from '../models/billing-addon.js';
import { billingCoupons, type BillingCoupon } from '../models/billing-coupon.js';
import { BillingInvoiceModel, billingInvoices, deleteUnnumberedDraft, type BillingInvoice, type InvoiceLine } from '../models/billing-invoice.js';
import { billingPlans, type BillingPlan } from '../models/billing-plan.js';
import {
  casSubscription,
  dueSubscriptions,
  findSubscription,
  insertSubscription,
  subscriptionChanges,
  subscriptionIdOf,
  type BillingSubscription,
  type SubscriptionChange,
  type SubscriptionCoupon,
} from '../models/billing-subscription.js';
import { insertClaim } from '../models/driver.js';
import { findTenant, tenantLimits, updateTenant, type LimitKey, type Tenant } from '../models/tenant.js';
import { discountFor, redeemCoupon } from './billing-coupons.js';
import { buildInvoice, finalizeInvoice } from './billing-invoices.js';
import { collectInvoice } from './billing-payments.js';
import { effectiveLimits } from './billing-limits.js';
import { localDaysBetween, periodFrom, prorate, type BillingInterval } from './billing-proration.js';
import { usageOf, type TenantUsage } from './platform-tenants.js';

/** Who acts: the tenant and the user (null: the renewal sweep). */
interface Acting {
  tenantId: string;
  actorId: string | null;
}

/** A subscription with its plan, and the invoice the change made (if any). */
export interface SubscriptionResult {
  subscription: BillingSubscription;
  plan: BillingPlan;
  pendingPlan: BillingPlan | null;
  invoice: BillingInvoice | null;
}

export async function tenantOf(tenantId: string): Promise<Tenant> {
  const tenant = await findTenant(tenantId);
  if (!tenant) throw NotFoundError('Organization');
  return tenant;
}

async function subscribablePlan(planId: string, interval: BillingInterval): Promise<{ plan: BillingPlan; price: number }> {
  const plan = await billingPlans.findByIdOrNull(planId);
  if (!plan) throw NotFoundError('Billing plan');
  if (plan.status !== 'active') throw StateError(`The plan ${plan.code} is archived and cannot be subscribed to`);
  const price = plan.prices[interval];
  if (price === null) throw StateError(`The plan ${plan.code} is not offered ${interval}`);
  return { plan, price };
}

/** The limits the plan and the subscription's add-ons give. */
export async function limitsOf(plan: BillingPlan, addons: BillingSubscription['addons']) {
  const found = await billingAddons.findMany(addons.map((a) => a.addon_id));
  const byId = new Map(found.map((a) => [a._id, a]));
  return effectiveLimits(
    plan,
    addons.flatMap((a) => {
      const addon = byId.get(a.addon_id);
      return addon ? [{ kind: addon.kind, units: addon.units, quantity: a.quantity }] : [];
    }),
  );
}

export const writeLimits = async (tenantId: string, plan: BillingPlan, addons: BillingSubscription['addons']) => {
  await updateTenant(tenantId, { limits: await limitsOf(plan, addons) });
};

/** Records the change that wrote `sub`'s version (its `_id` is the change id: a second record of it is one entry). */
export async function recordChange(sub: BillingSubscription, change: Pick<SubscriptionChange, 'kind' | 'from_plan_id' | 'to_plan_id' | 'details' | 'actor_id'>): Promise<void> {
  try {
    await subscriptionChanges.insert({ _id: sub.last_change_id, tenant_id: sub.tenant_id, subscription_id: sub._id, ...change });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** The coupon as a subscription carries it once redeemed: how many invoices it still discounts. */
const couponOnSubscription = (c: BillingCoupon): SubscriptionCoupon => ({
  id: c._id,
  code: c.code,
  remaining_months: c.duration === 'forever' ? null : c.duration === 'once' ? 1 : (c.duration_months ?? 1),
});

/** The coupon after one invoice used it (null when it is used up). */
function couponAfterUse(c: SubscriptionCoupon | null): SubscriptionCoupon | null {
  if (!c || c.remaining_months === null) return c;
  return c.remaining_months <= 1 ? null : { ...c, remaining_months: c.remaining_months - 1 };
}

export const line = (kind: InvoiceLine['kind'], description: string, amount: number, period: { start: Date; end: Date } | null): InvoiceLine => ({
  kind,
  description,
  quantity: 1,
  unit_amount: amount,
  amount,
  period_start: period?.start ?? null,
  period_end: period?.end ?? null,
});

/** A period's plan line, its add-ons' lines and, while the coupon lasts, the discount on the plan price. */
async function periodLines(plan: BillingPlan, price: number, interval: BillingInterval, period: { start: Date; end: Date }, coupon: SubscriptionCoupon | null, addons: BillingSubscription['addons'] = []): Promise<InvoiceLine[]> {
  const lines = [line('plan', `${plan.name} (${interval})`, price, period)];
  const attached = await billingAddons.findMany(addons.map((a) => a.addon_id));
  for (const a of addons) {
    const addon = attached.find((x) => x._id === a.addon_id);
    if (addon) lines.push({ ...line('addon', `${addon.name} x ${a.quantity}`, addon.unit_price * a.quantity, period), quantity: a.quantity, unit_amount: addon.unit_price });
  }
  if (coupon) {
    const found = await billingCoupons.findByIdOrNull(coupon.id);
    const off = found ? discountFor(found, price) : 0;
    if (off > 0) lines.push(line('discount', `Coupon ${coupon.code}`, -off, period));
  }
  return lines;
}

/** Writes the draft, then the subscription; a refused subscription write removes the draft. */
export async function withDraft<T>(draft: Omit<BillingInvoice, 'created_at' | 'updated_at'> | null, write: () => Promise<T>): Promise<{ result: T; invoice: BillingInvoice | null }> {
  if (!draft) return { result: await write(), invoice: null };
  await billingInvoices.insert(draft);
  let result: T;
  try {
    result = await write();
  } catch (err) {
    await deleteUnnumberedDraft(draft._id);
    throw err;
  }
  await finalizeInvoice(draft._id);
  return { result, invoice: await collectInvoice(draft._id) };
}

export async function resultOf(subscription: BillingSubscription, invoice: BillingInvoice | null): Promise<SubscriptionResult> {
  const [plan, pendingPlan] = await Promise.all([billingPlans.findById(subscription.plan_id), subscription.pending_plan_id ? billingPlans.findByIdOrNull(subscription.pending_plan_id) : null]);
  return { subscription, plan, pendingPlan, invoice };
}

/** The tenant's current subscription and plan, or 404 when it never subscribed. */
export async function getSubscription(tenantId: string): Promise<SubscriptionResult> {
  const sub = await findSubscription(tenantId);
  if (!sub) throw NotFoundError('Subscription');
  return resultOf(sub, null);
}

/** Subscribe to a plan. */
export interface Subscribe extends Acting {
  planId: string;
  interval: BillingInterval;
  couponCode?: string | undefined;
}

/**
 * Subscribes the tenant (again, after a cancellation): a plan with trial days starts a trial
 * (no invoice; a returning tenant gets none), otherwise the first period is invoiced now.
 */
export async function subscribe(cmd: Subscribe, now = new Date()): Promise<SubscriptionResult> {
  const existing = await findSubscription(cmd.tenantId);
  if (existing && existing.status !== 'cancelled') throw ConflictError('The organization already has a subscription; change its plan with POST /api/billing/change-plan');
  const { plan, price } = await subscribablePlan(cmd.planId, cmd.interval);
  const tenant = await tenantOf(cmd.tenantId);
  const coupon = cmd.couponCode ? couponOnSubscription((await redeemCoupon(cmd.tenantId, cmd.couponCode, plan._id, now)).coupon) : null;
  const trial = plan.trial_days > 0 && !existing;
  const period = trial
    ? { start: now, end: DateTime.fromJSDate(now, { zone: tenant.timezone }).plus({ days: plan.trial_days }).toJSDate() }
    : periodFrom(now, cmd.interval, tenant.timezone);
  const id = subscriptionIdOf(cmd.tenantId);
  const changeId = newId();
  const draft = trial
    ? null
    : buildInvoice({
        id: newId(),
        tenantId: cmd.tenantId,
        subscriptionId: id,
        planId: plan._id,
        source: `change:${changeId}`,
        currency: plan.currency,
        lines: await periodLines(plan, price, cmd.interval, period, coupon),
        creditAvailable: existing?.credit_balance ?? 0,
        periodStart: period.start,
        periodEnd: period.end,
      });
  const fields = {
    plan_id: plan._id,
    interval: cmd.interval,
    status: trial ? ('trialing' as const) : ('active' as const),
    currency: plan.currency,
    current_period_start: period.start,
    current_period_end: period.end,
    trial_end: trial ? period.end : null,
    cancel_at_period_end: false,
    pending_plan_id: null,
    coupon: trial ? coupon : couponAfterUse(coupon),
    addons: [],
    credit_balance: (existing?.credit_balance ?? 0) + (draft?.credit_applied ?? 0),
    started_at: now,
    ended_at: null,
    last_change_id: changeId,
  };
  const { result: sub, invoice } = await withDraft(draft, async () => {
    if (existing) return casSubscription(existing, fields);
    const doc = { _id: id, tenant_id: cmd.tenantId, ...fields, version: 1 };
    if (!(await insertSubscription(doc))) throw ConflictError('The organization already has a subscription; change its plan with POST /api/billing/change-plan');
    return { ...doc, created_at: now, updated_at: now };
  });
  await writeLimits(cmd.tenantId, plan, sub.addons);
  await recordChange(sub, { kind: 'subscribed', from_plan_id: existing?.plan_id ?? null, to_plan_id: plan._id, details: { interval: cmd.interval, trial, coupon: coupon?.code ?? null, invoice_id: invoice?._id ?? null }, actor_id: cmd.actorId });
  return resultOf(sub, invoice);
}

export async function liveSubscription(tenantId: string): Promise<BillingSubscription> {
  const sub = await findSubscription(tenantId);
  if (!sub) throw NotFoundError('Subscription');
  if (sub.status === 'cancelled') throw StateError('The subscription is cancelled; subscribe again with POST /api/billing/subscribe');
  return sub;
}

/** Which usage figure each limit is checked against. */
export const USAGE_OF: Record<LimitKey, keyof Omit<TenantUsage, 'month'>> = {
  agents: 'agents',
  channel_accounts: 'channel_accounts',
  monthly_conversations: 'conversations_this_month',
  monthly_messages: 'messages_this_month',
  monthly_ai_replies: 'ai_replies_this_month',
  storage_bytes: 'storage_bytes',
};

/** Refuses a plan whose limits the tenant's current usage exceeds, naming the limit. */
export async function assertUsageFits(tenant: Tenant, plan: BillingPlan, addons: BillingSubscription['addons']): Promise<void> {
  const [limits, usage] = await Promise.all([limitsOf(plan, addons), usageOf(tenant)]);
  for (const key of Object.keys(USAGE_OF) as LimitKey[]) {
    const max = limits[key];
    const used = usage[USAGE_OF[key]];
    if (max !== null && used > max) {
      throw StateError(`The plan ${plan.code}${addons.length ? ' with its add-ons' : ''} allows ${max} for ${key}, and the organization uses ${used}; reduce it first`);
    }
  }
}

/** The current period's length and what is left of it from `now`, in local calendar days (today counts as left). */
export function periodDaysLeft(sub: BillingSubscription, zone: string, now: Date): { totalDays: number; remaining: number } {
  const totalDays = localDaysBetween(sub.current_period_start, sub.current_period_end, zone);
  return { totalDays, remaining: Math.min(totalDays, localDaysBetween(now, sub.current_period_end, zone)) };
}

/** The invoice of a change within the period (from now to the period's end), using the subscription's credit. */
export const midPeriodInvoice = (sub: BillingSubscription, planId: string, changeId: string, now: Date, lines: InvoiceLine[]) =>
  buildInvoice({
    id: newId(),
    tenantId: sub.tenant_id,
    subscriptionId: sub._id,
    planId,
    source: `change:${changeId}`,
    currency: sub.currency,
    lines,
    creditAvailable: sub.credit_balance,
    periodStart: now,
    periodEnd: sub.current_period_end,
  });

/** Change plan. */
export interface ChangePlan extends Acting {
  planId: string;
  /** now, or at the period's end; absent: an upgrade now, a downgrade at the period's end. */
  when?: 'now' | 'period_end' | undefined;
}

/**
 * Changes the plan (same interval). Now: the rest of the period is prorated by local days (the
 * unused share of the old price credited, the new price's share charged); an upgrade is
 * invoiced at once, a downgrade's difference becomes credit for the next invoices. At the
 * period's end: the plan is switched by the renewal. A downgrade the tenant's usage exceeds is
 * refused with the limit named.
 */
export async function changePlan(cmd: ChangePlan, now = new Date()): Promise<SubscriptionResult> {
  const sub = await liveSubscription(cmd.tenantId);
  if (sub.plan_id === cmd.planId && !sub.pending_plan_id) throw StateError('The subscription is already on this plan');
  const { plan, price } = await subscribablePlan(cmd.planId, sub.interval);
  if (plan.currency !== sub.currency) throw StateError(`The plan ${plan.code} is in ${plan.currency}; the subscription is billed in ${sub.currency}`);
  const [oldPlan, tenant] = await Promise.all([billingPlans.findById(sub.plan_id), tenantOf(cmd.tenantId)]);
  const oldPrice = oldPlan.prices[sub.interval] ?? 0;
  const upgrade = price >= oldPrice;
  if (!upgrade) await assertUsageFits(tenant, plan, sub.addons);
  const when = cmd.when ?? (upgrade ? 'now' : 'period_end');
  const changeId = newId();
  if (when === 'period_end' || sub.plan_id === plan._id) {
    const pending = sub.plan_id === plan._id ? null : plan._id;
    const next = await casSubscription(sub, { pending_plan_id: pending, last_change_id: changeId });
    await recordChange(next, { kind: 'plan_change_scheduled', from_plan_id: sub.plan_id, to_plan_id: plan._id, details: { at: sub.current_period_end.toISOString() }, actor_id: cmd.actorId });
    return resultOf(next, null);
  }
  const { totalDays, remaining } = periodDaysLeft(sub, tenant.timezone, now);
  const credit = sub.status === 'trialing' || totalDays === 0 ? 0 : prorate(oldPrice, remaining, totalDays);
  const charge = sub.status === 'trialing' || totalDays === 0 ? 0 : prorate(price, remaining, totalDays);
  const period = { start: now, end: sub.current_period_end };
  const draft =
    charge - credit > 0
      ? midPeriodInvoice(sub, plan._id, changeId, now, [
          line('proration', `Unused time on ${oldPlan.name} (${remaining} of ${totalDays} days)`, -credit, period),
          line('proration', `Remaining time on ${plan.name} (${remaining} of ${totalDays} days)`, charge, period),
        ])
      : null;
  const creditBalance = sub.credit_balance + (draft ? draft.credit_applied : credit - charge);
  const { result: next, invoice } = await withDraft(draft, () => casSubscription(sub, { plan_id: plan._id, pending_plan_id: null, credit_balance: creditBalance, last_change_id: changeId }));
  await writeLimits(cmd.tenantId, plan, next.addons);
  await recordChange(next, { kind: 'plan_changed', from_plan_id: oldPlan._id, to_plan_id: plan._id, details: { remaining_days: remaining, period_days: totalDays, credit, charge, invoice_id: invoice?._id ?? null }, actor_id: cmd.actorId });
  return resultOf(next, invoice);
}

/** Cancel. */
export interface Cancel extends Acting {
  when: 'now' | 'period_end';
}

/** Cancels now (the subscription ends at once) or at the period's end (the renewal ends it). */
export async function cancelSubscription(cmd: Cancel, now = new Date()): Promise<SubscriptionResult> {
  const sub = await liveSubscription(cmd.tenantId);
  const changeId = newId();
  const set: Partial<BillingSubscription> =
    cmd.when === 'now' ? { status: 'cancelled', ended_at: now, cancel_at_period_end: false, pending_plan_id: null, last_change_id: changeId } : { cancel_at_period_end: true, last_change_id: changeId };
  const next = await casSubscription(sub, set);
  await recordChange(next, { kind: cmd.when === 'now' ? 'cancelled' : 'cancel_scheduled', from_plan_id: sub.plan_id, to_plan_id: null, details: { at: (cmd.when === 'now' ? now : sub.current_period_end).toISOString() }, actor_id: cmd.actorId });
  return resultOf(next, null);
}

/**
 * Renews one subscription whose period (or trial) ended: a cancellation at the period's end
 * ends it; otherwise the scheduled plan applies, the next period is invoiced (the invoice's
 * `_id` is derived from the subscription and the period, so a second run invoices it once) and
 * the subscription moves on. Idempotent: a subscription already moved on is not due any more.
 */
async function renewOne(sub: BillingSubscription): Promise<void> {
  const changeId = naturalId('billing-renewal', sub._id, sub.current_period_end.toISOString());
  if (sub.cancel_at_period_end) {
    const next = await casSubscription(sub, { status: 'cancelled', ended_at: sub.current_period_end, cancel_at_period_end: false, last_change_id: changeId });
    await recordChange(next, { kind: 'cancelled', from_plan_id: sub.plan_id, to_plan_id: null, details: { at: sub.current_period_end.toISOString() }, actor_id: null });
    return;
  }
  const tenant = await tenantOf(sub.tenant_id);
  const plan = await billingPlans.findById(sub.pending_plan_id ?? sub.plan_id);
  const price = plan.prices[sub.interval] ?? 0;
  const period = periodFrom(sub.current_period_end, sub.interval, tenant.timezone);
  const draft = buildInvoice({
    id: naturalId('billing-invoice-renewal', sub._id, sub.current_period_end.toISOString()),
    tenantId: sub.tenant_id,
    subscriptionId: sub._id,
    planId: plan._id,
    source: `renewal:${sub.current_period_end.toISOString()}`,
    currency: sub.currency,
    lines: await periodLines(plan, price, sub.interval, period, sub.coupon, sub.addons),
    creditAvailable: sub.credit_balance,
    periodStart: period.start,
    periodEnd: period.end,
  });
  await insertClaim(BillingInvoiceModel, draft);
  const next = await casSubscription(sub, {
    plan_id: plan._id,
    pending_plan_id: null,
    status: sub.status === 'trialing' ? 'active' : sub.status,
    current_period_start: period.start,
    current_period_end: period.end,
    coupon: couponAfterUse(sub.coupon),
    credit_balance: sub.credit_balance + draft.credit_applied,
    last_change_id: changeId,
  });
  const invoice = (await collectInvoice((await finalizeInvoice(draft._id))._id)) as BillingInvoice;
  if (plan._id !== sub.plan_id) await writeLimits(sub.tenant_id, plan, next.addons);
  await recordChange(next, { kind: 'renewed', from_plan_id: sub.plan_id, to_plan_id: plan._id, details: { invoice_id: invoice._id, period_end: period.end.toISOString() }, actor_id: null });
}

/** What one renewal sweep did. */
export interface RenewalReport {
  renewed: number;
  failed: number;
}

/** Renews every subscription whose period ended by `now`, in pages of 100 (the renewal job). */
export async function renewDueSubscriptions(now = new Date()): Promise<RenewalReport> {
  const report: RenewalReport = { renewed: 0, failed: 0 };
  const due = await dueSubscriptions(now, 100);
  for (const sub of due) {
    try {
      await renewOne(sub);
      report.renewed++;
    } catch {
      // A concurrent change moved it (version conflict) or a plan is gone: the next sweep reads it again.
      report.failed++;
    }
  }
  return report;
}

/** Each limit the organization has, with its use this month. */
export async function billingUsage(tenantId: string) {
  const tenant = await tenantOf(tenantId);
  const usage = await usageOf(tenant);
  const limits = tenantLimits(tenant);
  return {
    month: usage.month,
    limits: (Object.keys(USAGE_OF) as LimitKey[]).map((name) => ({ name, limit: limits[name], used: usage[USAGE_OF[name]] })),
  };
}
