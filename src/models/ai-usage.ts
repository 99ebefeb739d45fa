/**
 * What AI agents did, per agent and day in the tenant's time zone: replies sent, handoffs,
 * messages left unanswered (below the confidence threshold), and model tokens in and out.
 * `_id` = naturalId('ai-usage', tenant, agent, day). The AI-replies listener counts each event
 * once: every count carries the event's seq, and a document only takes a seq above its
 * `last_seq` (the listener handles a tenant's events in seq order, so a replayed event is the one
 * refused).
 */
import { model } from 'mongoose';
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** The counters of one agent and day. */
export interface UsageCounts {
  replies: number;
  handoffs: number;
  no_answers: number;
  tokens_in: number;
  tokens_out: number;
}

/** The counter names, in the order reports list them. */
export const USAGE_COUNTERS = ['replies', 'handoffs', 'no_answers', 'tokens_in', 'tokens_out'] as const satisfies readonly (keyof UsageCounts)[];

/** A stored day of one agent. */
export interface AiUsageDay extends TenantDoc, UsageCounts {
  ai_agent_id: string;
  /** The tenant-zone date, YYYY-MM-DD. */
  day: string;
  /** The seq of the last event counted. */
  last_seq: number;
}

const schema = baseSchema<AiUsageDay>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    day: { type: String, required: true },
    replies: { type: Number, default: 0 },
    handoffs: { type: Number, default: 0 },
    no_answers: { type: Number, default: 0 },
    tokens_in: { type: Number, default: 0 },
    tokens_out: { type: Number, default: 0 },
    last_seq: { type: Number, required: true },
  },
  'ai_usage_days',
);
// Serves an agent's days in a range, and the tenant's summary over a range.
schema.index({ tenant_id: 1, ai_agent_id: 1, day: 1 });
schema.index({ tenant_id: 1, day: 1 });

/** The ai_usage_days collection. */
export const AiUsageDayModel = model<AiUsageDay>('AiUsageDay', schema);

/** Tenant-scoped access to usage days. */
export const aiUsageDays = tenantRepo(AiUsageDayModel, 'AI usage');

/** The `_id` of an agent's day. */
export const usageDayId = (tenantId: string, aiAgentId: string, day: string) => naturalId('ai-usage', tenantId, aiAgentId, day);

/**
 * Adds one event's counts to an agent's day, once: false when this seq (or a later one) was
 * counted there already.
 */
export async function addUsage(tenantId: string, aiAgentId: string, day: string, seq: number, counts: Partial<UsageCounts>): Promise<boolean> {
  const now = new Date();
  // Every counter, zeros too: the day's first write creates them all (a field cannot be in both $inc and $setOnInsert).
  const inc = Object.fromEntries(USAGE_COUNTERS.map((k) => [k, counts[k] ?? 0]));
  try {
    const res = await collectionOf(AiUsageDayModel).updateOne(
      { _id: usageDayId(tenantId, aiAgentId, day), last_seq: { $lt: seq } },
      { $inc: inc, $set: { last_seq: seq, updated_at: now }, $setOnInsert: { tenant_id: tenantId, ai_agent_id: aiAgentId, day, created_at: now } },
      { upsert: true },
    );
    return res.modifiedCount + res.upsertedCount === 1;
  } catch (err) {
    // The day exists with this seq counted: the upsert's insert collides with it.
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Every day of the tenant (one agent, or all) in [from, to], by day. */
export const usageDaysIn = (tenantId: string, from: string, to: string, aiAgentId?: string) =>
  AiUsageDayModel.find({ tenant_id: tenantId, ...(aiAgentId ? { ai_agent_id: aiAgentId } : {}), day: { $gte: from, $lte: to } })
    .sort({ day: 1 })
    .lean<AiUsageDay[]>()
    .exec();
