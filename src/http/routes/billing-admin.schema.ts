/** Schemas of the Billing Admin group's invoice and analytics endpoints. */
import { z } from 'zod';

const Minor = z.number().int();

/** POST /api/billing-admin/invoices/{id}/refund */
export const RefundBody = z.strictObject({
  amount: z.number().int('must be an integer of minor units').positive().max(Number.MAX_SAFE_INTEGER).optional().describe('Minor units; absent: everything paid and not yet refunded'),
  reason: z.string().trim().min(1).max(500).optional(),
});

/** MRR per currency. */
export const MrrBody = z.object({ data: z.array(z.object({ currency: z.string(), mrr: Minor, subscriptions: z.number().int() })) });

/** Net revenue per plan and currency. */
export const RevenueByPlanBody = z.object({
  data: z.array(z.object({ plan_id: z.string(), plan_code: z.string().nullable(), plan_name: z.string().nullable(), currency: z.string(), revenue: Minor, invoices: z.number().int() })),
});

/** Net revenue of each of the last 12 months. */
export const RevenueMonthlyBody = z.object({ data: z.array(z.object({ month: z.string().describe('YYYY-MM (UTC)'), revenue: z.array(z.object({ currency: z.string(), amount: Minor })) })) });

/** The current month's churn. */
export const ChurnBody = z.object({
  month: z.string(),
  active_at_month_start: z.number().int(),
  churned: z.number().int(),
  cancelled_this_month: z.number().int(),
  churn_rate_bps: z.number().int().describe('churned / active_at_month_start in basis points, rounded half up'),
});

/** Every figure. */
export const DashboardBody = z.object({
  mrr: MrrBody.shape.data,
  revenue_by_plan: RevenueByPlanBody.shape.data,
  revenue_monthly: RevenueMonthlyBody.shape.data,
  churn: ChurnBody,
  subscriptions: z.object({ trialing: z.number().int(), active: z.number().int(), past_due: z.number().int(), cancelled: z.number().int() }),
});
