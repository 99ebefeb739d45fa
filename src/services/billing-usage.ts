/**
 * A tenant's use of each limit its plan sets, and the monthly checks where they bite. Monthly
 * counts come from the usage counters the event stream keeps (models/billing-usage.ts), so a
 * check is one `_id` read; they trail the stream by the listener's lag (well under a second
 * in normal running), so a burst of concurrent sends can pass a monthly limit by that much.
 */
import { DateTime } from 'luxon';
import { AppError, NotFoundError } from '../errors.js';
import { countUsage, usageOfMonth, type UsageCounter } from '../models/billing-usage.js';
import { integrationAccounts } from '../models/integration-account.js';
import { mediaBytesOf } from '../models/media.js';
import { findTenant, LIMIT_KEYS, tenantLimits, type LimitKey, type Tenant } from '../models/tenant.js';
import { users } from '../models/user.js';

/** The calendar month (`yyyy-MM`) `at` falls in, in the zone. */
export const monthOf = (at: Date, zone: string): string => DateTime.fromJSDate(at).setZone(zone).toFormat('yyyy-MM');

/** One limit: what the plan allows (null: unlimited) and what is used. */
export interface LimitUse {
  limit: number | null;
  used: number;
}

/** Each limit with its use, and the month the monthly ones count. */
export interface TenantUsageReport {
  limits: Record<LimitKey, LimitUse>;
  month: { month: string; timezone: string; from: string; to: string };
}

const COUNTER_OF: Partial<Record<LimitKey, UsageCounter>> = {
  monthly_conversations: 'conversations',
  monthly_messages: 'messages',
  monthly_ai_replies: 'ai_replies',
};

/** A request over a plan limit: 422 naming the limit, what it allows and what is used. */
export const PlanLimitError = (limit: LimitKey, max: number, message: string) =>
  new AppError(422, 'plan_limit_reached', `${message} (plan limit ${limit}: ${max})`, [{ limit, max }]);

/** Each of the tenant's limits with its use (monthly ones: this calendar month in the tenant's zone). */
export async function tenantUsage(tenantId: string, now = new Date()): Promise<TenantUsageReport> {
  const tenant = await findTenant(tenantId);
  if (!tenant) throw NotFoundError('Tenant');
  const limits = tenantLimits(tenant);
  const month = monthOf(now, tenant.timezone);
  const [agents, accounts, counts, bytes] = await Promise.all([
    users.count({ tenant_id: tenantId, deleted_at: null }),
    integrationAccounts.count({ tenant_id: tenantId }),
    usageOfMonth(tenantId, month),
    mediaBytesOf(tenantId),
  ]);
  const used: Record<LimitKey, number> = {
    agents,
    channel_accounts: accounts,
    monthly_conversations: counts.conversations,
    monthly_messages: counts.messages,
    monthly_ai_replies: counts.ai_replies,
    storage_bytes: bytes,
  };
  const start = DateTime.fromJSDate(now).setZone(tenant.timezone).startOf('month');
  return {
    limits: Object.fromEntries(LIMIT_KEYS.map((k) => [k, { limit: limits[k], used: used[k] }])) as Record<LimitKey, LimitUse>,
    month: { month, timezone: tenant.timezone, from: start.toISO() as string, to: start.plus({ months: 1 }).toISO() as string },
  };
}

/** Throws PlanLimitError when this month's count of a monthly limit has reached it. */
async function assertMonthlyWithin(tenant: Tenant, limit: 'monthly_messages' | 'monthly_conversations' | 'monthly_ai_replies', what: string, now: Date): Promise<void> {
  const max = tenantLimits(tenant)[limit];
  if (max === null) return;
  const counter = COUNTER_OF[limit] as UsageCounter;
  const used = (await usageOfMonth(tenant._id, monthOf(now, tenant.timezone)))[counter];
  if (used >= max) throw PlanLimitError(limit, max, `The organization’s plan allows ${max} ${what} a month and ${used} were counted this month; ask the platform operator for a larger plan`);
}

/**
 * Refuses an outbound send once the month's messages reached the plan's monthly_messages, and
 * an AI agent's send once its replies reached monthly_ai_replies.
 */
export async function assertMessageWithinPlan(tenantId: string, senderType: string, now = new Date()): Promise<void> {
  const tenant = await findTenant(tenantId);
  if (!tenant) return;
  await assertMonthlyWithin(tenant, 'monthly_messages', 'messages', now);
  if (senderType === 'ai') await assertMonthlyWithin(tenant, 'monthly_ai_replies', 'AI replies', now);
}

/** Counts one event's usage in the tenant's month (idempotent by seq). */
export async function countEventUsage(tenantId: string, at: Date, inc: Partial<Record<UsageCounter, number>>, seq: number): Promise<void> {
  const tenant = await findTenant(tenantId);
  if (!tenant) return;
  await countUsage(tenantId, monthOf(at, tenant.timezone), inc, seq);
}
