/**
 * HTTP requests the AI makes to addresses a tenant typed (a knowledge URL, a chat endpoint):
 * only through the outbound guard (src/net/outbound-guard.ts checks every resolved address inside
 * connect, so a name that rebinds to a private address is refused), with a time limit on the
 * whole exchange and a limit on the bytes read, no redirect followed.
 */
import http from 'node:http';
import https from 'node:https';
import { createOutboundAgent } from '../net/outbound-guard.js';
import { outboundPolicy } from './smtp-settings.js';

/** What came back. */
export interface GuardedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request that got no answer: refused by the guard, timed out, too large, or the connection failed. */
export class GuardedRequestError extends Error {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'too_large' | 'network',
  ) {
    super(message);
    this.name = 'GuardedRequestError';
  }
}

// One agent per protocol and policy (the agents check every connection).
const agents = new Map<string, http.Agent>();
function agentFor(protocol: 'http:' | 'https:'): http.Agent {
  const policy = outboundPolicy();
  const key = `${protocol}${policy.allowedNetworks.join(',')}${policy.ca ? ':ca' : ''}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = createOutboundAgent(policy, protocol);
    agents.set(key, agent);
  }
  return agent;
}

/** One request; rejects with GuardedRequestError when no whole answer came within the limits. */
export function guardedRequest(
  url: URL,
  opts: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; timeoutMs: number; maxBytes: number },
): Promise<GuardedResponse> {
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  const headers = { ...(opts.headers ?? {}), ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) };
  return new Promise<GuardedResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: GuardedRequestError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(err);
    };
    const request = (protocol === 'https:' ? https.request : http.request)(url, { method: opts.method, headers, agent: agentFor(protocol) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) fail(new GuardedRequestError(`the answer is larger than ${opts.maxBytes} bytes`, 'too_large'));
        else chunks.push(chunk);
      });
      res.on('error', (err) => fail(new GuardedRequestError(err.message, 'network')));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    const timer = setTimeout(() => fail(new GuardedRequestError(`no answer within ${opts.timeoutMs} ms`, 'timeout')), opts.timeoutMs);
    request.on('error', (err: NodeJS.ErrnoException) => fail(new GuardedRequestError(err.code ? `${err.code}: ${err.message}` : err.message, 'network')));
    request.end(opts.body);
  });
}
