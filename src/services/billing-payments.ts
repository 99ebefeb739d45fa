/**
 * Collecting invoices and dunning. An open invoice of a tenant whose default method is a card is
 * charged through the card provider; each attempt is claimed by compare-and-set on the invoice
 * (attempt n once) and sent with the key `<invoice>-attempt-<n>`, so a sweep running twice
 * charges once. A failure schedules the next try at BILLING_RETRY_MS after the first failure;
 * after the last the subscription is past_due, and any payment (a retry, the operator marking a
 * bank transfer paid) makes it active again. Without a card, the manual provider waits for the operator.
 */
import { appContext } from '../context.js';
import { casInvoice, findInvoiceById, invoicesDueForPayment, type BillingInvoice } from '../models/billing-invoice.js';
import { billingPaymentMethods } from '../models/billing-payment-method.js';
import { casSubscription, findSubscription, type SubscriptionStatus } from '../models/billing-subscription.js';
import { markInvoicePaid } from './billing-invoices.js';
import { StripeClient } from './payment-providers/stripe.js';

/** Moves the tenant's subscription from `from` to `to` (no change in any other state), rereading after a concurrent write. */
async function moveSubscription(tenantId: string, from: SubscriptionStatus, to: SubscriptionStatus): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const sub = await findSubscription(tenantId);
    if (!sub || sub.status !== from) return;
    try {
      await casSubscription(sub, { status: to });
      return;
    } catch {
      // another change won: read it again
    }
  }
}

/** Charges the invoice once if its tenant's default method is a card; otherwise leaves it to the operator. */
export async function collectInvoice(invoiceId: string, now = new Date()): Promise<BillingInvoice | null> {
  const inv = await findInvoiceById(invoiceId);
  const settings = appContext().config.billing.stripe;
  if (!inv || inv.status !== 'open' || !settings) return inv;
  const [method] = await billingPaymentMethods.find({ tenant_id: inv.tenant_id, is_default: true }, { created_at: 1, _id: 1 }, 1);
  if (!method || method.type !== 'card' || !method.provider_method_id || !method.provider_customer_id) return inv;
  const n = inv.payment_attempts + 1;
  const claimed = await casInvoice(inv._id, inv.version, { payment_attempts: n, next_payment_attempt_at: null, provider: 'stripe' });
  if (!claimed) return findInvoiceById(invoiceId);
  const result = await new StripeClient(settings).charge({
    customerId: method.provider_customer_id,
    methodId: method.provider_method_id,
    amount: inv.total,
    currency: inv.currency,
    invoiceId: inv._id,
    idempotencyKey: `${inv._id}-attempt-${n}`,
  });
  if (result.succeeded) {
    const paid = await casInvoice(claimed._id, claimed.version, { status: 'paid', amount_paid: claimed.total, paid_at: now, last_payment_error: null });
    await moveSubscription(inv.tenant_id, 'past_due', 'active');
    return paid;
  }
  const firstFailed = claimed.first_failed_at ?? now;
  const retries = appContext().config.billing.retryMs;
  const wait = retries[n - 1];
  const next = wait === undefined ? null : new Date(firstFailed.getTime() + wait);
  const failed = await casInvoice(claimed._id, claimed.version, { first_failed_at: firstFailed, next_payment_attempt_at: next, last_payment_error: result.error });
  if (next === null) await moveSubscription(inv.tenant_id, 'active', 'past_due');
  return failed;
}

/** Charges every open invoice whose retry is due (the sweep), at most 100 per pass. */
export async function collectDueInvoices(now = new Date()): Promise<number> {
  const due = await invoicesDueForPayment(now, 100);
  for (const inv of due) await collectInvoice(inv._id, now);
  return due.length;
}

/** The operator records a bank transfer: the invoice is paid and a past_due subscription active again. */
export async function markPaidByOperator(invoiceId: string): Promise<BillingInvoice> {
  const inv = await markInvoicePaid(invoiceId);
  await moveSubscription(inv.tenant_id, 'past_due', 'active');
  return inv;
}
