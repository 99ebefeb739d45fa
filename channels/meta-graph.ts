/**
 * One client for the Graph API calls besides sending messages: proof of ownership, onboarding
 * (OAuth code exchange, WABA and Page reads, number registration, webhook subscriptions), Page
 * settings and account health. The base URL and version come from configuration (META_GRAPH_URL,
 * META_GRAPH_VERSION), so tests run against the local fake Graph API.
 *
 * Each call has a timeout; a network failure, timeout, 5xx or 429 is retried with exponential
 * backoff (Retry-After honoured up to a cap), since those say nothing about the request itself.
 * Meta's error body (`{ error: { message, type, code, error_subcode, fbtrace_id } }`) is kept on
 * the GraphError so callers can answer clearly. Answers are parsed with ids kept as exact strings.
 * https://developers.facebook.com/docs/graph-api/guides/error-handling
 */
import { parseJsonOrNull } from './json.js';

/** Where and how to ask. */
export interface GraphEndpoint {
  /** META_GRAPH_URL, e.g. https://graph.facebook.com. */
  graphUrl: string;
  /** META_GRAPH_VERSION, e.g. v21.0. */
  graphVersion: string;
  /** Per attempt (META_GRAPH_TIMEOUT_MS); 10 s when absent. */
  timeoutMs?: number;
  /** Further attempts after a 5xx, 429, timeout or network failure (META_GRAPH_RETRIES); none when absent. */
  retries?: number;
}

/** One Graph request. */
export interface GraphRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  /** After the version, e.g. `/me/accounts` or `/{waba-id}/subscribed_apps`. */
  path: string;
  /** Sent as `Authorization: Bearer`, never in the query string (it would reach access logs). */
  token?: string;
  query?: Record<string, string>;
  /** JSON body. */
  body?: Record<string, unknown>;
}

/** Meta's error object, as far as it was readable. */
export interface GraphErrorInfo {
  message: string | null;
  type: string | null;
  code: number | null;
  subcode: number | null;
  fbtraceId: string | null;
  /** `error_user_title` / `error_user_msg`: Meta's explanation for people, which says more than `message` ("Invalid parameter") where given (template reviews). */
  userTitle: string | null;
  userMessage: string | null;
}

/**
 * A Graph call that did not answer a JSON object: `refused` (Meta answered 4xx), `unavailable`
 * (unreachable, timed out, 5xx or 429 after the retries) or `malformed` (2xx without a JSON object).
 */
export class GraphError extends Error {
  constructor(
    readonly kind: 'refused' | 'unavailable' | 'malformed',
    message: string,
    readonly httpStatus: number | null,
    readonly info: GraphErrorInfo,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

/** A JSON object Graph answered. */
export type GraphObject = Record<string, unknown>;

const DEFAULT_TIMEOUT_MS = 10_000;
const BACKOFF_MS = 200;
const MAX_WAIT_MS = 5_000;

const asObject = (v: unknown): GraphObject | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as GraphObject) : undefined);
const asNumber = (v: unknown): number | null => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null);
const asText = (v: unknown, max = 300): string | null => (typeof v === 'string' && v ? v.slice(0, max) : null);

/** Meta's error object out of an answer body. */
export function graphErrorInfo(body: unknown): GraphErrorInfo {
  const e = asObject(asObject(body)?.error);
  return {
    message: asText(e?.message),
    type: asText(e?.type, 64),
    code: asNumber(e?.code),
    subcode: asNumber(e?.error_subcode),
    fbtraceId: asText(e?.fbtrace_id, 64),
    userTitle: asText(e?.error_user_title, 200),
    userMessage: asText(e?.error_user_msg, 600),
  };
}

/** The URL of a request; the token never goes in it. */
export function graphUrl(endpoint: GraphEndpoint, path: string, query: Record<string, string> = {}): string {
  const url = new URL(`${endpoint.graphUrl.replace(/\/+$/, '')}/${endpoint.graphVersion}${path.startsWith('/') ? path : `/${path}`}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.toString();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long to wait before attempt `n` (1-based retry): Retry-After when given, else 200 ms · 2^(n-1) with jitter. */
function backoff(n: number, retryAfter: string | null): number {
  const seconds = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : null;
  const base = seconds ?? BACKOFF_MS * 2 ** (n - 1);
  return Math.min(MAX_WAIT_MS, base + Math.floor(Math.random() * BACKOFF_MS * 0.25));
}

interface Attempt {
  status: number | null;
  body: unknown;
  retryAfter: string | null;
  failure: string | null;
}

async function attempt(endpoint: GraphEndpoint, req: GraphRequest): Promise<Attempt> {
  const headers: Record<string, string> = {};
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  if (req.body) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(graphUrl(endpoint, req.path, req.query), {
      method: req.method ?? 'GET',
      headers,
      ...(req.body ? { body: JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    const body = parseJsonOrNull(await res.text());
    return { status: res.status, body, retryAfter: res.headers.get('retry-after'), failure: null };
  } catch (err) {
    return { status: null, body: null, retryAfter: null, failure: (err as Error).message };
  }
}

/** Calls the Graph API; answers the JSON object, or throws a GraphError. */
export async function callGraph(endpoint: GraphEndpoint, req: GraphRequest): Promise<GraphObject> {
  const retries = endpoint.retries ?? 0;
  let last: Attempt | null = null;
  for (let n = 0; n <= retries; n++) {
    if (n > 0) await sleep(backoff(n, last?.retryAfter ?? null));
    last = await attempt(endpoint, req);
    const transient = last.status === null || last.status >= 500 || last.status === 429;
    if (!transient) break;
  }
  const a = last as Attempt;
  const info = graphErrorInfo(a.body);
  const what = `${req.method ?? 'GET'} ${req.path.replace(/\?.*$/, '')}`;
  if (a.status === null) throw new GraphError('unavailable', `Graph API unreachable (${what}): ${a.failure}`, null, info);
  if (a.status >= 500 || a.status === 429) {
    throw new GraphError('unavailable', `Graph API answered HTTP ${a.status} (${what})${info.message ? `: ${info.message}` : ''}`, a.status, info);
  }
  if (a.status >= 400) throw new GraphError('refused', info.message ?? `Graph API answered HTTP ${a.status} (${what})`, a.status, info);
  const obj = asObject(a.body);
  if (!obj) throw new GraphError('malformed', `Graph API answered HTTP ${a.status} without a JSON object (${what})`, a.status, info);
  return obj;
}
