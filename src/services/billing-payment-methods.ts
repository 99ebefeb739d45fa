/**
 * Payment methods: a card is a token from the card provider's client-side SDK (pm_...), attached
 * to the tenant's customer there (card numbers never reach this server); a bank transfer is the
 * manual provider's (the operator marks its invoices paid). The first method is the default.
 */
import { appContext } from '../context.js';
import { NotFoundError, StateError } from '../errors.js';
import { newId } from '../ids.js';
import { billingPaymentMethods, type BillingPaymentMethod } from '../models/billing-payment-method.js';
import { StripeClient } from './payment-providers/stripe.js';

function cardProvider(): StripeClient {
  const settings = appContext().config.billing.stripe;
  if (!settings) throw StateError('Card payments are not configured on this platform (BILLING_STRIPE_API_URL and BILLING_STRIPE_SECRET_KEY); add a bank transfer method instead');
  return new StripeClient(settings);
}

/** The tenant's methods, oldest first. */
export const listPaymentMethods = (tenantId: string) => billingPaymentMethods.find({ tenant_id: tenantId }, { created_at: 1, _id: 1 }, 100);

/** Add a payment method. */
export type AddPaymentMethod = { tenantId: string; makeDefault: boolean } & ({ type: 'card'; token: string } | { type: 'bank_transfer'; bankName: string; accountHolder: string });

/** Adds a method (a card is attached at the provider first); the first one, or one asked to be, becomes the default. */
export async function addPaymentMethod(cmd: AddPaymentMethod): Promise<BillingPaymentMethod> {
  const existing = await listPaymentMethods(cmd.tenantId);
  const isDefault = existing.length === 0 || cmd.makeDefault;
  let fields: Pick<BillingPaymentMethod, 'type' | 'provider' | 'provider_method_id' | 'provider_customer_id' | 'card' | 'bank_transfer'>;
  if (cmd.type === 'card') {
    const provider = cardProvider();
    const customerId = existing.find((m) => m.provider_customer_id)?.provider_customer_id ?? (await provider.createCustomer(cmd.tenantId));
    const card = await provider.attach(cmd.token, customerId);
    fields = { type: 'card', provider: 'stripe', provider_method_id: card.id, provider_customer_id: customerId, card: { brand: card.brand, last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year }, bank_transfer: null };
  } else {
    fields = { type: 'bank_transfer', provider: 'manual', provider_method_id: null, provider_customer_id: null, card: null, bank_transfer: { bank_name: cmd.bankName, account_holder: cmd.accountHolder } };
  }
  if (isDefault) await Promise.all(existing.filter((m) => m.is_default).map((m) => billingPaymentMethods.update(cmd.tenantId, m._id, { is_default: false })));
  return billingPaymentMethods.insert({ _id: newId(), tenant_id: cmd.tenantId, ...fields, is_default: isDefault });
}

/** Removes a method (a card is detached at the provider); the oldest remaining one becomes the default. */
export async function deletePaymentMethod(tenantId: string, id: string): Promise<BillingPaymentMethod> {
  const method = await billingPaymentMethods.findOwned(tenantId, id);
  if (method.provider === 'stripe' && method.provider_method_id) await cardProvider().detach(method.provider_method_id);
  if (!(await billingPaymentMethods.remove(tenantId, id))) throw NotFoundError('Payment method');
  if (method.is_default) {
    const [next] = await listPaymentMethods(tenantId);
    if (next) await billingPaymentMethods.update(tenantId, next._id, { is_default: true });
  }
  return method;
}
