/**
 * Tenants' subscriptions (one current per tenant: `_id` is naturalId('billing-subscription',
 * tenant), so subscribing twice at once is one claim), their change log, and the stored answers
 * of idempotent billing requests. Every subscription write is a compare-and-set on `version`.
 */
import { model, Schema } from 'mongoose';
import { StaleWriteError } from '../errors.js';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf, findDocById, insertClaim } from './driver.js';
import { tenantRepo } from './repo.js';

/** Subscription states. */
export const SUBSCRIPTION_STATUSES = ['trialing', 'active', 'past_due', 'cancelled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** The coupon a subscription carries: months of discount left (null: forever). */
export interface SubscriptionCoupon {
  id: string;
  code: string;
  remaining_months: number | null;
}

/** A stored subscription. */
export interface BillingSubscription extends TenantDoc {
  plan_id: string;
  interval: 'monthly' | 'yearly';
  status: SubscriptionStatus;
  currency: string;
  current_period_start: Date;
  current_period_end: Date;
  trial_end: Date | null;
  cancel_at_period_end: boolean;
  /** A downgrade that takes effect at the period's end. */
  pending_plan_id: string | null;
  coupon: SubscriptionCoupon | null;
  addons: { addon_id: string; quantity: number }[];
  /** Credit from downgrades, used by the next invoices (minor units, >= 0). */
  credit_balance: number;
  started_at: Date;
  ended_at: Date | null;
  /** The change that wrote this version. */
  last_change_id: string;
  version: number;
}

const schema = baseSchema<BillingSubscription>(
  {
    tenant_id: { type: String, required: true },
    plan_id: { type: String, required: true },
    interval: { type: String, required: true, enum: ['monthly', 'yearly'] },
    status: { type: String, required: true, enum: SUBSCRIPTION_STATUSES },
    currency: { type: String, required: true },
    current_period_start: { type: Date, required: true },
    current_period_end: { type: Date, required: true },
    trial_end: { type: Date, default: null },
    cancel_at_period_end: { type: Boolean, required: true },
    pending_plan_id: { type: String, default: null },
    coupon: { type: Schema.Types.Mixed, default: null },
    addons: { type: [Schema.Types.Mixed], default: [] },
    credit_balance: { type: Number, required: true },
    started_at: { type: Date, required: true },
    ended_at: { type: Date, default: null },
    last_change_id: { type: String, required: true },
    version: { type: Number, required: true },
  },
  'billing_subscriptions',
);
// The renewal sweep: subscriptions whose period (or trial) ended, by state.
schema.index({ status: 1, current_period_end: 1 });
// planHasSubscriptions (a plan in use cannot be deleted).
schema.index({ plan_id: 1 });

/** The billing_subscriptions collection. */
export const BillingSubscriptionModel = model<BillingSubscription>('BillingSubscription', schema);

/** The `_id` of a tenant's subscription. */
export const subscriptionIdOf = (tenantId: string): string => naturalId('billing-subscription', tenantId);

/** The tenant's subscription, or null (an `_id` lookup). */
export async function findSubscription(tenantId: string): Promise<BillingSubscription | null> {
  const doc = await findDocById<BillingSubscription>(BillingSubscriptionModel as never, subscriptionIdOf(tenantId));
  return doc && doc.tenant_id === tenantId ? doc : null;
}

/** Stores the tenant's first subscription; false when it already has one. */
export const insertSubscription = (doc: Omit<BillingSubscription, 'created_at' | 'updated_at'>) => insertClaim(BillingSubscriptionModel, doc);

/** Replaces fields of the subscription if it still has `sub.version`; a concurrent change is a 409. */
export async function casSubscription(sub: BillingSubscription, set: Partial<BillingSubscription>): Promise<BillingSubscription> {
  const res = await collectionOf(BillingSubscriptionModel).findOneAndUpdate(
    { _id: sub._id, version: sub.version },
    { $set: { ...set, version: sub.version + 1, updated_at: new Date() } },
    { returnDocument: 'after' },
  );
  if (!res) throw new StaleWriteError('subscription', sub._id, sub.version);
  return res as unknown as BillingSubscription;
}

/** Subscriptions (every tenant's) whose current period or trial ended by `now`, oldest first. */
export const dueSubscriptions = (now: Date, limit: number) =>
  BillingSubscriptionModel.find({ status: { $in: ['trialing', 'active', 'past_due'] }, current_period_end: { $lte: now } })
    .sort({ current_period_end: 1 })
    .limit(limit)
    .lean<BillingSubscription[]>()
    .exec();

/** Every subscription not cancelled, or cancelled since `endedSince` (operator analytics). */
export const subscriptionsForAnalytics = () => BillingSubscriptionModel.find({}).lean<BillingSubscription[]>().exec();

/** One recorded subscription change. */
export interface SubscriptionChange extends TenantDoc {
  subscription_id: string;
  kind: 'subscribed' | 'plan_changed' | 'plan_change_scheduled' | 'cancel_scheduled' | 'cancelled' | 'renewed';
  from_plan_id: string | null;
  to_plan_id: string | null;
  /** What else the change did (proration amounts, the invoice it made). */
  details: Record<string, unknown>;
  /** The user who asked, or null for the renewal sweep. */
  actor_id: string | null;
}

const changeSchema = baseSchema<SubscriptionChange>(
  {
    tenant_id: { type: String, required: true },
    subscription_id: { type: String, required: true },
    kind: { type: String, required: true },
    from_plan_id: { type: String, default: null },
    to_plan_id: { type: String, default: null },
    details: { type: Schema.Types.Mixed, default: {} },
    actor_id: { type: String, default: null },
  },
  'billing_subscription_changes',
);
// A tenant's change history, newest first.
changeSchema.index({ tenant_id: 1, created_at: -1, _id: -1 });

/** The billing_subscription_changes collection. */
export const SubscriptionChangeModel = model<SubscriptionChange>('BillingSubscriptionChange', changeSchema);

/** Tenant-scoped access to the change log (`_id` is the change id, so recording twice is one entry). */
export const subscriptionChanges = tenantRepo(SubscriptionChangeModel, 'Subscription change');

/** The stored answer of a request made with an Idempotency-Key. */
export interface IdempotentRequest extends TenantDoc {
  operation: string;
  /** SHA-256 of the request body as validated. */
  request_hash: string;
  state: 'pending' | 'done';
  status: number | null;
  response: unknown;
}

const idempotencySchema = baseSchema<IdempotentRequest>(
  {
    tenant_id: { type: String, required: true },
    operation: { type: String, required: true },
    request_hash: { type: String, required: true },
    state: { type: String, required: true, enum: ['pending', 'done'] },
    status: { type: Number, default: null },
    response: { type: Schema.Types.Mixed, default: null },
  },
  'billing_idempotency_keys',
);

/** The billing_idempotency_keys collection (read by `_id` only). */
export const IdempotentRequestModel = model<IdempotentRequest>('BillingIdempotentRequest', idempotencySchema);

/** The `_id` of a tenant's key for an operation. */
export const idempotencyIdOf = (tenantId: string, operation: string, key: string) => naturalId('billing-idempotency', tenantId, operation, key);

/** Claims a key (pending); false when it was claimed before. */
export const claimIdempotencyKey = (doc: Omit<IdempotentRequest, 'created_at' | 'updated_at' | 'state' | 'status' | 'response'>) =>
  insertClaim(IdempotentRequestModel, { ...doc, state: 'pending', status: null, response: null });

/** The stored request, or null. */
export const findIdempotentRequest = (id: string) => findDocById<IdempotentRequest>(IdempotentRequestModel as never, id);

/** Stores the answer of a claimed key. */
export async function completeIdempotentRequest(id: string, status: number, response: unknown): Promise<void> {
  await collectionOf(IdempotentRequestModel).updateOne({ _id: id }, { $set: { state: 'done', status, response, updated_at: new Date() } });
}

/** Frees a key whose request failed, so the same request may be tried again. */
export async function releaseIdempotencyKey(id: string): Promise<void> {
  await IdempotentRequestModel.deleteOne({ _id: id, state: 'pending' }).exec();
}
