/**
 * Super Admin: the platform operator's realm. Its own accounts and tokens (a distinct JWT
 * audience): tenant tokens and API keys get 403 here, and its tokens get 401 on tenant routes.
 */
import type { Context } from 'koa';
import { presentSuperAdmin, SuperAdminBody } from '../../presenters/super-admin.js';
import { loginSuperAdmin } from '../../services/super-admin-auth.js';
import { createSuperAdminAccount, deleteSuperAdminAccount, listSuperAdminAccounts, resetSuperAdminPassword } from '../../services/super-admins.js';
import { checkSystemHealth } from '../../services/system-health.js';
import type { RouteGroup } from '../mount.js';
import { HttpResult } from '../result.js';
import { route, SUPER_ADMIN } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import { z } from 'zod';
import { CreateSuperAdminBody, ResetPasswordBody, SuperAdminLoginBody, SuperAdminSessionBody, SystemHealthBody } from './super-admin.schema.js';
import { superAdminTenantRoutes } from './super-admin-tenants.js';

// The same limits as tenant login, counted apart (a guesser of one realm does not lock out the other).
const byIp = ({ ctx }: { ctx: Context }) => (ctx.ip ? `super-admin:${ctx.ip}` : null);
const byEmail = ({ body }: { body: { email: string } }) => `super-admin:${body.email.toLowerCase()}`;

/** The Super Admin group. */
export const superAdminRoutes: RouteGroup = {
  group: 'Super Admin',
  routes: [
    route({
      method: 'post',
      path: '/api/super-admin/login',
      summary: 'Super-admin login',
      description:
        'Returns a super-admin token (Bearer only, no cookie) lasting at most 2 hours. An unknown e-mail and a wrong password get the same 401. Attempts are limited per IP and per e-mail like tenant login (429 with Retry-After). The first account is made with `npm run super-admin:create`.',
      access: 'public',
      body: SuperAdminLoginBody,
      response: SuperAdminSessionBody,
      errors: { 401: 'Invalid e-mail or password' },
      limits: [
        { limit: 'loginIp', key: byIp },
        { limit: 'loginEmail', key: byEmail },
      ],
      audit: 'none', // not a tenant's action; the account's last_login_at records it
      handler: async ({ body }) => {
        const s = await loginSuperAdmin(body);
        return { token: s.token, token_type: 'Bearer' as const, expires_at: s.expires_at, admin: presentSuperAdmin(s.admin) };
      },
    }),
    ...superAdminTenantRoutes,
    route({
      method: 'get',
      path: '/api/super-admin/health',
      summary: 'System health check',
      description:
        'Database, Redis and media storage pings; the job queue’s due-but-untaken jobs and how long the oldest waited; each durable event listener’s distance behind the tenants’ event logs; the live server processes (from their Redis heartbeats) and the sockets each holds. 200 when every dependency is up, 503 otherwise.',
      access: SUPER_ADMIN,
      response: SystemHealthBody,
      errors: { 503: 'A dependency is down' },
      handler: async () => {
        const health = await checkSystemHealth();
        return new HttpResult(health.status === 'ok' ? 200 : 503, health);
      },
    }),
    route({
      method: 'get',
      path: '/api/super-admin/admins',
      summary: 'List super-admin accounts',
      description: 'Oldest first.',
      access: SUPER_ADMIN,
      response: z.object({ data: z.array(SuperAdminBody) }),
      handler: async () => ({ data: (await listSuperAdminAccounts()).map(presentSuperAdmin) }),
    }),
    route({
      method: 'post',
      path: '/api/super-admin/admins',
      summary: 'Create a super-admin account',
      description: 'Only a super admin can: tenant tokens and impersonation tokens get 403.',
      access: SUPER_ADMIN,
      body: CreateSuperAdminBody,
      response: SuperAdminBody,
      status: 201,
      errors: { 409: 'The e-mail already has an account' },
      audit: 'none', // platform accounts are in no tenant's log; the service logs it
      handler: async ({ body, principal }) => presentSuperAdmin(await createSuperAdminAccount({ actor: principal, ...body })),
    }),
    route({
      method: 'delete',
      path: '/api/super-admin/admins/{id}',
      summary: 'Delete a super-admin account',
      description: 'Its tokens stop at once. The last account cannot be deleted (422), even by two deletions at the same moment.',
      access: SUPER_ADMIN,
      params: IdParams,
      response: MessageBody,
      errors: { 422: 'It is the last super-admin account' },
      audit: 'none', // platform accounts are in no tenant's log; the service logs it
      handler: async ({ params, principal }) => {
        await deleteSuperAdminAccount({ actor: principal, id: params.id });
        return { message: 'Super-admin account deleted' };
      },
    }),
    route({
      method: 'post',
      path: '/api/super-admin/admins/{id}/reset-password',
      summary: 'Reset a super-admin\'s password',
      description: 'Sets the password given; every token of the account stops at once (the caller’s own too, when it is theirs).',
      access: SUPER_ADMIN,
      params: IdParams,
      body: ResetPasswordBody,
      response: SuperAdminBody,
      audit: 'none', // platform accounts are in no tenant's log; the service logs it
      handler: async ({ params, body, principal }) => presentSuperAdmin(await resetSuperAdminPassword({ actor: principal, id: params.id, password: body.password })),
    }),
  ],
};
