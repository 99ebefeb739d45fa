/**
 * A route is declared once: method, contract path, permission, zod schemas and the service call.
 * The same declaration mounts the Koa handler and writes the OpenAPI document, so the two cannot
 * drift apart. Every mutating route names the activity-log action it records.
 */
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Principal, SuperAdminPrincipal } from '../auth/principal.js';
import type { Permission } from '../auth/permissions.js';
import type { LimitName } from '../services/rate-limits.js';
import type { HttpResult } from './result.js';

/**
 * Who may call: anyone, any signed-in caller, holders of one permission, or a super admin
 * (another realm: its tokens reach only these routes, and no tenant credential does).
 */
export type Access = 'public' | 'authenticated' | typeof SUPER_ADMIN | Permission;

/** The access of the platform operator's routes. */
export const SUPER_ADMIN = 'super_admin';

/** The caller a route of this access sees. */
export type CallerOf<A extends Access> = A extends 'public' ? Principal | null : A extends typeof SUPER_ADMIN ? SuperAdminPrincipal : Principal;

/** What the activity log records for a successful mutating call. */
export interface AuditSpec<B> {
  action: string;
  resource: string;
  /** The affected resource's id; defaults to the `id` path parameter or the response's `id`. */
  target?: (input: { params: Record<string, string>; result: B }) => string | null;
  /** Super-admin routes: the tenant whose activity log records the call (absent: none does). */
  tenant?: (input: { params: Record<string, string>; result: B }) => string | null;
}

/** An abuse limit a route counts each call against, keyed from the request (null: not counted). */
export interface RouteLimit<B> {
  limit: LimitName;
  key(input: { ctx: Context; body: B }): string | null;
}

/** The validated input a handler receives. */
export interface RouteInput<P, Q, B, A extends Access> {
  params: P;
  query: Q;
  body: B;
  /** Always present on non-public routes; a public route may still see a valid caller. */
  principal: CallerOf<A>;
  ctx: Context;
}

/** A handler's answer: a body, or an HttpResult when the status is decided at run time. */
export type RouteResult<R> = R | HttpResult<R>;

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

interface BaseRoute<
  P extends Schema | undefined,
  Q extends Schema | undefined,
  B extends Schema | undefined,
  R extends Schema,
  A extends Access,
> {
  path: string;
  summary: string;
  description?: string;
  access: A;
  params?: P;
  query?: Q;
  body?: B;
  /** The success response's schema and status (200 unless said). */
  response: R;
  status?: number;
  /** Other success statuses the handler may answer with the same schema (an upsert's 201), and when. */
  alsoSucceeds?: Record<number, string>;
  /**
   * A multipart/form-data request (file uploads), documented in OpenAPI from this schema. The
   * handler reads the form itself (koa-body leaves it unparsed), so it streams under its limits.
   */
  form?: Schema;
  /** The success answer's content type when it is not JSON (file downloads). */
  produces?: string;
  /** Error statuses worth documenting besides 400/401/403/404 (413, 415, 503...). */
  errors?: Record<number, string>;
  /**
   * Limits counted before the handler runs, after the body is validated (429 + Retry-After);
   * every authenticated route also counts the `apiToken` limit.
   */
  limits?: RouteLimit<Out<B>>[];
  handler(input: RouteInput<Out<P>, Out<Q>, Out<B>, A>): Promise<RouteResult<z.input<R>>>;
}

/** A read route. */
export interface GetRoute<P extends Schema | undefined, Q extends Schema | undefined, R extends Schema, A extends Access>
  extends BaseRoute<P, Q, undefined, R, A> {
  method: 'get';
  audit?: undefined;
}

/** A mutating route: it must say what it records in the activity log. */
export interface MutatingRoute<
  P extends Schema | undefined,
  Q extends Schema | undefined,
  B extends Schema | undefined,
  R extends Schema,
  A extends Access,
> extends BaseRoute<P, Q, B, R, A> {
  method: 'post' | 'put' | 'patch' | 'delete';
  audit: AuditSpec<z.input<R>> | 'none';
}

/** Any declared route (handler parameters are checked where each route is declared). */
export type RouteDef =
  | GetRoute<Schema | undefined, Schema | undefined, Schema, Access>
  | MutatingRoute<Schema | undefined, Schema | undefined, Schema | undefined, Schema, Access>;

/** Declares a route with its types inferred from the schemas. */
export function route<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  R extends Schema = Schema,
  A extends Access = Access,
>(def: GetRoute<P, Q, R, A>): RouteDef;
export function route<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
  R extends Schema = Schema,
  A extends Access = Access,
>(def: MutatingRoute<P, Q, B, R, A>): RouteDef;
export function route(def: unknown): RouteDef {
  return def as RouteDef;
}
