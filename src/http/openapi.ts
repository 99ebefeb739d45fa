/** The OpenAPI 3.1 document, written from the same route declarations that serve requests. */
import { z } from 'zod';
import { ErrorBody } from './schemas/common.js';
import type { RouteGroup } from './mount.js';
import type { RouteDef } from './route.js';

type JsonSchema = Record<string, unknown>;

const inputSchema = (s: z.ZodType): JsonSchema =>
  z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
const outputSchema = (s: z.ZodType): JsonSchema =>
  z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' }) as JsonSchema;

function parameters(def: RouteDef) {
  const out: Record<string, unknown>[] = [];
  for (const [where, schema] of [['path', def.params], ['query', def.query]] as const) {
    if (!schema) continue;
    const json = inputSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: prop,
        ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
      });
    }
  }
  return out;
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** Every status a route may answer, with what it means: what OpenAPI lists and what tests hold the server to. */
export function documentedStatuses(def: RouteDef): Map<number, string> {
  const statuses = new Map<number, string>([[400, 'Invalid parameters, query or body']]);
  if (def.access !== 'public') {
    statuses.set(401, 'Missing, invalid, expired or revoked credentials');
    if (def.access !== 'authenticated') statuses.set(403, `Caller lacks ${def.access}`);
  }
  if (def.params) statuses.set(404, 'Not found in the caller’s organization');
  if (def.access !== 'public' || def.limits?.length) statuses.set(429, 'Too many requests: a rate limit is used up');
  // A route's own words win: what else it answers, or what a common status means for it.
  for (const [code, description] of Object.entries(def.errors ?? {})) statuses.set(Number(code), description);
  return statuses;
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds until the limit allows another call', schema: { type: 'integer' } } };

/** Every status a route may answer at all: its successes and documentedStatuses. */
export function answerStatuses(def: RouteDef): Set<number> {
  return new Set([def.status ?? 200, ...Object.keys(def.alsoSucceeds ?? {}).map(Number), ...documentedStatuses(def).keys()]);
}

function operation(group: string, def: RouteDef) {
  const success = (status: number, description: string) => ({
    description,
    ...(status === 204 || status === 304
      ? {}
      : { content: def.produces ? { [def.produces]: { schema: { type: 'string', format: 'binary' } } } : { 'application/json': { schema: outputSchema(def.response) } } }),
  });
  const responses: Record<string, unknown> = { [def.status ?? 200]: success(def.status ?? 200, def.summary) };
  for (const [code, description] of Object.entries(def.alsoSucceeds ?? {})) responses[code] = success(Number(code), description);
  for (const [code, description] of documentedStatuses(def)) {
    responses[code] = code === 429 ? { ...errorResponse(description), headers: RETRY_AFTER } : errorResponse(description);
  }
  return {
    tags: [group],
    summary: def.summary,
    ...(def.description ? { description: def.description } : {}),
    operationId: `${def.method}${def.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    'x-permission': def.access,
    security: def.access === 'public' ? [] : [{ bearer: [] }, { cookie: [] }],
    parameters: parameters(def),
    ...(def.body ? { requestBody: { required: true, content: { 'application/json': { schema: inputSchema(def.body) } } } } : {}),
    ...(def.form ? { requestBody: { required: true, content: { 'multipart/form-data': { schema: inputSchema(def.form) } } } } : {}),
    responses,
  };
}

/** Builds the document for the given groups. */
export function buildOpenApi(groups: RouteGroup[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { group, routes } of groups) {
    for (const def of routes) {
      paths[def.path] ??= {};
      (paths[def.path] as Record<string, unknown>)[def.method] = operation(group, def);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'OmniStream API',
      version: '0.1.0',
      description:
        'Multi-tenant omnichannel customer service. Authenticate with `Authorization: Bearer <JWT or API key>` or the session cookie set by login. Errors are `{ message, code, details? }`.',
    },
    // A contract group may be served by several route modules (Automation, AI Agents, Billing): one tag each.
    tags: [...new Set(groups.map((g) => g.group))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: outputSchema(ErrorBody) },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A JWT from /api/auth/login or an `osk_` API key' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'omnistream_token' },
      },
    },
  };
}
