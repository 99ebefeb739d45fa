/**
 * The platform operator's billing figures, from subscriptions and invoices, per currency (sums
 * of different currencies mean nothing), in integer minor units. Months are UTC calendar months
 * (the platform's, not a tenant's). Reads every subscription and the paid invoices of the
 * window: fine for the platform's scale today; a roll-up would replace it past some thousands.
 */
import { DateTime } from 'luxon';
import { paidInvoicesBetween } from '../models/billing-invoice.js';
import { billingPlans } from '../models/billing-plan.js';
import { subscriptionsForAnalytics } from '../models/billing-subscription.js';
import { mulDivHalfUp } from './billing-proration.js';

/** MRR of one currency. */
export interface MrrFigure {
  currency: string;
  /** Monthly recurring revenue at list price: monthly prices, and yearly ones / 12 rounded half up. */
  mrr: number;
  subscriptions: number;
}

/** Active and past-due subscriptions' monthly value (trials and cancelled ones bring none). */
export async function mrr(): Promise<MrrFigure[]> {
  const subs = (await subscriptionsForAnalytics()).filter((s) => s.status === 'active' || s.status === 'past_due');
  const plans = new Map((await billingPlans.findMany(subs.map((s) => s.plan_id))).map((p) => [p._id, p]));
  const byCurrency = new Map<string, MrrFigure>();
  for (const s of subs) {
    const price = plans.get(s.plan_id)?.prices[s.interval] ?? 0;
    const monthly = s.interval === 'yearly' ? mulDivHalfUp(price, 1, 12) : price;
    const figure = byCurrency.get(s.currency) ?? { currency: s.currency, mrr: 0, subscriptions: 0 };
    figure.mrr += monthly;
    figure.subscriptions += 1;
    byCurrency.set(s.currency, figure);
  }
  return [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

/** Net revenue (paid minus refunded) of one plan in one currency. */
export interface PlanRevenue {
  plan_id: string;
  plan_code: string | null;
  plan_name: string | null;
  currency: string;
  revenue: number;
  invoices: number;
}

/** Net revenue of every paid invoice, by plan and currency, largest first. */
export async function revenueByPlan(now = new Date()): Promise<PlanRevenue[]> {
  const invoices = await paidInvoicesBetween(new Date(0), now);
  const plans = new Map((await billingPlans.findMany(invoices.map((i) => i.plan_id))).map((p) => [p._id, p]));
  const rows = new Map<string, PlanRevenue>();
  for (const inv of invoices) {
    const key = `${inv.plan_id}|${inv.currency}`;
    const plan = plans.get(inv.plan_id);
    const row = rows.get(key) ?? { plan_id: inv.plan_id, plan_code: plan?.code ?? null, plan_name: plan?.name ?? null, currency: inv.currency, revenue: 0, invoices: 0 };
    row.revenue += inv.amount_paid - inv.amount_refunded;
    row.invoices += 1;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.revenue - a.revenue || a.plan_id.localeCompare(b.plan_id));
}

/** One month's net revenue per currency. */
export interface MonthRevenue {
  month: string;
  revenue: { currency: string; amount: number }[];
}

/** The last 12 UTC months (the current one last), each invoice counted in the month it was paid. */
export async function revenueMonthly(now = new Date()): Promise<MonthRevenue[]> {
  const current = DateTime.fromJSDate(now, { zone: 'utc' }).startOf('month');
  const first = current.minus({ months: 11 });
  const invoices = await paidInvoicesBetween(first.toJSDate(), current.plus({ months: 1 }).toJSDate());
  const months = Array.from({ length: 12 }, (_, i) => first.plus({ months: i }).toFormat('yyyy-MM'));
  const sums = new Map(months.map((m) => [m, new Map<string, number>()]));
  for (const inv of invoices) {
    const month = DateTime.fromJSDate(inv.paid_at as Date, { zone: 'utc' }).toFormat('yyyy-MM');
    const byCurrency = sums.get(month);
    if (byCurrency) byCurrency.set(inv.currency, (byCurrency.get(inv.currency) ?? 0) + inv.amount_paid - inv.amount_refunded);
  }
  return months.map((month) => ({
    month,
    revenue: [...(sums.get(month) ?? new Map<string, number>()).entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount })),
  }));
}

/** The current month's churn. */
export interface Churn {
  month: string;
  /** Subscriptions started before the month and not ended before it. */
  active_at_month_start: number;
  /** Of those, how many ended this month. */
  churned: number;
  /** Every subscription that ended this month (also ones started within it). */
  cancelled_this_month: number;
  /** churned / active_at_month_start in basis points (1,250 = 12.5%), rounded half up; 0 with none at the start. */
  churn_rate_bps: number;
}

/** Churn of the current UTC month, from subscriptions' start and end times. */
export async function churn(now = new Date()): Promise<Churn> {
  const start = DateTime.fromJSDate(now, { zone: 'utc' }).startOf('month').toJSDate();
  const subs = await subscriptionsForAnalytics();
  const atStart = subs.filter((s) => s.started_at < start && (s.ended_at === null || s.ended_at >= start));
  const churned = atStart.filter((s) => s.ended_at !== null && s.ended_at <= now).length;
  return {
    month: DateTime.fromJSDate(start, { zone: 'utc' }).toFormat('yyyy-MM'),
    active_at_month_start: atStart.length,
    churned,
    cancelled_this_month: subs.filter((s) => s.ended_at !== null && s.ended_at >= start && s.ended_at <= now).length,
    churn_rate_bps: atStart.length === 0 ? 0 : mulDivHalfUp(churned, 10_000, atStart.length),
  };
}

/** Every figure at once, with subscriptions counted by status. */
export async function billingDashboard(now = new Date()) {
  const [m, byPlan, monthly, c, subs] = await Promise.all([mrr(), revenueByPlan(now), revenueMonthly(now), churn(now), subscriptionsForAnalytics()]);
  const byStatus = { trialing: 0, active: 0, past_due: 0, cancelled: 0 };
  for (const s of subs) byStatus[s.status] += 1;
  return { mrr: m, revenue_by_plan: byPlan, revenue_monthly: monthly, churn: c, subscriptions: byStatus };
}
