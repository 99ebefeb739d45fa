/**
 * Monthly usage counters per tenant, from the event stream (events/listeners/usage-counters.ts):
 * one document per tenant and calendar month of the tenant's time zone, `_id` derived from both
 * (invariant 10), so reading this month's counts is an `_id` lookup. Each increment filters on
 * the document's `last_seq`, so a replayed event counts nothing twice.
 */
import { model } from 'mongoose';
import { naturalId } from '../ids.js';
import { upsertAfter } from './analytics-rollup.js';
import { baseSchema, type TenantDoc } from './base.js';
import { findDocById } from './driver.js';

/** What is counted per month. */
export const USAGE_COUNTERS = ['messages', 'conversations', 'ai_replies'] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];

/** One tenant's counts of one month. */
export interface BillingUsage extends TenantDoc {
  /** `yyyy-MM` in the tenant's time zone. */
  month: string;
  counts: Partial<Record<UsageCounter, number>>;
  /** The seq of the last event counted here. */
  last_seq: number;
}

const schema = baseSchema<BillingUsage>(
  {
    tenant_id: { type: String, required: true },
    month: { type: String, required: true },
    counts: { type: Object, default: {} },
    last_seq: { type: Number, required: true },
  },
  'billing_usage',
);
// Serves a tenant's months, newest first (this month itself is read by `_id`).
schema.index({ tenant_id: 1, month: -1 });

/** The billing_usage collection. */
export const BillingUsageModel = model<BillingUsage>('BillingUsage', schema);

const usageId = (tenantId: string, month: string) => naturalId('billing-usage', tenantId, month);

/** Adds `inc` to the tenant's month unless an event at or after `seq` was counted there already. */
export async function countUsage(tenantId: string, month: string, inc: Partial<Record<UsageCounter, number>>, seq: number): Promise<void> {
  const $inc = Object.fromEntries(Object.entries(inc).map(([k, v]) => [`counts.${k}`, v]));
  const now = new Date();
  await upsertAfter(BillingUsageModel, usageId(tenantId, month), seq, { $inc, $set: { last_seq: seq, updated_at: now }, $setOnInsert: { tenant_id: tenantId, month, created_at: now } });
}

/** The tenant's counts of a month (zeros when nothing was counted). */
export async function usageOfMonth(tenantId: string, month: string): Promise<Record<UsageCounter, number>> {
  const doc = await findDocById<BillingUsage>(BillingUsageModel as never, usageId(tenantId, month));
  return Object.fromEntries(USAGE_COUNTERS.map((c) => [c, doc?.counts[c] ?? 0])) as Record<UsageCounter, number>;
}
