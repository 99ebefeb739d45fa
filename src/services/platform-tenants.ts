/**
 * The platform operator's view of tenant organizations: list, provision (registration's own
 * work, services/auth.ts createOrganization), read, update, suspend and resume, usage.
 */
import { DateTime } from 'luxon';
import type { SuperAdminPrincipal } from '../auth/principal.js';
import { conversations } from '../models/conversation.js';
import { integrationAccounts } from '../models/integration-account.js';
import { mediaBytesOf } from '../models/media.js';
import { messages } from '../models/message.js';
import type { Page } from '../models/repo.js';
import { findTenant, pageTenants, tenantLimits, updateTenant, type Tenant, type TenantLimits } from '../models/tenant.js';
import { users } from '../models/user.js';
import { NotFoundError } from '../errors.js';
import { createOrganization, type RequestOrigin } from './auth.js';
import { containsText } from './text-match.js';
import { setTenantStatus } from './tenants.js';
import { activeWebhookIds } from './outgoing-webhook-subscriptions.js';
import { wakeWebhooks } from './outgoing-webhook-sender.js';

/** Filters of the tenant list. */
export interface ListTenants {
  status?: Tenant['status'] | undefined;
  /** Part of the name or slug, any case. */
  q?: string | undefined;
  page: number;
  limit: number;
}

/** One page of tenants, newest first. */
export async function listTenants(q: ListTenants): Promise<Page<Tenant>> {
  const { items, total } = await pageTenants({ ...(q.status ? { status: q.status } : {}), ...(q.q ? { q: containsText(q.q) } : {}) }, q.page, q.limit);
  return { items, total, page: q.page, limit: q.limit };
}

/** A tenant by id, or 404. */
export async function getTenant(id: string): Promise<Tenant> {
  const tenant = await findTenant(id);
  if (!tenant) throw NotFoundError('Tenant');
  return tenant;
}

/** Provision a tenant with its first admin. */
export interface ProvisionTenant {
  actor: SuperAdminPrincipal;
  organizationName: string;
  slug?: string | undefined;
  timezone?: string | undefined;
  admin: { name: string; email: string; password: string };
  limits?: Partial<TenantLimits> | undefined;
  origin: RequestOrigin;
}

/** Creates the tenant exactly as registration does (roles, admin, working hours), then its plan limits. */
export async function provisionTenant(cmd: ProvisionTenant): Promise<{ tenant: Tenant; adminId: string }> {
  const { tenant, user } = await createOrganization(
    {
      organizationName: cmd.organizationName,
      ...(cmd.slug ? { slug: cmd.slug } : {}),
      ...(cmd.timezone ? { timezone: cmd.timezone } : {}),
      ...cmd.admin,
      origin: cmd.origin,
    },
    cmd.actor,
  );
  const withLimits = cmd.limits ? await updateTenant(tenant._id, { limits: tenantLimits(tenant, cmd.limits) }) : tenant;
  return { tenant: withLimits ?? tenant, adminId: user._id };
}

/** Update a tenant; absent fields stay. */
export interface UpdateTenant {
  id: string;
  name?: string | undefined;
  limits?: Partial<TenantLimits> | undefined;
  /** suspended: as suspendTenant; active: resumes a suspended tenant. */
  status?: Tenant['status'] | undefined;
}

/** Applies the changes; a status change goes through setTenantStatus, which ends or re-checks the tenant's credentials everywhere. */
export async function updatePlatformTenant(cmd: UpdateTenant): Promise<Tenant> {
  let tenant = await getTenant(cmd.id);
  const set: Partial<Tenant> = {};
  if (cmd.name !== undefined) set.name = cmd.name;
  if (cmd.limits !== undefined) set.limits = tenantLimits(tenant, cmd.limits);
  if (Object.keys(set).length > 0) tenant = (await updateTenant(cmd.id, set)) ?? tenant;
  if (cmd.status !== undefined && cmd.status !== tenant.status) {
    tenant = await setTenantStatus({ tenantId: cmd.id, status: cmd.status });
    // Deliveries held while it was suspended go now, not at whenever a sweep next looks.
    if (tenant.status === 'active') wakeWebhooks(await activeWebhookIds(cmd.id));
  }
  return tenant;
}

/** Suspends a tenant: data kept, every credential and socket of it stopped; PATCH status active resumes. */
export async function suspendTenant(id: string): Promise<Tenant> {
  const tenant = await getTenant(id);
  return tenant.status === 'suspended' ? tenant : setTenantStatus({ tenantId: id, status: 'suspended' });
}

/** What a tenant uses. */
export interface TenantUsage {
  agents: number;
  channel_accounts: number;
  conversations_this_month: number;
  messages_this_month: number;
  /** Messages AI agents sent this month. */
  ai_replies_this_month: number;
  storage_bytes: number;
  /** The calendar month counted, in the tenant's zone. */
  month: { from: string; timezone: string };
}

/** Counts a tenant's usage; "this month" is the calendar month in the tenant's time zone. */
export async function usageOf(tenant: Tenant, now = new Date()): Promise<TenantUsage> {
  const from = DateTime.fromJSDate(now).setZone(tenant.timezone).startOf('month');
  const since = from.toJSDate();
  const tenantId = tenant._id;
  const [agents, accounts, convs, msgs, aiReplies, bytes] = await Promise.all([
    users.count({ tenant_id: tenantId, deleted_at: null }),
    integrationAccounts.count({ tenant_id: tenantId }),
    conversations.count({ tenant_id: tenantId, created_at: { $gte: since } }),
    messages.count({ tenant_id: tenantId, sent_at: { $gte: since } }),
    messages.count({ tenant_id: tenantId, sent_at: { $gte: since }, sender_type: 'ai' }),
    mediaBytesOf(tenantId),
  ]);
  return {
    agents,
    channel_accounts: accounts,
    conversations_this_month: convs,
    messages_this_month: msgs,
    ai_replies_this_month: aiReplies,
    storage_bytes: bytes,
    month: { from: from.toISO() ?? since.toISOString(), timezone: tenant.timezone },
  };
}

/** One page of tenants with their usage. */
export async function listTenantUsage(q: ListTenants): Promise<Page<{ tenant: Tenant; usage: TenantUsage }>> {
  const page = await listTenants(q);
  const now = new Date();
  return { ...page, items: await Promise.all(page.items.map(async (tenant) => ({ tenant, usage: await usageOf(tenant, now) }))) };
}
