/**
 * The card provider: a Stripe-compatible API (https://docs.stripe.com/api) at a configured base
 * URL with a secret key. Requests are form-encoded with `Authorization: Bearer <key>`; an error
 * answers `{ error: { type, code, message } }`. Creating calls carry an Idempotency-Key, so a
 * retry after a lost answer does not create twice.
 */
import { AppError } from '../../errors.js';

/** Where the API is and the key it takes. */
export interface StripeSettings {
  apiUrl: string;
  secretKey: string;
}

/** A card as the provider describes it (never its number). */
export interface CardDetails {
  id: string;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
}

const TIMEOUT_MS = 10_000;

/** A client of one Stripe-compatible API. */
export class StripeClient {
  constructor(private readonly settings: StripeSettings) {}

  private async call<T>(method: 'POST' | 'GET', path: string, form: Record<string, string>, idempotencyKey?: string): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.settings.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' };
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let res: Response;
    try {
      res = await fetch(`${this.settings.apiUrl.replace(/\/+$/, '')}${path}`, { method, headers, body: method === 'POST' ? new URLSearchParams(form).toString() : undefined, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch {
      throw new AppError(503, 'provider_unavailable', 'The card provider could not be reached; try again later');
    }
    const body = (await res.json().catch(() => null)) as (T & { error?: { code?: string; message?: string } }) | null;
    if (!body) throw new AppError(502, 'provider_error', `The card provider answered ${res.status} with no JSON`);
    if (res.status >= 500) throw new AppError(503, 'provider_unavailable', 'The card provider failed; try again later');
    if (body.error) throw new AppError(422, 'provider_refused', `The card provider refused: ${body.error.message ?? body.error.code ?? 'unknown error'}${body.error.code ? ` (${body.error.code})` : ''}`);
    return body;
  }

  /** Creates the tenant's customer (once per tenant: the key is derived from it). */
  async createCustomer(tenantId: string): Promise<string> {
    const c = await this.call<{ id: string }>('POST', '/v1/customers', { 'metadata[tenant_id]': tenantId }, `customer-${tenantId}`);
    return c.id;
  }

  /** Attaches a payment-method token to the customer; answers the card's brand, last4 and expiry. */
  async attach(methodId: string, customerId: string): Promise<CardDetails> {
    const pm = await this.call<{ id: string; card?: { brand: string; last4: string; exp_month: number; exp_year: number } }>('POST', `/v1/payment_methods/${encodeURIComponent(methodId)}/attach`, { customer: customerId });
    if (!pm.card) throw new AppError(422, 'provider_refused', `Payment method ${methodId} is not a card`);
    return { id: pm.id, brand: pm.card.brand, last4: pm.card.last4, exp_month: pm.card.exp_month, exp_year: pm.card.exp_year };
  }

  /**
   * Charges the customer's saved card off-session (a PaymentIntent created and confirmed at once);
   * the key makes a retried attempt the same attempt. A decline answers `succeeded: false`.
   */
  async charge(c: { customerId: string; methodId: string; amount: number; currency: string; invoiceId: string; idempotencyKey: string }): Promise<{ succeeded: boolean; intentId: string | null; error: string | null }> {
    try {
      const pi = await this.call<{ id: string; status: string }>(
        'POST',
        '/v1/payment_intents',
        { amount: String(c.amount), currency: c.currency.toLowerCase(), customer: c.customerId, payment_method: c.methodId, confirm: 'true', off_session: 'true', 'metadata[invoice_id]': c.invoiceId },
        c.idempotencyKey,
      );
      return { succeeded: pi.status === 'succeeded', intentId: pi.id, error: pi.status === 'succeeded' ? null : `payment intent ${pi.status}` };
    } catch (err) {
      if (err instanceof AppError && err.code === 'provider_refused') return { succeeded: false, intentId: null, error: err.message };
      throw err;
    }
  }

  /** Detaches a payment method from its customer. */
  async detach(methodId: string): Promise<void> {
    await this.call('POST', `/v1/payment_methods/${encodeURIComponent(methodId)}/detach`, {});
  }
}
