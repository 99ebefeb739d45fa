/** Auth: register, login, logout, profile, token refresh. */
import type { Context } from 'koa';
import { appContext } from '../../context.js';
import { roles } from '../../models/role.js';
import { presentAgent } from '../../presenters/agent.js';
import { presentTenant } from '../../presenters/tenant.js';
import { agentExtrasOf } from '../../services/agent-view.js';
import { currentProfile, login, logout, refreshToken, registerTenant, type Session } from '../../services/auth.js';
import { MessageBody } from '../schemas/common.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { LoginBody, MeBody, RegisterBody, SessionBody, TokenBody } from './auth.schema.js';

function setSessionCookie(ctx: Context, token: string | null, expiresAt?: string) {
  const { cookie } = appContext().config;
  // Behind a TLS-terminating proxy that does not send X-Forwarded-Proto, Koa sees plain HTTP
  // and would refuse a Secure cookie with a 500; the browser still gets it only over HTTPS.
  if (cookie.secure) ctx.cookies.secure = true;
  ctx.cookies.set(cookie.name, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: cookie.secure,
    path: '/',
    ...(expiresAt ? { expires: new Date(expiresAt) } : {}),
  });
}

async function presentSession(ctx: Context, s: Session) {
  setSessionCookie(ctx, s.token, s.expires_at);
  const role = await roles.findOwnedOrNull(s.user.tenant_id, s.user.role_id);
  return {
    token: s.token,
    token_type: 'Bearer' as const,
    expires_at: s.expires_at,
    agent: presentAgent(s.user, await agentExtrasOf(s.user)),
    tenant: presentTenant(s.tenant),
    permissions: role?.permissions ?? [],
  };
}

const origin = (ctx: Context) => ({ ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null });

// Counted per client IP and per e-mail (any IP), whatever the outcome: a guesser spreading
// attempts over addresses still meets the e-mail's limit.
const byIp = ({ ctx }: { ctx: Context }) => ctx.ip || null;
const byEmail = ({ body }: { body: { email: string } }) => body.email.toLowerCase();

/** The Auth group. */
export const authRoutes: RouteGroup = {
  group: 'Auth',
  routes: [
    route({
      method: 'post',
      path: '/api/auth/register',
      summary: 'Register a new tenant organization',
      description: 'Creates the organization, its built-in roles (admin, supervisor, agent), the admin account and default working hours (Asia/Jakarta, Mon-Fri 08:00-17:00). Returns a session like login.',
      access: 'public',
      body: RegisterBody,
      response: SessionBody,
      errors: { 409: 'The requested slug is taken' },
      status: 201,
      limits: [
        { limit: 'registerIp', key: byIp },
        { limit: 'registerEmail', key: byEmail },
      ],
      audit: 'none', // the service records tenant.registered with the new admin as actor
      handler: async ({ body, ctx }) =>
        presentSession(
          ctx,
          await registerTenant({
            organizationName: body.organization_name,
            ...(body.slug ? { slug: body.slug } : {}),
            ...(body.timezone ? { timezone: body.timezone } : {}),
            name: body.name,
            email: body.email,
            password: body.password,
            origin: origin(ctx),
          }),
        ),
    }),
    route({
      method: 'post',
      path: '/api/auth/login',
      summary: 'Login with email and password',
      description:
        'Sets an httpOnly session cookie and returns the same JWT for `Authorization: Bearer`. An unknown e-mail and a wrong password get the same 401 in about the same time; "tenant_required" (400) comes only after the password matched in several organizations. Attempts are limited per IP and per e-mail (429 with Retry-After).',
      access: 'public',
      body: LoginBody,
      response: SessionBody,
      errors: { 401: 'Invalid e-mail or password, a deactivated account or a suspended organization' },
      limits: [
        { limit: 'loginIp', key: byIp },
        { limit: 'loginEmail', key: byEmail },
      ],
      audit: 'none', // the service records auth.login and auth.login_failed
      handler: async ({ body, ctx }) =>
        presentSession(
          ctx,
          await login({ email: body.email, password: body.password, ...(body.tenant ? { tenant: body.tenant } : {}), origin: origin(ctx) }),
        ),
    }),
    route({
      method: 'get',
      path: '/api/auth/me',
      summary: 'Get current agent profile',
      access: 'authenticated',
      response: MeBody,
      handler: async ({ principal }) => {
        const p = principal;
        const { user, tenant } = await currentProfile(p);
        return {
          agent: presentAgent(user, await agentExtrasOf(user)),
          tenant: presentTenant(tenant),
          permissions: [...p.permissions].sort(),
          via: p.via,
          impersonator_id: p.impersonatorId ?? null,
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/logout',
      summary: 'Logout (clears cookie)',
      description: 'Revokes the session token (it stops working at once, in every process, and sockets opened with it close) and clears the cookie.',
      access: 'authenticated',
      response: MessageBody,
      audit: { action: 'auth.logout', resource: 'agent', target: () => null },
      handler: async ({ principal, ctx }) => {
        await logout(principal);
        setSessionCookie(ctx, null);
        return { message: 'Logged out' };
      },
    }),
    route({
      method: 'get',
      path: '/api/auth/token',
      summary: 'Issue a fresh JWT for the current session',
      description:
        'Rotates the session token: the token presented is revoked (it stops working at once, in every process, and sockets opened with it close) and a new one is returned and set as the cookie. API keys answer 400.',
      access: 'authenticated',
      response: TokenBody,
      handler: async ({ principal, ctx }) => {
        const t = await refreshToken(principal);
        setSessionCookie(ctx, t.token, t.expires_at);
        return { token: t.token, token_type: 'Bearer' as const, expires_at: t.expires_at };
      },
    }),
  ],
};
