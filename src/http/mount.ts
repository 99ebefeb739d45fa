/**
 * Turns route declarations into Koa handlers: authenticate, check access, validate params,
 * query and body with the route's zod schemas, call the handler, record the activity.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { AppError, assertNoFieldIssues, ForbiddenError, UnauthorizedError, ValidationError, type FieldIssue } from '../errors.js';
import { recordActivity } from '../services/activity-log.js';
import { consumeLimit } from '../services/rate-limits.js';
import { authenticateToken } from '../services/tokens.js';
import { appContext } from '../context.js';
import { checkAnswer } from './conformance.js';
import type { RouteDef } from './route.js';
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

async function authenticate(ctx: Context, def: RouteDef): Promise<Principal | null> {
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
    if (def.method !== 'get' && def.audit !== 'none' && principal) {
      const target = def.audit.target
        ? def.audit.target({ params: params ?? {}, result: payload })
        : (params?.id ?? (payload as { id?: string } | null)?.id ?? null);
      await recordActivity({
        tenantId: principal.tenantId,
        actor: principal,
        action: def.audit.action,
        resourceType: def.audit.resource,
        resourceId: target,
        details: body,
        ip: ctx.ip,
        userAgent: ctx.get('user-agent') || null,
      });
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
