/**
 * A real local HTTP server playing Meta's Graph API in tests. It records every request and
 * answers from handlers the test registers; an unexpected request fails loudly (answered 599
 * and listed in `unexpected`), so a test never passes while we call something it did not plan.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as received. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. /v21.0/123/messages. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The body as text, and parsed as JSON when it is JSON. */
  text: string;
  json: unknown;
  /** When the request arrived (`Date.now()`, ms): rates are measured where Meta would measure them. */
  at: number;
}

/** What a handler answers. */
export interface FakeReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw bytes instead of JSON (media downloads). */
  raw?: Buffer;
}

type Handler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

/** The running fake. */
export interface FakeGraph {
  /** Base URL to use as META_GRAPH_URL. */
  url: string;
  requests: RecordedRequest[];
  unexpected: RecordedRequest[];
  /** Answers `method path` (path may contain `*` segments) with `handler`; later registrations win. */
  on(method: string, pathPattern: string, handler: Handler | FakeReply): void;
  /**
   * Meta's own state: `token` controls object `id` (a phone number, Page or Instagram account),
   * so `GET /{version}/{id}` with that bearer token answers `{ id, ...fields }` and with any other
   * token Graph's code-100 error, as Meta does. Grants outlive `reset()`: they are who owns what,
   * not a test's plan. A handler registered with `on` for the same path still wins.
   */
  grant(id: string, token: string, fields?: Record<string, unknown>): void;
  /** Forgets requests and handlers (grants stay). */
  reset(): void;
  close(): Promise<void>;
}

/**
 * The most arrivals within any `windowMs` (half-open) of ascending times (ms): a send cap as a
 * provider enforces it, over short windows, where an average over the whole run hides bursts.
 */
export function busiestWindow(times: readonly number[], windowMs = 1000): number {
  let best = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while ((times[hi] as number) - (times[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

const matches = (pattern: string, path: string) => {
  const p = pattern.split('/');
  const a = path.split('/');
  return p.length === a.length && p.every((seg, i) => seg === '*' || seg === a[i]);
};

/** Starts a fake Graph API on a free loopback port. */
export async function startFakeGraph(): Promise<FakeGraph> {
  let routes: { method: string; pattern: string; handler: Handler }[] = [];
  const grants = new Map<string, { tokens: Set<string>; fields: Record<string, unknown> }>();
  // Graph's answer to a node read, for an id someone was granted.
  const readNode = (req: RecordedRequest): FakeReply | null => {
    const [, version, id, ...rest] = req.path.split('/');
    const granted = req.method === 'GET' && version && id && rest.length === 0 ? grants.get(id) : undefined;
    if (!granted) return null;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? req.query.get('access_token');
    if (token && granted.tokens.has(token)) return { body: { id, ...granted.fields } };
    return {
      status: 400,
      body: {
        error: {
          message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
          fbtrace_id: 'AfakeTrace',
        },
      },
    };
  };
  const fake: Omit<FakeGraph, 'url'> & { url: string } = {
    url: '',
    requests: [],
    unexpected: [],
    on(method, pattern, handler) {
      const h: Handler = typeof handler === 'function' ? handler : () => handler;
      routes.unshift({ method: method.toUpperCase(), pattern, handler: h });
    },
    grant(id, token, fields = {}) {
      const granted = grants.get(id) ?? { tokens: new Set<string>(), fields: {} };
      granted.tokens.add(token);
      granted.fields = { ...granted.fields, ...fields };
      grants.set(id, granted);
    },
    reset() {
      routes = [];
      fake.requests.length = 0;
      fake.unexpected.length = 0;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  const server = http.createServer(async (req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, text, json, at };
    fake.requests.push(recorded);
    const route = routes.find((r) => r.method === recorded.method && matches(r.pattern, recorded.path));
    const node = route ? null : readNode(recorded);
    if (node) {
      res.writeHead(node.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(node.body));
      return;
    }
    if (!route) {
      fake.unexpected.push(recorded);
      res.writeHead(599, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake graph: no handler for ${recorded.method} ${recorded.path}` } }));
      return;
    }
    const reply = await route.handler(recorded);
    res.writeHead(reply.status ?? 200, { 'content-type': reply.raw ? 'application/octet-stream' : 'application/json', ...reply.headers });
    res.end(reply.raw ?? JSON.stringify(reply.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
