/**
 * A route is declared once: method, contract path, permission, zod schemas and the service call.
 * The same declaration mounts the Koa handler and writes the OpenAPI document, so the two cannot
 * drift apart. Every mutating route names the activity-log action it records.
 */
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Permission } from '../auth/permissions.js';
import type { LimitName } from '../services/rate-limits.js';
import type { HttpResult } from './result.js';

/** Who may call: anyone, any signed-in caller, or holders of one permission. */
export type Access = 'public' | 'authenticated' | Permission;

/** What the activity log records for a successful mutating call. */
export interface AuditSpec<B> {
  action: string;
  resource: string;
  /** The affected resource's id; defaults to the `id` path parameter or the response's `id`. */
  target?: (input: { params: Record<string, string>; result: B }) => string | null;
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
  principal: A extends 'public' ? Principal | null : Principal;
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
