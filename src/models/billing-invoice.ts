/**
 * Invoices of tenants' subscriptions. Money is integer minor units of `currency`; a line's
 * `amount` is signed (credits and discounts are negative). `number`/`sequence` are null while
 * draft and set once, at finalization, from the platform counter (models/billing-counter.ts).
 */
import { model, Schema } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** Invoice statuses. */
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void', 'refunded'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** What a line bills. */
export const LINE_KINDS = ['plan', 'proration', 'addon', 'discount', 'credit'] as const;
export type LineKind = (typeof LINE_KINDS)[number];

/** One line. */
export interface InvoiceLine {
  kind: LineKind;
  description: string;
  quantity: number;
  /** Per unit, minor units (signed). */
  unit_amount: number;
  /** quantity x unit_amount, minor units (signed). */
  amount: number;
  period_start: Date | null;
  period_end: Date | null;
}

/** A refund given on a paid invoice. */
export interface InvoiceRefund {
  id: string;
  amount: number;
  reason: string | null;
  at: Date;
  by: string;
}

/** A stored invoice. */
export interface BillingInvoice extends TenantDoc {
  subscription_id: string;
  plan_id: string;
  /** The subscription change that made it, or the renewal's period key. */
  source: string;
  number: string | null;
  sequence: number | null;
  status: InvoiceStatus;
  currency: string;
  lines: InvoiceLine[];
  /** Sum of plan, proration and add-on lines. */
  subtotal: number;
  /** Sum of discount lines (zero or negative). */
  discount_total: number;
  tax_rate_bps: number;
  tax_total: number;
  /** The subscription's credit balance used (zero or negative, as its line). */
  credit_applied: number;
  total: number;
  amount_paid: number;
  amount_refunded: number;
  refunds: InvoiceRefund[];
  /** The payment provider that collects it (manual: the operator marks it paid). */
  provider: 'manual' | 'stripe';
  period_start: Date | null;
  period_end: Date | null;
  finalized_at: Date | null;
  paid_at: Date | null;
  /** Card collection: attempts made, when the first failed, and when the next is due (null: none scheduled). */
  payment_attempts: number;
  first_failed_at: Date | null;
  next_payment_attempt_at: Date | null;
  /** The last attempt's failure (the provider's code and message), or null. */
  last_payment_error: string | null;
  version: number;
}

const line = new Schema<InvoiceLine>(
  {
    kind: { type: String, required: true, enum: LINE_KINDS },
    description: { type: String, required: true },
    quantity: { type: Number, required: true },
    unit_amount: { type: Number, required: true },
    amount: { type: Number, required: true },
    period_start: { type: Date, default: null },
    period_end: { type: Date, default: null },
  },
  { _id: false },
);

const schema = baseSchema<BillingInvoice>(
  {
    tenant_id: { type: String, required: true },
    subscription_id: { type: String, required: true },
    plan_id: { type: String, required: true },
    source: { type: String, required: true },
    number: { type: String, default: null },
    sequence: { type: Number, default: null },
    status: { type: String, required: true, enum: INVOICE_STATUSES },
    currency: { type: String, required: true },
    lines: { type: [line], default: [] },
    subtotal: { type: Number, required: true },
    discount_total: { type: Number, required: true },
    tax_rate_bps: { type: Number, required: true },
    tax_total: { type: Number, required: true },
    credit_applied: { type: Number, required: true },
    total: { type: Number, required: true },
    amount_paid: { type: Number, required: true },
    amount_refunded: { type: Number, required: true },
    refunds: { type: [Schema.Types.Mixed], default: [] },
    provider: { type: String, required: true },
    period_start: { type: Date, default: null },
    period_end: { type: Date, default: null },
    finalized_at: { type: Date, default: null },
    paid_at: { type: Date, default: null },
    payment_attempts: { type: Number, default: 0 },
    first_failed_at: { type: Date, default: null },
    next_payment_attempt_at: { type: Date, default: null },
    last_payment_error: { type: String, default: null },
    version: { type: Number, required: true },
  },
  'billing_invoices',
);
// The tenant's invoice list, newest first, with or without its status filter.
schema.index({ tenant_id: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, status: 1, created_at: -1, _id: -1 });
// The dunning sweep: open invoices whose next card attempt is due.
schema.index({ status: 1, next_payment_attempt_at: 1 });
// Operator analytics: paid (and refunded) invoices by when they were paid.
schema.index({ status: 1, paid_at: 1 });

/** The billing_invoices collection. */
export const BillingInvoiceModel = model<BillingInvoice>('BillingInvoice', schema);

/** Tenant-scoped access to invoices. */
export const billingInvoices = tenantRepo(BillingInvoiceModel, 'Invoice');

/** An invoice by `_id` whatever its tenant (the operator's routes), or null. */
export const findInvoiceById = (id: string) => collectionOf(BillingInvoiceModel).findOne({ _id: id }) as unknown as Promise<BillingInvoice | null>;

/**
 * Sets fields on the invoice if it still has `version` (the write fence); answers it as stored,
 * or null when another writer changed it first.
 */
export async function casInvoice(id: string, version: number, set: Partial<BillingInvoice>): Promise<BillingInvoice | null> {
  const res = await collectionOf(BillingInvoiceModel).findOneAndUpdate(
    { _id: id, version },
    { $set: { ...set, version: version + 1, updated_at: new Date() } },
    { returnDocument: 'after' },
  );
  return res as unknown as BillingInvoice | null;
}

/** Writes the invoice's number unless it has one already (the holder's own write and the roll-forward write the same value). */
export async function writeInvoiceNumber(id: string, sequence: number, number: string): Promise<void> {
  await collectionOf(BillingInvoiceModel).updateOne({ _id: id, sequence: null }, { $set: { sequence, number, updated_at: new Date() } });
}

/** Deletes a draft that never got a number (its change was refused after it was written). */
export async function deleteUnnumberedDraft(id: string): Promise<void> {
  await collectionOf(BillingInvoiceModel).deleteOne({ _id: id, status: 'draft', sequence: null });
}

/** Paid or refunded invoices paid in [from, to) (operator analytics; index status, paid_at). */
export const paidInvoicesBetween = (from: Date, to: Date) =>
  BillingInvoiceModel.find({ status: { $in: ['paid', 'refunded'] }, paid_at: { $gte: from, $lt: to } }).lean<BillingInvoice[]>().exec();

/** Open invoices (every tenant's) whose next payment attempt is due by `now`. */
export const invoicesDueForPayment = (now: Date, limit: number) =>
  BillingInvoiceModel.find({ status: 'open', next_payment_attempt_at: { $lte: now } }).sort({ next_payment_attempt_at: 1 }).limit(limit).lean<BillingInvoice[]>().exec();
