/** The platform operator's resources: super-admin accounts, tenants with plan limits and usage. */
import { z } from 'zod';
import type { SuperAdmin } from '../models/super-admin.js';
import { tenantLimits, type Tenant } from '../models/tenant.js';
import { PlanLimitsBody } from './billing-catalogue.js';
import type { TenantUsage } from '../services/platform-tenants.js';
import { iso } from './page.js';
import { presentTenant, TenantBody } from './tenant.js';

/** The super-admin account JSON shape (no password hash). */
export const SuperAdminBody = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string(),
  last_login_at: z.iso.datetime().nullable(),
  created_by: z.uuid().nullable().describe('The super admin who created it; null when made by `npm run super-admin:create`'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a super-admin account. */
export function presentSuperAdmin(a: SuperAdmin): z.infer<typeof SuperAdminBody> {
  return {
    id: a._id,
    name: a.name,
    email: a.email,
    last_login_at: iso(a.last_login_at),
    created_by: a.created_by,
    created_at: iso(a.created_at) as string,
    updated_at: iso(a.updated_at) as string,
  };
}

/** A tenant's limits (a plan's six); null is unlimited. */
export const LimitsBody = PlanLimitsBody;

/** A tenant as the platform operator sees it: the members' shape plus its plan limits. */
export const PlatformTenantBody = TenantBody.extend({ limits: LimitsBody });

/** Shapes a tenant for the operator. */
export const presentPlatformTenant = (t: Tenant): z.infer<typeof PlatformTenantBody> => ({ ...presentTenant(t), limits: tenantLimits(t) });

/** What a tenant uses. */
export const UsageBody = z.object({
  agents: z.number().int().describe('Live (not deleted) agents'),
  channel_accounts: z.number().int(),
  conversations_this_month: z.number().int(),
  messages_this_month: z.number().int(),
  ai_replies_this_month: z.number().int().describe('Messages AI agents sent this month'),
  storage_bytes: z.number().int().describe('Bytes of stored media'),
  month: z.object({ from: z.string().describe('Start of the calendar month counted, in the tenant’s zone'), timezone: z.string() }),
});

/** A tenant with its usage. */
export const TenantUsageBody = z.object({ tenant: PlatformTenantBody, usage: UsageBody });

/** Shapes a tenant with its usage. */
export const presentTenantUsage = (v: { tenant: Tenant; usage: TenantUsage }): z.infer<typeof TenantUsageBody> => ({ tenant: presentPlatformTenant(v.tenant), usage: v.usage });
