/** Schemas of the Billing group's subscription and invoice endpoints. */
import { z } from 'zod';
import { INVOICE_STATUSES } from '../../models/billing-invoice.js';
import { Id, PageQuery } from '../schemas/common.js';

/** POST /api/billing/subscribe */
export const SubscribeBody = z.strictObject({
  plan_id: Id,
  interval: z.enum(['monthly', 'yearly']).default('monthly'),
  coupon_code: z.string().trim().min(1).max(64).optional().describe('Redeemed once for this subscription; its discount applies to the plan price of as many invoices as its duration says'),
});

/** POST /api/billing/change-plan */
export const ChangePlanBody = z.strictObject({
  plan_id: Id,
  when: z.enum(['now', 'period_end']).optional().describe('Absent: an upgrade takes effect now (prorated), a downgrade at the period’s end'),
});

/** POST /api/billing/cancel */
export const CancelBody = z.strictObject({
  when: z.enum(['now', 'period_end']).default('period_end').describe('period_end: the subscription runs to the end of the paid period'),
});

/** GET /api/billing/invoices */
export const ListInvoicesQuery = PageQuery.extend({
  status: z.enum(INVOICE_STATUSES.filter((s) => s !== 'draft') as ['open', 'paid', 'void', 'refunded']).optional(),
});

/** The `Idempotency-Key` header: any printable ASCII, at most 255 characters. */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 printable ASCII characters');

/** A PDF download's body. */
export const PdfBytes = z.custom<Buffer>((v) => Buffer.isBuffer(v));

/** POST /api/billing/addons/{id}/attach */
export const AttachAddonBody = z.strictObject({
  quantity: z.number().int('must be a whole number').min(1).max(10_000).default(1).describe('How many units are attached after the call (replaces the quantity attached before)'),
});

/** GET /api/billing/usage */
export const UsageBody = z.object({
  month: z.object({ from: z.string().describe('Start of the calendar month counted, in the organization’s zone'), timezone: z.string() }),
  limits: z.array(z.object({ name: z.string(), limit: z.number().int().nullable().describe('null: unlimited'), used: z.number().int() })),
});

/** POST /api/billing/payment-methods: a card token from the provider's SDK, never a card number. */
export const AddPaymentMethodBody = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('card'),
    token: z.string().regex(/^pm_[A-Za-z0-9_]{1,200}$/, 'must be a payment-method id from the card provider’s client SDK (pm_...); card numbers are never accepted'),
    make_default: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('bank_transfer'),
    bank_name: z.string().trim().min(1).max(100),
    account_holder: z.string().trim().min(1).max(200),
    make_default: z.boolean().default(false),
  }),
]);
