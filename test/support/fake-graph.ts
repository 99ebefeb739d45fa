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
  /** Forgets requests and handlers. */
  reset(): void;
  close(): Promise<void>;
}

const matches = (pattern: string, path: string) => {
  const p = pattern.split('/');
  const a = path.split('/');
  return p.length === a.length && p.every((seg, i) => seg === '*' || seg === a[i]);
};

/** Starts a fake Graph API on a free loopback port. */
export async function startFakeGraph(): Promise<FakeGraph> {
  let routes: { method: string; pattern: string; handler: Handler }[] = [];
  const fake: Omit<FakeGraph, 'url'> & { url: string } = {
    url: '',
    requests: [],
    unexpected: [],
    on(method, pattern, handler) {
      const h: Handler = typeof handler === 'function' ? handler : () => handler;
      routes.unshift({ method: method.toUpperCase(), pattern, handler: h });
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
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, text, json };
    fake.requests.push(recorded);
    const route = routes.find((r) => r.method === recorded.method && matches(r.pattern, recorded.path));
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
