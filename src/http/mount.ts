/**
 * Turns route declarations into Koa handlers: authenticate, check access, validate params,
 * query and body with the route's zod schemas, call the handler, record the activity.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Principal, SuperAdminPrincipal } from '../auth/principal.js';
import { AppError, assertNoFieldIssues, ForbiddenError, UnauthorizedError, ValidationError, type FieldIssue } from '../errors.js';
import { recordActivity } from '../services/activity-log.js';
import { consumeLimit } from '../services/rate-limits.js';
import { authenticateSuperAdmin } from '../services/super-admin-auth.js';
import { authenticateToken } from '../services/tokens.js';
import { appContext } from '../context.js';
import { checkAnswer } from './conformance.js';
import { SUPER_ADMIN, type RouteDef } from './route.js';
import { HttpResult } from './result.js';

/** An API group: its contract name and its routes. */
export interface RouteGroup {
  group: string;
  routes: RouteDef[];
}

/** `/api/x/{id}` (contract) -> `/api/x/:id` (Koa). */
export const koaPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** The bearer token from `Authorization` or the session cookie. */
export function readToken(ctx: Context): string | null {
  const header = ctx.get('authorization');
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw UnauthorizedError('Authorization header must be "Bearer <token>"');
    return m[1] ?? null;
  }
  return ctx.cookies.get(appContext().config.cookie.name) ?? null;
}

function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: FieldIssue['in']): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const details: FieldIssue[] = result.error.issues.map((i) => ({ in: where, field: i.path.join('.') || null, message: i.message }));
  assertNoFieldIssues(details);
  throw ValidationError(`Invalid request ${where}`);
}

/** A super admin's credential, or 403 for a valid tenant one (the other realm) and 401 otherwise. */
async function authenticateOperator(token: string): Promise<SuperAdminPrincipal> {
  try {
    const admin = await authenticateSuperAdmin(token);
    await consumeLimit('apiToken', `super-admin:${admin.jti}`);
    return admin;
  } catch (err) {
    if (statusOfError(err) !== 401) throw err;
    const tenantCaller = await authenticateToken(token).then(Boolean, () => false);
    throw tenantCaller ? ForbiddenError('Requires a super-admin account; tenant tokens and API keys, impersonation included, cannot call it') : err;
  }
}

async function authenticate(ctx: Context, def: RouteDef): Promise<Principal | SuperAdminPrincipal | null> {
  if (def.access === 'public') {
    // A public route may still use a valid caller (the working-hours status finds the tenant
    // from it); a bad token there is ignored rather than refused.
    try {
      const token = readToken(ctx);
      return token ? await authenticateToken(token) : null;
    } catch {
      return null;
    }
  }
  const token = readToken(ctx);
  if (!token) throw UnauthorizedError();
  if (def.access === SUPER_ADMIN) return authenticateOperator(token);
  const principal = await authenticateToken(token);
  // Per credential: a session's tokens share its jti's count, an API key its id's.
  await consumeLimit('apiToken', principal.apiKeyId ?? principal.jti ?? principal.userId);
  if (def.access !== 'authenticated' && !principal.permissions.has(def.access)) {
    throw ForbiddenError(`Requires the ${def.access} permission`);
  }
  return principal;
}

function handle(def: RouteDef, checkConformance: boolean) {
  const answer = answerRoute(def);
  if (!checkConformance) return answer;
  return async (ctx: Context) => {
    try {
      await answer(ctx);
      checkAnswer(def, ctx.status);
    } catch (err) {
      checkAnswer(def, statusOfError(err));
      throw err;
    }
  };
}

/** The status renderErrors gives an error (middleware/errors.ts). */
function statusOfError(err: unknown): number {
  const e = err as { status?: number; statusCode?: number; expose?: boolean };
  const status = e.status ?? e.statusCode ?? 500;
  return status >= 400 && status < 500 && e.expose !== false ? status : err instanceof AppError ? err.status : 500;
}

function answerRoute(def: RouteDef) {
  return async (ctx: Context) => {
    const principal = await authenticate(ctx, def);
    const params = parse(def.params, ctx.params, 'params') as Record<string, string>;
    const query = parse(def.query, ctx.query, 'query');
    const body = parse(def.body, ctx.request.body, 'body');
    for (const { limit, key } of def.limits ?? []) {
      const value = key({ ctx, body: body as never });
      if (value !== null) await consumeLimit(limit, value);
    }
    const result = await def.handler({ params, query, body, principal, ctx } as never);
    const [status, payload] = result instanceof HttpResult ? [result.status, result.body] : [def.status ?? 200, result];
    const origin = { ip: ctx.ip, userAgent: ctx.get('user-agent') || null };
    const audit = def.method !== 'get' && def.audit !== 'none' ? def.audit : null;
    if (audit && principal) {
      const input = { params: params ?? {}, result: payload };
      const target = audit.target ? audit.target(input) : (params?.id ?? (payload as { id?: string } | null)?.id ?? null);
      const tenantId = 'realm' in principal ? (audit.tenant?.(input) ?? null) : principal.tenantId;
      if (tenantId) await recordActivity({ tenantId, actor: principal, action: audit.action, resourceType: audit.resource, resourceId: target, details: body, ...origin });
    } else if (principal && 'impersonatorId' in principal && principal.impersonatorId) {
      // During an impersonation every call is recorded, reads too, with the super admin's id.
      const resourceId = `${def.method.toUpperCase()} ${def.path}`;
      await recordActivity({ tenantId: principal.tenantId, actor: principal, action: 'impersonation.request', resourceType: 'api', resourceId, details: { path: ctx.path }, ...origin });
    }
    ctx.status = status;
    ctx.body = status === 204 ? null : payload;
  };
}

/**
 * Mounts every group's routes on one router. With `checkConformance` (tests) each answer's
 * status is checked against the route's documented ones (conformance.ts).
 */
export function mountRoutes(groups: RouteGroup[], checkConformance = false): Router {
  const router = new Router();
  for (const { routes } of groups) {
    for (const def of routes) router[def.method](koaPath(def.path), handle(def, checkConformance));
  }
  return router;
}
