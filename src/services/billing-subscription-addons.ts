/**
 * Add-ons attached to a subscription: attaching (or raising the quantity) charges the added units
 * for the rest of the period, prorated by local days like a plan change; detaching takes effect
 * now without credit, refused while usage exceeds what is left. Each change writes tenant.limits.
 */
import { NotFoundError, StateError } from '../errors.js';
import { newId } from '../ids.js';
import { billingAddons, type BillingAddon } from '../models/billing-addon.js';
import { billingPlans } from '../models/billing-plan.js';
import { casSubscription } from '../models/billing-subscription.js';
import { prorate } from './billing-proration.js';
import { assertUsageFits, line, liveSubscription, midPeriodInvoice, periodDaysLeft, recordChange, resultOf, tenantOf, withDraft, writeLimits, type SubscriptionResult } from './billing-subscriptions.js';

/** The subscription's add-ons with what each is. */
export async function listAttachedAddons(tenantId: string): Promise<{ addon: BillingAddon; quantity: number }[]> {
  const sub = await liveSubscription(tenantId);
  const addons = new Map((await billingAddons.findMany(sub.addons.map((a) => a.addon_id))).map((a) => [a._id, a]));
  return sub.addons.flatMap((a) => {
    const addon = addons.get(a.addon_id);
    return addon ? [{ addon, quantity: a.quantity }] : [];
  });
}

/** Attach an add-on. */
export interface AttachAddon {
  tenantId: string;
  actorId: string | null;
  addonId: string;
  /** The quantity attached after the change (not added to what is there). */
  quantity: number;
}

/** Attaches the add-on at `quantity`, invoicing the added units for the rest of the period. */
export async function attachAddon(cmd: AttachAddon, now = new Date()): Promise<SubscriptionResult> {
  const sub = await liveSubscription(cmd.tenantId);
  const addon = await billingAddons.findByIdOrNull(cmd.addonId);
  if (!addon) throw NotFoundError('Add-on');
  if (addon.status !== 'active') throw StateError(`The add-on ${addon.code} is archived`);
  if (addon.currency !== sub.currency) throw StateError(`The add-on ${addon.code} is priced in ${addon.currency}; the subscription is billed in ${sub.currency}`);
  if (addon.interval !== sub.interval) throw StateError(`The add-on ${addon.code} is billed ${addon.interval}; the subscription ${sub.interval}`);
  const current = sub.addons.find((a) => a.addon_id === addon._id)?.quantity ?? 0;
  if (current === cmd.quantity) throw StateError(`The add-on ${addon.code} is already attached with quantity ${current}`);
  const [plan, tenant] = await Promise.all([billingPlans.findById(sub.plan_id), tenantOf(cmd.tenantId)]);
  const addons = [...sub.addons.filter((a) => a.addon_id !== addon._id), { addon_id: addon._id, quantity: cmd.quantity }];
  if (cmd.quantity < current) await assertUsageFits(tenant, plan, addons);
  const { totalDays, remaining } = periodDaysLeft(sub, tenant.timezone, now);
  const added = cmd.quantity - current;
  const charge = added > 0 && sub.status !== 'trialing' && totalDays > 0 ? prorate(addon.unit_price * added, remaining, totalDays) : 0;
  const changeId = newId();
  const draft =
    charge > 0
      ? midPeriodInvoice(sub, plan._id, changeId, now, [
          { ...line('addon', `${addon.name} x ${added} (${remaining} of ${totalDays} days)`, charge, { start: now, end: sub.current_period_end }), quantity: added, unit_amount: prorate(addon.unit_price, remaining, totalDays) },
        ])
      : null;
  const { result: next, invoice } = await withDraft(draft, () => casSubscription(sub, { addons, credit_balance: sub.credit_balance + (draft?.credit_applied ?? 0), last_change_id: changeId }));
  await writeLimits(cmd.tenantId, plan, next.addons);
  await recordChange(next, { kind: 'plan_changed', from_plan_id: plan._id, to_plan_id: plan._id, details: { addon_id: addon._id, quantity: cmd.quantity, previous_quantity: current, charge, invoice_id: invoice?._id ?? null }, actor_id: cmd.actorId });
  return resultOf(next, invoice);
}

/** Detaches the add-on now (no credit for the rest of the period); refused while usage needs it. */
export async function detachAddon(cmd: Omit<AttachAddon, 'quantity'>): Promise<SubscriptionResult> {
  const sub = await liveSubscription(cmd.tenantId);
  if (!sub.addons.some((a) => a.addon_id === cmd.addonId)) throw NotFoundError('Attached add-on');
  const [plan, tenant] = await Promise.all([billingPlans.findById(sub.plan_id), tenantOf(cmd.tenantId)]);
  const addons = sub.addons.filter((a) => a.addon_id !== cmd.addonId);
  await assertUsageFits(tenant, plan, addons);
  const next = await casSubscription(sub, { addons, last_change_id: newId() });
  await writeLimits(cmd.tenantId, plan, next.addons);
  await recordChange(next, { kind: 'plan_changed', from_plan_id: plan._id, to_plan_id: plan._id, details: { addon_id: cmd.addonId, quantity: 0 }, actor_id: cmd.actorId });
  return resultOf(next, null);
}
