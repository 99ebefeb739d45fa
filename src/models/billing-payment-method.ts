/**
 * Tenants' payment methods. Card numbers never reach this server: a card is the card provider's
 * payment-method token (pm_...) attached to the tenant's customer there, and only its brand,
 * last four digits and expiry are kept. A bank transfer needs nothing attached (the manual provider).
 */
import { model, Schema } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored payment method. */
export interface BillingPaymentMethod extends TenantDoc {
  type: 'card' | 'bank_transfer';
  provider: 'stripe' | 'manual';
  /** The provider's payment-method id (cards), else null. */
  provider_method_id: string | null;
  /** The provider's customer id (cards), else null. */
  provider_customer_id: string | null;
  card: { brand: string; last4: string; exp_month: number; exp_year: number } | null;
  /** Bank transfers: who pays, from which bank (shown on invoices), else null. */
  bank_transfer: { bank_name: string; account_holder: string } | null;
  is_default: boolean;
}

const schema = baseSchema<BillingPaymentMethod>(
  {
    tenant_id: { type: String, required: true },
    type: { type: String, required: true, enum: ['card', 'bank_transfer'] },
    provider: { type: String, required: true, enum: ['stripe', 'manual'] },
    provider_method_id: { type: String, default: null },
    provider_customer_id: { type: String, default: null },
    card: { type: Schema.Types.Mixed, default: null },
    bank_transfer: { type: Schema.Types.Mixed, default: null },
    is_default: { type: Boolean, required: true },
  },
  'billing_payment_methods',
);
// The tenant's list, oldest first (and its customer id, read from any of its cards).
schema.index({ tenant_id: 1, created_at: 1, _id: 1 });

/** The billing_payment_methods collection. */
export const BillingPaymentMethodModel = model<BillingPaymentMethod>('BillingPaymentMethod', schema);

/** Tenant-scoped access to payment methods. */
export const billingPaymentMethods = tenantRepo(BillingPaymentMethodModel, 'Payment method');
