/** Super Admin: tenant organizations, their usage and users, and impersonation. */
import type { Context } from 'koa';
import { AgentBody, presentAgent } from '../../presenters/agent.js';
import { presentPage } from '../../presenters/page.js';
import { presentPlatformTenant, presentTenantUsage, PlatformTenantBody, TenantUsageBody } from '../../presenters/super-admin.js';
import { presentTenant } from '../../presenters/tenant.js';
import { agentExtrasOf } from '../../services/agent-view.js';
import type { AgentView } from '../../services/agents.js';
import { impersonate, type Impersonation } from '../../services/impersonation.js';
import { getTenant, listTenants, listTenantUsage, provisionTenant, suspendTenant, updatePlatformTenant } from '../../services/platform-tenants.js';
import { activateTenantUser, listTenantUsers, resetTenantUserPassword, suspendTenantUser, type TenantUserRef } from '../../services/tenant-users.js';
import { IdParams, pageOf } from '../schemas/common.js';
import { route, SUPER_ADMIN, type RouteDef } from '../route.js';
import {
  ImpersonationBody,
  ListTenantsQuery,
  ListTenantUsersQuery,
  ProvisionedTenantBody,
  ProvisionTenantBody,
  ResetPasswordBody,
  TenantUserParams,
  UpdateTenantBody,
} from './super-admin.schema.js';

const present = (v: AgentView) => presentAgent(v.user, v.extras);
const origin = (ctx: Context) => ({ ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null });
const theTenant = ({ params }: { params: Record<string, string> }) => params.id ?? null;
const theUser = ({ params }: { params: Record<string, string> }) => params.userId ?? null;

const presentImpersonation = async (s: Impersonation, impersonatorId: string) => ({
  token: s.token,
  token_type: 'Bearer' as const,
  expires_at: s.expires_at,
  impersonated: true as const,
  impersonator_id: impersonatorId,
  agent: presentAgent(s.user, await agentExtrasOf(s.user)),
  tenant: presentTenant(s.tenant),
});

/** POST .../users/{userId}/suspend or /activate: one user's standing, recorded as agent.suspended or agent.activated. */
function userStandingRoute(verb: 'suspend' | 'activate', summary: string, description: string, change: (ref: TenantUserRef) => Promise<AgentView>): RouteDef {
  return route({
    method: 'post',
    path: `/api/super-admin/tenants/{id}/users/{userId}/${verb}`,
    summary,
    description,
    access: SUPER_ADMIN,
    params: TenantUserParams,
    response: AgentBody,
    errors: { 422: 'The user is deleted' },
    audit: { action: verb === 'suspend' ? 'agent.suspended' : 'agent.activated', resource: 'agent', tenant: theTenant, target: theUser },
    handler: async ({ params }) => present(await change({ tenantId: params.id, userId: params.userId })),
  });
}

const IMPERSONATION =
  'A tenant session token for the user, marked with the super admin’s id (`imp` claim), lasting 15 minutes (refreshing does not extend it). Every call made with it is recorded in the tenant’s activity log with `impersonator_id`; it cannot create API keys or reveal webhook secrets, and it does not reach super-admin routes (403).';

/** The tenant routes of the Super Admin group; `/tenants/usage` is declared before `/tenants/{id}`. */
export const superAdminTenantRoutes: RouteDef[] = [
  route({
    method: 'get',
    path: '/api/super-admin/tenants',
    summary: 'List all tenant organizations',
    description: 'Newest first; `q` matches part of the name or slug, `status` filters.',
    access: SUPER_ADMIN,
    query: ListTenantsQuery,
    response: pageOf(PlatformTenantBody),
    handler: async ({ query }) => presentPage(await listTenants(query), presentPlatformTenant),
  }),
  route({
    method: 'post',
    path: '/api/super-admin/tenants',
    summary: 'Provision a new tenant',
    description: 'Creates the organization exactly as registration does (built-in roles, the admin account, default working hours), with optional plan limits. The admin signs in with the password given.',
    access: SUPER_ADMIN,
    body: ProvisionTenantBody,
    response: ProvisionedTenantBody,
    status: 201,
    errors: { 409: 'The requested slug is taken' },
    audit: 'none', // the service records tenant.provisioned in the new tenant's log
    handler: async ({ body, principal, ctx }) => {
      const { tenant, adminId } = await provisionTenant({
        actor: principal,
        organizationName: body.organization_name,
        slug: body.slug,
        timezone: body.timezone,
        admin: body.admin,
        limits: body.limits,
        origin: origin(ctx),
      });
      return { ...presentPlatformTenant(tenant), admin_id: adminId };
    },
  }),
  route({
    method: 'get',
    path: '/api/super-admin/tenants/usage',
    summary: 'List all tenants with usage statistics',
    description: 'The tenant list (same filters and order) with each one’s agents, channel accounts, conversations and messages this month (the calendar month in the tenant’s time zone) and stored media bytes.',
    access: SUPER_ADMIN,
    query: ListTenantsQuery,
    response: pageOf(TenantUsageBody),
    handler: async ({ query }) => presentPage(await listTenantUsage(query), presentTenantUsage),
  }),
  route({
    method: 'get',
    path: '/api/super-admin/tenants/{id}',
    summary: 'Get a tenant organization',
    access: SUPER_ADMIN,
    params: IdParams,
    response: PlatformTenantBody,
    handler: async ({ params }) => presentPlatformTenant(await getTenant(params.id)),
  }),
  route({
    method: 'delete',
    path: '/api/super-admin/tenants/{id}',
    summary: 'Suspend a tenant organization',
    description:
      'Suspends, keeping every datum: within a second its tokens and API keys answer 401, its sockets close on every process, its channel webhooks are skipped and its outgoing webhooks wait. PATCH `status: active` resumes it. Suspending a suspended tenant changes nothing.',
    access: SUPER_ADMIN,
    params: IdParams,
    response: PlatformTenantBody,
    audit: { action: 'tenant.suspended', resource: 'tenant', tenant: theTenant },
    handler: async ({ params }) => presentPlatformTenant(await suspendTenant(params.id)),
  }),
  route({
    method: 'patch',
    path: '/api/super-admin/tenants/{id}',
    summary: 'Update a tenant organization',
    description: 'Name, plan limits (null lifts one) and status (`suspended` as DELETE, `active` resumes).',
    access: SUPER_ADMIN,
    params: IdParams,
    body: UpdateTenantBody,
    response: PlatformTenantBody,
    audit: { action: 'tenant.updated', resource: 'tenant', tenant: theTenant },
    handler: async ({ params, body }) => presentPlatformTenant(await updatePlatformTenant({ id: params.id, ...body })),
  }),
  route({
    method: 'post',
    path: '/api/super-admin/tenants/{id}/impersonate',
    summary: 'Impersonate a tenant admin',
    description: `Signs in as the organization’s first active admin. ${IMPERSONATION}`,
    access: SUPER_ADMIN,
    params: IdParams,
    response: ImpersonationBody,
    errors: { 422: 'The organization is suspended or has no active admin' },
    audit: { action: 'impersonation.started', resource: 'agent', tenant: theTenant, target: ({ result }) => result.agent.id },
    handler: async ({ params, principal }) => presentImpersonation(await impersonate({ actor: principal, tenantId: params.id }), principal.superAdminId),
  }),
  route({
    method: 'get',
    path: '/api/super-admin/tenants/{id}/users',
    summary: 'List tenant users',
    description: 'The organization’s live agents by name; `q` matches part of the name or e-mail.',
    access: SUPER_ADMIN,
    params: IdParams,
    query: ListTenantUsersQuery,
    response: pageOf(AgentBody),
    handler: async ({ params, query }) => presentPage(await listTenantUsers({ tenantId: params.id, ...query }), present),
  }),
  route({
    method: 'post',
    path: '/api/super-admin/tenants/{id}/users/{userId}/reset-password',
    summary: 'Reset a tenant user\'s password',
    description: 'Sets the password given; every session of the user ends at once (its sockets close).',
    access: SUPER_ADMIN,
    params: TenantUserParams,
    body: ResetPasswordBody,
    response: AgentBody,
    errors: { 422: 'The user is deleted' },
    audit: { action: 'agent.password_reset', resource: 'agent', tenant: theTenant, target: theUser },
    handler: async ({ params, body }) => present(await resetTenantUserPassword({ tenantId: params.id, userId: params.userId, password: body.password })),
  }),
  userStandingRoute('suspend', 'Suspend a tenant user', 'Deactivates the user: offline, every session ended, API keys refused while inactive. Idempotent.', suspendTenantUser),
  userStandingRoute('activate', 'Activate a tenant user', 'Reactivates a suspended user; they sign in again (old sessions stay ended). Idempotent.', activateTenantUser),
  route({
    method: 'post',
    path: '/api/super-admin/tenants/{id}/users/{userId}/impersonate',
    summary: 'Impersonate a tenant user',
    description: `Signs in as the user. ${IMPERSONATION}`,
    access: SUPER_ADMIN,
    params: TenantUserParams,
    response: ImpersonationBody,
    errors: { 422: 'The organization is suspended, or the user is suspended or deleted' },
    audit: { action: 'impersonation.started', resource: 'agent', tenant: theTenant, target: theUser },
    handler: async ({ params, principal }) =>
      presentImpersonation(await impersonate({ actor: principal, tenantId: params.id, userId: params.userId }), principal.superAdminId),
  }),
];
