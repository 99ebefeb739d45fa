/** Subscriptions and invoices as the API shows them; money in integer minor units. */
import { z } from 'zod';
import { INVOICE_STATUSES, LINE_KINDS, type BillingInvoice } from '../models/billing-invoice.js';
import type { BillingPaymentMethod } from '../models/billing-payment-method.js';
import { SUBSCRIPTION_STATUSES } from '../models/billing-subscription.js';
import type { SubscriptionResult } from '../services/billing-subscriptions.js';
import { BillingPlanBody, presentBillingPlan } from './billing-catalogue.js';
import { iso } from './page.js';

const Minor = z.number().int();

/** An invoice line. */
const InvoiceLineBody = z.object({
  kind: z.enum(LINE_KINDS),
  description: z.string(),
  quantity: z.number().int(),
  unit_amount: Minor,
  amount: Minor.describe('Signed: credits and discounts are negative'),
  period_start: z.iso.datetime().nullable(),
  period_end: z.iso.datetime().nullable(),
});

/** The invoice JSON shape. */
export const InvoiceBody = z.object({
  id: z.uuid(),
  number: z.string().nullable().describe('INV-000001..., given without gaps when the invoice is finalized'),
  status: z.enum(INVOICE_STATUSES),
  currency: z.string(),
  plan_id: z.uuid(),
  lines: z.array(InvoiceLineBody),
  subtotal: Minor,
  discount_total: Minor,
  tax_rate_bps: z.number().int().describe('Tax rate in basis points (1100 = 11%)'),
  tax_total: Minor,
  credit_applied: Minor,
  total: Minor,
  amount_paid: Minor,
  amount_refunded: Minor,
  refunds: z.array(z.object({ id: z.uuid(), amount: Minor, reason: z.string().nullable(), at: z.iso.datetime() })),
  provider: z.enum(['manual', 'stripe']).describe('manual: paid by bank transfer, marked by the operator; stripe: charged to the default card'),
  payment_attempts: z.number().int(),
  next_payment_attempt_at: z.iso.datetime().nullable().describe('When a failed card payment is retried; null: none scheduled'),
  last_payment_error: z.string().nullable(),
  period_start: z.iso.datetime().nullable(),
  period_end: z.iso.datetime().nullable(),
  finalized_at: z.iso.datetime().nullable(),
  paid_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
});

/** Shapes an invoice. */
export const presentInvoice = (inv: BillingInvoice): z.infer<typeof InvoiceBody> => ({
  id: inv._id,
  number: inv.number,
  status: inv.status,
  currency: inv.currency,
  plan_id: inv.plan_id,
  lines: inv.lines.map((l) => ({ kind: l.kind, description: l.description, quantity: l.quantity, unit_amount: l.unit_amount, amount: l.amount, period_start: iso(l.period_start), period_end: iso(l.period_end) })),
  subtotal: inv.subtotal,
  discount_total: inv.discount_total,
  tax_rate_bps: inv.tax_rate_bps,
  tax_total: inv.tax_total,
  credit_applied: inv.credit_applied,
  total: inv.total,
  amount_paid: inv.amount_paid,
  amount_refunded: inv.amount_refunded,
  refunds: inv.refunds.map((r) => ({ id: r.id, amount: r.amount, reason: r.reason, at: iso(r.at) as string })),
  provider: inv.provider,
  payment_attempts: inv.payment_attempts,
  next_payment_attempt_at: iso(inv.next_payment_attempt_at),
  last_payment_error: inv.last_payment_error,
  period_start: iso(inv.period_start),
  period_end: iso(inv.period_end),
  finalized_at: iso(inv.finalized_at),
  paid_at: iso(inv.paid_at),
  created_at: iso(inv.created_at) as string,
});

/** The subscription JSON shape, with its plan (and the invoice the change made, if any). */
export const SubscriptionBody = z.object({
  id: z.uuid(),
  status: z.enum(SUBSCRIPTION_STATUSES),
  interval: z.enum(['monthly', 'yearly']),
  currency: z.string(),
  plan: BillingPlanBody,
  pending_plan: BillingPlanBody.nullable().describe('The plan it switches to at the period’s end (a scheduled downgrade)'),
  current_period_start: z.iso.datetime(),
  current_period_end: z.iso.datetime().describe('A calendar month or year after the start, in the organization’s time zone'),
  trial_end: z.iso.datetime().nullable(),
  cancel_at_period_end: z.boolean(),
  coupon: z.object({ code: z.string(), remaining_months: z.number().int().nullable().describe('Invoices it still discounts; null: forever') }).nullable(),
  addons: z.array(z.object({ addon_id: z.uuid(), quantity: z.number().int() })),
  credit_balance: Minor.describe('Credit from downgrades that the next invoices use'),
  started_at: z.iso.datetime(),
  ended_at: z.iso.datetime().nullable(),
  version: z.number().int(),
  invoice: InvoiceBody.nullable().describe('The invoice this change made (subscribe without trial, an upgrade now); null otherwise'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a subscription with its plan. */
export const presentSubscription = (r: SubscriptionResult): z.infer<typeof SubscriptionBody> => {
  const s = r.subscription;
  return {
    id: s._id,
    status: s.status,
    interval: s.interval,
    currency: s.currency,
    plan: presentBillingPlan(r.plan),
    pending_plan: r.pendingPlan ? presentBillingPlan(r.pendingPlan) : null,
    current_period_start: iso(s.current_period_start) as string,
    current_period_end: iso(s.current_period_end) as string,
    trial_end: iso(s.trial_end),
    cancel_at_period_end: s.cancel_at_period_end,
    coupon: s.coupon ? { code: s.coupon.code, remaining_months: s.coupon.remaining_months } : null,
    addons: s.addons.map((a) => ({ addon_id: a.addon_id, quantity: a.quantity })),
    credit_balance: s.credit_balance,
    started_at: iso(s.started_at) as string,
    ended_at: iso(s.ended_at),
    version: s.version,
    invoice: r.invoice ? presentInvoice(r.invoice) : null,
    created_at: iso(s.created_at) as string,
    updated_at: iso(s.updated_at) as string,
  };
};

/** The payment method JSON shape (a card's brand, last four digits and expiry only). */
export const PaymentMethodBody = z.object({
  id: z.uuid(),
  type: z.enum(['card', 'bank_transfer']),
  provider: z.enum(['stripe', 'manual']),
  card: z.object({ brand: z.string(), last4: z.string(), exp_month: z.number().int(), exp_year: z.number().int() }).nullable(),
  bank_transfer: z.object({ bank_name: z.string(), account_holder: z.string() }).nullable(),
  is_default: z.boolean(),
  created_at: z.iso.datetime(),
});

/** Shapes a payment method. */
export const presentPaymentMethod = (m: BillingPaymentMethod): z.infer<typeof PaymentMethodBody> => ({
  id: m._id,
  type: m.type,
  provider: m.provider,
  card: m.card ? { ...m.card } : null,
  bank_transfer: m.bank_transfer ? { ...m.bank_transfer } : null,
  is_default: m.is_default,
  created_at: iso(m.created_at) as string,
});
