/**
 * Invoices: built from lines in integer minor units, numbered without gaps when finalized, paid
 * through the manual provider (the operator marks them paid) and refunded by the operator.
 */
import { appContext } from '../context.js';
import { AppError, NotFoundError, StateError } from '../errors.js';
import { newId } from '../ids.js';
import { advanceCounter, readCounter } from '../models/billing-counter.js';
import {
  billingInvoices,
  casInvoice,
  findInvoiceById,
  writeInvoiceNumber,
  type BillingInvoice,
  type InvoiceLine,
  type InvoiceStatus,
} from '../models/billing-invoice.js';
import type { Page } from '../models/repo.js';
import { sumMinor, taxOf } from './billing-proration.js';

/** The platform's invoice counter. */
const INVOICE_COUNTER = 'invoice_number';

/** `INV-000042`. */
export const invoiceNumberOf = (sequence: number): string => `INV-${String(sequence).padStart(6, '0')}`;

/** What an invoice is built from. */
export interface InvoiceDraft {
  id: string;
  tenantId: string;
  subscriptionId: string;
  planId: string;
  source: string;
  currency: string;
  /** Plan, proration and add-on lines, and discount lines (negative). */
  lines: InvoiceLine[];
  /** Credit the subscription holds; the invoice uses at most its own total. */
  creditAvailable: number;
  periodStart: Date | null;
  periodEnd: Date | null;
}

/**
 * The invoice's totals: subtotal of charges, discounts, tax at the configured rate on what is
 * left (never below zero), then the credit used, each in integer minor units.
 */
export function buildInvoice(d: InvoiceDraft, taxRateBps = appContext().config.billing.taxRateBps): Omit<BillingInvoice, 'created_at' | 'updated_at'> {
  const charges = d.lines.filter((l) => l.kind !== 'discount' && l.kind !== 'credit');
  const subtotal = sumMinor(charges.map((l) => l.amount));
  const discountTotal = sumMinor(d.lines.filter((l) => l.kind === 'discount').map((l) => l.amount));
  const taxable = Math.max(0, subtotal + discountTotal);
  const tax = taxOf(taxable, taxRateBps);
  const credit = Math.min(d.creditAvailable, taxable + tax);
  const lines = credit > 0 ? [...d.lines, { kind: 'credit' as const, description: 'Credit applied', quantity: 1, unit_amount: -credit, amount: -credit, period_start: null, period_end: null }] : d.lines;
  return {
    _id: d.id,
    tenant_id: d.tenantId,
    subscription_id: d.subscriptionId,
    plan_id: d.planId,
    source: d.source,
    number: null,
    sequence: null,
    status: 'draft',
    currency: d.currency,
    lines,
    subtotal,
    discount_total: discountTotal,
    tax_rate_bps: taxRateBps,
    tax_total: tax,
    credit_applied: -credit,
    total: taxable + tax - credit,
    amount_paid: 0,
    amount_refunded: 0,
    refunds: [],
    provider: 'manual',
    period_start: d.periodStart,
    period_end: d.periodEnd,
    finalized_at: null,
    paid_at: null,
    payment_attempts: 0,
    first_failed_at: null,
    next_payment_attempt_at: null,
    last_payment_error: null,
    version: 1,
  };
}

// Concurrent finalizations take turns on one counter document; each turn is two short writes.
const MAX_NUMBER_ATTEMPTS = 500;

/**
 * Gives the invoice the platform's next number, exactly once and without gaps: the counter moves
 * by compare-and-set naming this invoice as its holder, then the number is written to it. A
 * writer that finds the counter's last holder still without its number writes it first, so a
 * crash between the two writes is completed by the next finalization, not left as a gap.
 */
async function assignNumber(invoiceId: string): Promise<void> {
  for (let attempt = 0; attempt < MAX_NUMBER_ATTEMPTS; attempt++) {
    const counter = await readCounter(INVOICE_COUNTER);
    if (counter.holder) await writeInvoiceNumber(counter.holder, counter.seq, invoiceNumberOf(counter.seq));
    const own = await findInvoiceById(invoiceId);
    if (!own) throw NotFoundError('Invoice');
    if (own.sequence !== null) return;
    if (await advanceCounter(INVOICE_COUNTER, counter.seq, invoiceId)) {
      await writeInvoiceNumber(invoiceId, counter.seq + 1, invoiceNumberOf(counter.seq + 1));
      return;
    }
    // Another finalization moved the counter: yield a moment (jittered) and take the next turn.
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
  }
  throw new AppError(503, 'busy', 'Could not number the invoice; try again');
}

/**
 * Finalizes a draft: numbers it, then opens it (or marks it paid when nothing is due). Running
 * it again on a finalized invoice changes nothing.
 */
export async function finalizeInvoice(invoiceId: string, now = new Date()): Promise<BillingInvoice> {
  await assignNumber(invoiceId);
  for (;;) {
    const inv = await findInvoiceById(invoiceId);
    if (!inv) throw NotFoundError('Invoice');
    if (inv.status !== 'draft') return inv;
    const set: Partial<BillingInvoice> = inv.total === 0 ? { status: 'paid', finalized_at: now, paid_at: now } : { status: 'open', finalized_at: now };
    const done = await casInvoice(inv._id, inv.version, set);
    if (done) return done;
  }
}

/** A tenant's invoice list query. */
export interface ListInvoices {
  tenantId: string;
  status?: InvoiceStatus | undefined;
  page: number;
  limit: number;
}

/** The tenant's invoices (not drafts), newest first. */
export function listInvoices(q: ListInvoices): Promise<Page<BillingInvoice>> {
  const filter = { tenant_id: q.tenantId, status: q.status ?? { $ne: 'draft' } };
  return billingInvoices.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** One of the tenant's invoices (drafts are not shown). */
export async function getInvoice(tenantId: string, id: string): Promise<BillingInvoice> {
  const inv = await billingInvoices.findOwned(tenantId, id);
  if (inv.status === 'draft') throw NotFoundError('Invoice');
  return inv;
}

async function operatorInvoice(id: string): Promise<BillingInvoice> {
  const inv = await findInvoiceById(id);
  if (!inv || inv.status === 'draft') throw NotFoundError('Invoice');
  return inv;
}

/** Applies `change` to the invoice by compare-and-set, reading it again after a concurrent write. */
async function changeInvoice(id: string, change: (inv: BillingInvoice) => Partial<BillingInvoice>): Promise<BillingInvoice> {
  for (;;) {
    const inv = await operatorInvoice(id);
    const done = await casInvoice(inv._id, inv.version, change(inv));
    if (done) return done;
  }
}

/** The operator records the bank transfer that paid an open invoice (the manual provider). */
export const markInvoicePaid = (id: string, now = new Date()) =>
  changeInvoice(id, (inv) => {
    if (inv.status !== 'open') throw StateError(`Invoice ${inv.number} is ${inv.status}; only an open invoice can be marked paid`);
    return { status: 'paid', amount_paid: inv.total, paid_at: now };
  });

/** A refund asked by the operator. */
export interface RefundInvoice {
  id: string;
  /** Minor units; absent: everything paid and not yet refunded. */
  amount?: number | undefined;
  reason?: string | undefined;
  /** The super admin refunding. */
  by: string;
}

/** Refunds part or all of what was paid, never more; a full refund marks it refunded. */
export const refundInvoice = (cmd: RefundInvoice, now = new Date()) =>
  changeInvoice(cmd.id, (inv) => {
    if (inv.status !== 'paid') throw StateError(`Invoice ${inv.number} is ${inv.status}; only a paid invoice can be refunded`);
    const refundable = inv.amount_paid - inv.amount_refunded;
    const amount = cmd.amount ?? refundable;
    if (refundable <= 0) throw StateError(`Invoice ${inv.number} has nothing left to refund`);
    if (amount > refundable) throw new AppError(422, 'refund_exceeds_paid', `amount ${amount} is more than the ${refundable} ${inv.currency} paid and not yet refunded on invoice ${inv.number}`);
    const refunded = inv.amount_refunded + amount;
    return {
      amount_refunded: refunded,
      refunds: [...inv.refunds, { id: newId(), amount, reason: cmd.reason ?? null, at: now, by: cmd.by }],
      ...(refunded === inv.amount_paid ? { status: 'refunded' as const } : {}),
    };
  });
