/**
 * Billing (tenant): the subscription (subscribe, change plan, cancel) and its invoices. Changes
 * take an optional `Idempotency-Key` header: the same key with the same body answers the stored
 * answer and changes nothing; the same key with another body is a 422.
 */
import type { Context } from 'koa';
import type { Principal } from '../../auth/principal.js';
import { FieldsError } from '../../errors.js';
import { presentPage } from '../../presenters/page.js';
import { InvoiceBody, PaymentMethodBody, presentInvoice, presentPaymentMethod, presentSubscription, SubscriptionBody } from '../../presenters/billing-subscription.js';
import { addPaymentMethod, deletePaymentMethod, listPaymentMethods } from '../../services/billing-payment-methods.js';
import { idempotent } from '../../services/billing-idempotency.js';
import { listInvoices } from '../../services/billing-invoices.js';
import { invoicePdf } from '../../services/billing-pdf.js';
import { attachAddon, detachAddon, listAttachedAddons } from '../../services/billing-subscription-addons.js';
import { billingUsage, cancelSubscription, changePlan, getSubscription, subscribe, type SubscriptionResult } from '../../services/billing-subscriptions.js';
import { BillingAddonBody, presentBillingAddon } from '../../presenters/billing-catalogue.js';
import { z } from 'zod';
import type { RouteGroup } from '../mount.js';
import { HttpResult } from '../result.js';
import { route } from '../route.js';
import { IdParams, MessageBody, pageOf } from '../schemas/common.js';
import { AddPaymentMethodBody, AttachAddonBody, CancelBody, ChangePlanBody, IdempotencyKey, ListInvoicesQuery, PdfBytes, SubscribeBody, UsageBody } from './billing.schema.js';

const IDEMPOTENCY = {
  409: 'A concurrent change to the subscription won (try again), or a request with the same Idempotency-Key is still being processed',
};

/** The request's Idempotency-Key, or null; a malformed one is a 400. */
function keyOf(ctx: Context): string | null {
  const raw = ctx.get('idempotency-key');
  if (!raw) return null;
  const parsed = IdempotencyKey.safeParse(raw);
  if (!parsed.success) throw FieldsError([{ in: 'params', field: 'Idempotency-Key', message: parsed.error.issues[0]?.message ?? 'invalid' }]);
  return parsed.data;
}

/** Runs a subscription change once per Idempotency-Key and presents it. */
async function change(ctx: Context, principal: Principal, operation: string, body: unknown, status: number, run: () => Promise<SubscriptionResult>) {
  const answer = await idempotent(principal.tenantId, operation, keyOf(ctx), body, status, async () => presentSubscription(await run()));
  if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
  return new HttpResult(answer.status, answer.body);
}

const actingUser = (p: Principal) => ({ tenantId: p.tenantId, actorId: p.userId });

/** The Billing group's subscription and invoice routes. */
export const billingRoutes: RouteGroup = {
  group: 'Billing',
  routes: [
    route({
      method: 'get',
      path: '/api/billing/subscription',
      summary: 'Get current subscription and plan',
      description: 'The organization’s subscription (also a cancelled one) with its plan and a scheduled plan change. 404 when it never subscribed.',
      access: 'billing.view',
      response: SubscriptionBody,
      errors: { 404: 'The organization has never subscribed' },
      handler: async ({ principal }) => presentSubscription(await getSubscription(principal.tenantId)),
    }),
    route({
      method: 'post',
      path: '/api/billing/subscribe',
      summary: 'Subscribe to a plan',
      description:
        'A plan with trial days starts a trial (first subscription only; no invoice until it ends); otherwise the first period (a calendar month or year in the organization’s time zone) is invoiced at once, ' +
        'with the coupon’s discount and the configured tax, numbered without gaps. The organization’s limits become the plan’s. Send an `Idempotency-Key` header to make a retry safe.',
      access: 'billing.manage',
      body: SubscribeBody,
      response: SubscriptionBody,
      status: 201,
      errors: {
        404: 'No such plan or coupon',
        409: 'The organization already has a live subscription (use change-plan), or a request with the same Idempotency-Key is still being processed',
        422: 'The plan is archived or not offered at that interval, the coupon cannot be used (the reason in `code` and `message`), or the Idempotency-Key was used with another body',
      },
      audit: { action: 'billing.subscribed', resource: 'billing_subscription' },
      handler: async ({ body, principal, ctx }) =>
        change(ctx, principal, 'subscribe', body, 201, () => subscribe({ ...actingUser(principal), planId: body.plan_id, interval: body.interval, couponCode: body.coupon_code })),
    }),
    route({
      method: 'post',
      path: '/api/billing/change-plan',
      summary: 'Upgrade or downgrade subscription plan',
      description:
        'Now: the rest of the period is prorated by days in the organization’s time zone (the unused share of the old price credited, the new one’s charged, integer minor units rounded half up); an upgrade is invoiced at once, a downgrade’s difference becomes credit for the next invoices. ' +
        'At the period’s end: the plan switches at renewal. A downgrade the organization’s current usage exceeds is refused with the limit named. Idempotent with an `Idempotency-Key` header.',
      access: 'billing.manage',
      body: ChangePlanBody,
      response: SubscriptionBody,
      errors: { 404: 'No subscription, or no such plan', ...IDEMPOTENCY, 422: 'Cancelled subscription, same plan, archived plan, another currency or interval not offered, usage over the new plan’s limit (named), or the Idempotency-Key was used with another body' },
      audit: { action: 'billing.plan_changed', resource: 'billing_subscription' },
      handler: async ({ body, principal, ctx }) => change(ctx, principal, 'change-plan', body, 200, () => changePlan({ ...actingUser(principal), planId: body.plan_id, when: body.when })),
    }),
    route({
      method: 'post',
      path: '/api/billing/cancel',
      summary: 'Cancel subscription',
      description: 'At the period’s end (default: the renewal ends it) or now. Nothing is refunded for the rest of a period cancelled now. Idempotent with an `Idempotency-Key` header.',
      access: 'billing.manage',
      body: CancelBody,
      response: SubscriptionBody,
      errors: { 404: 'No subscription', ...IDEMPOTENCY, 422: 'Already cancelled, or the Idempotency-Key was used with another body' },
      audit: { action: 'billing.cancelled', resource: 'billing_subscription' },
      handler: async ({ body, principal, ctx }) => change(ctx, principal, 'cancel', body, 200, () => cancelSubscription({ ...actingUser(principal), when: body.when })),
    }),
    route({
      method: 'get',
      path: '/api/billing/invoices',
      summary: 'List invoices',
      description: 'Finalized invoices, newest first; totals in integer minor units of `currency`.',
      access: 'billing.view',
      query: ListInvoicesQuery,
      response: pageOf(InvoiceBody),
      handler: async ({ query, principal }) => presentPage(await listInvoices({ tenantId: principal.tenantId, status: query.status, page: query.page, limit: query.limit }), presentInvoice),
    }),
    route({
      method: 'get',
      path: '/api/billing/invoices/{id}/pdf',
      summary: 'Download invoice PDF',
      access: 'billing.view',
      params: IdParams,
      response: PdfBytes,
      produces: 'application/pdf',
      handler: async ({ params, principal, ctx }) => {
        const pdf = await invoicePdf(principal.tenantId, params.id);
        ctx.set('Content-Type', 'application/pdf');
        ctx.attachment(pdf.filename);
        return pdf.bytes;
      },
    }),
      route({
      method: 'get',
      path: '/api/billing/usage',
      summary: "Get current month's usage",
      description: 'Each limit the organization has (its plan’s, raised by attached add-ons; null is unlimited) with its use: agents, channel accounts and storage now, conversations, messages and AI replies in the current calendar month of the organization’s time zone.',
      access: 'billing.view',
      response: UsageBody,
      handler: ({ principal }) => billingUsage(principal.tenantId),
    }),
    route({
      method: 'get',
      path: '/api/billing/addons/attached',
      summary: 'List attached add-ons',
      access: 'billing.view',
      response: z.object({ data: z.array(z.object({ addon: BillingAddonBody, quantity: z.number().int() })) }),
      errors: { 404: 'No subscription', 422: 'The subscription is cancelled' },
      handler: async ({ principal }) => ({ data: (await listAttachedAddons(principal.tenantId)).map((a) => ({ addon: presentBillingAddon(a.addon), quantity: a.quantity })) }),
    }),
    route({
      method: 'post',
      path: '/api/billing/addons/{id}/attach',
      summary: 'Attach an add-on to subscription',
      description: 'Sets the add-on’s quantity on the subscription; added units are invoiced for the rest of the period (prorated by local days), and the limit it raises grows at once. Idempotent with an `Idempotency-Key` header.',
      access: 'billing.manage',
      params: IdParams,
      body: AttachAddonBody,
      response: SubscriptionBody,
      errors: { 404: 'No subscription, or no such add-on', ...IDEMPOTENCY, 422: 'Cancelled subscription, archived add-on, another currency or interval, the same quantity, fewer units than usage needs (the limit named), or the Idempotency-Key was used with another body' },
      audit: { action: 'billing.addon_attached', resource: 'billing_subscription', target: ({ params }) => params.id ?? null },
      handler: async ({ params, body, principal, ctx }) =>
        change(ctx, principal, `attach:${params.id}`, body, 200, () => attachAddon({ ...actingUser(principal), addonId: params.id, quantity: body.quantity })),
    }),
    route({
      method: 'delete',
      path: '/api/billing/addons/{id}/attach',
      summary: 'Detach an add-on from subscription',
      description: 'Takes effect now (no credit for the rest of the period); refused while the organization’s usage needs the units it adds.',
      access: 'billing.manage',
      params: IdParams,
      response: SubscriptionBody,
      errors: { 404: 'No subscription, or the add-on is not attached', ...IDEMPOTENCY, 422: 'Cancelled subscription, or usage over what is left (the limit named)' },
      audit: { action: 'billing.addon_detached', resource: 'billing_subscription', target: ({ params }) => params.id ?? null },
      handler: async ({ params, principal, ctx }) => change(ctx, principal, `detach:${params.id}`, {}, 200, () => detachAddon({ ...actingUser(principal), addonId: params.id })),
    }),
      route({
      method: 'get',
      path: '/api/billing/payment-methods',
      summary: 'List payment methods',
      description: 'Oldest first; cards show brand, last four digits and expiry only.',
      access: 'billing.view',
      response: z.object({ data: z.array(PaymentMethodBody) }),
      handler: async ({ principal }) => ({ data: (await listPaymentMethods(principal.tenantId)).map(presentPaymentMethod) }),
    }),
    route({
      method: 'post',
      path: '/api/billing/payment-methods',
      summary: 'Add a payment method',
      description:
        'A card: the payment-method id (pm_...) the card provider’s client SDK made in the browser, attached here to the organization’s customer at the provider (card numbers never reach this server). ' +
        'A bank transfer: the manual provider (the platform operator marks its invoices paid). The first method is the default.',
      access: 'billing.manage',
      body: AddPaymentMethodBody,
      response: PaymentMethodBody,
      status: 201,
      errors: { 422: 'Card payments are not configured, or the card provider refused the token (its message)', 502: 'The card provider answered something unreadable', 503: 'The card provider could not be reached' },
      audit: { action: 'billing.payment_method_added', resource: 'billing_payment_method' },
      handler: async ({ body, principal }) =>
        presentPaymentMethod(
          await addPaymentMethod(
            body.type === 'card'
              ? { tenantId: principal.tenantId, makeDefault: body.make_default, type: 'card', token: body.token }
              : { tenantId: principal.tenantId, makeDefault: body.make_default, type: 'bank_transfer', bankName: body.bank_name, accountHolder: body.account_holder },
          ),
        ),
    }),
    route({
      method: 'delete',
      path: '/api/billing/payment-methods/{id}',
      summary: 'Delete a payment method',
      description: 'A card is detached at the provider first. When it was the default, the oldest remaining method becomes the default.',
      access: 'billing.manage',
      params: IdParams,
      response: MessageBody,
      errors: { 422: 'The card provider refused the detach, or card payments are no longer configured', 502: 'The card provider answered something unreadable', 503: 'The card provider could not be reached' },
      audit: { action: 'billing.payment_method_deleted', resource: 'billing_payment_method' },
      handler: async ({ params, principal }) => {
        const m = await deletePaymentMethod(principal.tenantId, params.id);
        return { message: m.card ? `Card ${m.card.brand} ending ${m.card.last4} removed` : 'Bank transfer method removed' };
      },
    }),
  ],
};
