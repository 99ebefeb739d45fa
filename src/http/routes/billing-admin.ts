/**
 * Billing Admin (the platform operator's realm): refunds, the manual provider's "mark paid", and
 * billing analytics from subscriptions and invoices. No tenant credential reaches these routes.
 */
import { InvoiceBody, presentInvoice } from '../../presenters/billing-subscription.js';
import { billingDashboard, churn, mrr, revenueByPlan, revenueMonthly } from '../../services/billing-analytics.js';
import { refundInvoice } from '../../services/billing-invoices.js';
import { markPaidByOperator } from '../../services/billing-payments.js';
import type { RouteGroup } from '../mount.js';
import { route, SUPER_ADMIN } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { ChurnBody, DashboardBody, MrrBody, RefundBody, RevenueByPlanBody, RevenueMonthlyBody } from './billing-admin.schema.js';

/** The Billing Admin group's invoice and analytics routes. */
export const billingAdminRoutes: RouteGroup = {
  group: 'Billing Admin',
  routes: [
    route({
      method: 'post',
      path: '/api/billing-admin/invoices/{id}/refund',
      summary: 'Refund an invoice',
      description: 'Full (no amount) or partial, in integer minor units, never above what was paid and not yet refunded; a full refund marks the invoice refunded. Recorded on the invoice.',
      access: SUPER_ADMIN,
      params: IdParams,
      body: RefundBody,
      response: InvoiceBody,
      errors: { 404: 'No such invoice', 409: 'The invoice changed meanwhile; try again', 422: 'Not paid (open, void, already refunded), or the amount is above what is left to refund (code refund_exceeds_paid)' },
      audit: 'none', // platform operator's action: recorded in the invoice's refunds
      handler: async ({ params, body, principal }) => presentInvoice(await refundInvoice({ id: params.id, amount: body.amount, reason: body.reason, by: principal.superAdminId })),
    }),
    route({
      method: 'post',
      path: '/api/billing-admin/invoices/{id}/mark-paid',
      summary: 'Mark an invoice paid (bank transfer received)',
      description: 'The manual / bank-transfer provider: the operator records that an open invoice’s total was received; a past_due subscription is active again.',
      access: SUPER_ADMIN,
      params: IdParams,
      response: InvoiceBody,
      errors: { 404: 'No such invoice', 422: 'The invoice is not open' },
      audit: 'none', // platform operator's action: paid_at records it
      handler: async ({ params }) => presentInvoice(await markPaidByOperator(params.id)),
    }),
    route({
      method: 'get',
      path: '/api/billing-admin/analytics',
      summary: 'Combined analytics dashboard',
      description: 'MRR, revenue by plan, the last 12 months’ revenue, this month’s churn and subscriptions by status; money per currency in integer minor units.',
      access: SUPER_ADMIN,
      response: DashboardBody,
      handler: () => billingDashboard(),
    }),
    route({
      method: 'get',
      path: '/api/billing-admin/analytics/mrr',
      summary: 'Monthly recurring revenue summary',
      description: 'Active and past-due subscriptions at list price per currency: monthly prices, yearly ones divided by 12 (rounded half up, per subscription). Trials and cancelled subscriptions count nothing.',
      access: SUPER_ADMIN,
      response: MrrBody,
      handler: async () => ({ data: await mrr() }),
    }),
    route({
      method: 'get',
      path: '/api/billing-admin/analytics/revenue-by-plan',
      summary: 'Revenue breakdown by plan',
      description: 'Every paid invoice’s amount paid minus refunded, by the plan it billed and currency, largest first.',
      access: SUPER_ADMIN,
      response: RevenueByPlanBody,
      handler: async () => ({ data: await revenueByPlan() }),
    }),
    route({
      method: 'get',
      path: '/api/billing-admin/analytics/revenue-monthly',
      summary: 'Monthly revenue over time (last 12 months)',
      description: 'Twelve UTC calendar months, the current one last; each invoice’s paid minus refunded counted in the month it was paid, per currency.',
      access: SUPER_ADMIN,
      response: RevenueMonthlyBody,
      handler: async () => ({ data: await revenueMonthly() }),
    }),
    route({
      method: 'get',
      path: '/api/billing-admin/analytics/churn',
      summary: 'Churn metrics for current month',
      description: 'Of the subscriptions live at the start of the current UTC month, how many ended since (rate in basis points), and every subscription that ended this month.',
      access: SUPER_ADMIN,
      response: ChurnBody,
      handler: () => churn(),
    }),
  ],
};
