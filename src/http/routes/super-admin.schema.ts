/** Schemas of the Super Admin group. */
import { z } from 'zod';
import { AgentBody } from '../../presenters/agent.js';
import { PlatformTenantBody, SuperAdminBody } from '../../presenters/super-admin.js';
import { TenantBody } from '../../presenters/tenant.js';
import { Id, PageQuery } from '../schemas/common.js';
import { LoginBody, RegisterBody } from './auth.schema.js';
import { HealthBody } from './health.js';

const { password: Password, email: Email, name: Name } = RegisterBody.shape;

/** POST /api/super-admin/login */
export const SuperAdminLoginBody = LoginBody.omit({ tenant: true });

/** The login answer. */
export const SuperAdminSessionBody = z.object({
  token: z.string().describe('Bearer token of the super-admin realm; tenant routes refuse it'),
  token_type: z.literal('Bearer'),
  expires_at: z.iso.datetime(),
  admin: SuperAdminBody,
});

/** POST /api/super-admin/admins */
export const CreateSuperAdminBody = z.strictObject({ name: Name, email: Email, password: Password });

/** POST .../reset-password (super admins and tenant users) */
export const ResetPasswordBody = z.strictObject({ password: Password });

/** GET /api/super-admin/tenants and /tenants/usage */
export const ListTenantsQuery = PageQuery.extend({
  status: z.enum(['active', 'suspended']).optional(),
  q: z.string().trim().min(1).max(100).optional().describe('Part of the name or slug, any case'),
});

const LimitsPatch = z
  .strictObject({
    agents: z.number().int().min(0).max(1_000_000).nullable(),
    channel_accounts: z.number().int().min(0).max(100_000).nullable(),
    monthly_conversations: z.number().int().min(0).max(1_000_000_000).nullable(),
    monthly_messages: z.number().int().min(0).max(1_000_000_000).nullable(),
    monthly_ai_replies: z.number().int().min(0).max(1_000_000_000).nullable(),
    storage_bytes: z.number().int().min(0).max(1_000_000_000_000_000).nullable(),
  })
  .partial()
  .describe('Plan limits; null lifts one, an absent key keeps it');

/** POST /api/super-admin/tenants */
export const ProvisionTenantBody = RegisterBody.pick({ organization_name: true, slug: true, timezone: true }).extend({
  admin: RegisterBody.pick({ name: true, email: true, password: true }).describe('The organization’s first admin'),
  limits: LimitsPatch.optional(),
});

/** The provisioning answer. */
export const ProvisionedTenantBody = PlatformTenantBody.extend({ admin_id: z.uuid().describe('The first admin’s agent id') });

/** PATCH /api/super-admin/tenants/{id} */
export const UpdateTenantBody = z
  .strictObject({
    name: RegisterBody.shape.organization_name.optional(),
    limits: LimitsPatch.optional(),
    status: z.enum(['active', 'suspended']).optional().describe('suspended stops the organization like DELETE; active resumes it'),
  })
  .refine((b) => Object.keys(b).length > 0, 'name at least one field to change');

/** /api/super-admin/tenants/{id}/users/{userId}/... */
export const TenantUserParams = z.strictObject({ id: Id, userId: Id });

/** GET /api/super-admin/tenants/{id}/users */
export const ListTenantUsersQuery = PageQuery.extend({ q: z.string().trim().min(1).max(100).optional().describe('Part of the name or e-mail, any case') });

/** The impersonation answer: a tenant session token marked as the super admin's. */
export const ImpersonationBody = z.object({
  token: z.string().describe('A tenant session token for the user; it cannot reach super-admin routes'),
  token_type: z.literal('Bearer'),
  expires_at: z.iso.datetime().describe('Short-lived; refreshing it does not extend it'),
  impersonated: z.literal(true),
  impersonator_id: z.uuid().describe('The super admin; every call made with the token is in the tenant’s activity log with this id'),
  agent: AgentBody,
  tenant: TenantBody,
});

/** GET /api/super-admin/health */
export const SystemHealthBody = z.object({
  status: HealthBody.shape.status,
  checks: HealthBody.shape.checks,
  job_queue: z
    .object({ waiting: z.number().int().describe('Due jobs no worker has taken yet'), lag_seconds: z.number().describe('How long the oldest of them has been due') })
    .nullable()
    .describe('null while the database is down'),
  event_listeners: z
    .array(
      z.object({
        listener: z.string(),
        max_lag_events: z.number().int().describe('Most events it has yet to handle in one tenant'),
        tenants_behind: z.number().int(),
        tenants_retrying: z.number().int().describe('Tenants where an event failed and waits for a retry'),
      }),
    )
    .nullable(),
  processes: z.array(z.object({ id: z.string(), hostname: z.string(), pid: z.number().int(), sockets: z.number().int(), started_at: z.string(), last_seen_at: z.string() })),
  process_count: z.number().int(),
  sockets_total: z.number().int(),
});
