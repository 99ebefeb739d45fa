/**
 * One HTTP request to an outgoing webhook's URL: the signed JSON body, sent only through the
 * outbound guard (src/net/outbound-guard.ts: every resolved address is checked inside connect,
 * so a name that rebinds to a private address is refused), within the configured timeout, no
 * redirect followed. Answers what happened, never throws.
 *
 * Signature (`x-omnistream-signature: t=<unix seconds>,v1=<hex>`): v1 is
 * HMAC-SHA256(secret, `${t}.${raw body}`). A receiver recomputes it over the exact bytes it
 * received, compares in constant time, and rejects a `t` more than a few minutes from its
 * clock, so a captured request cannot be replayed later.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { appContext } from '../context.js';
import { createOutboundAgent } from '../net/outbound-guard.js';
import { outboundPolicy } from './smtp-settings.js';

/** Most characters of a receiver's answer kept on an attempt. */
export const RESPONSE_BODY_MAX = 1024;

/** The user agent of every delivery. */
export const WEBHOOK_USER_AGENT = 'OmniStream-Webhooks/1';

/** What one request came to. */
export interface WebhookResponse {
  /** True for a 2xx answer. */
  ok: boolean;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_body: string | null;
  /** Seconds from a 429's or 503's Retry-After, when given. */
  retry_after_s: number | null;
}

/** The signature header's value for `body` signed at `t` (unix seconds). */
export function signWebhookBody(secret: string, body: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex')}`;
}

// One agent per protocol, made for the process's policy (the agents check every connection).
const agents = new Map<string, http.Agent>();
function agentFor(protocol: 'http:' | 'https:'): http.Agent {
  const { allowedNetworks, ca } = appContext().config.outbound;
  const key = `${protocol}${allowedNetworks.join(',')}${ca ? ':ca' : ''}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = createOutboundAgent(outboundPolicy(), protocol);
    agents.set(key, agent);
  }
  return agent;
}

const errorText = (err: NodeJS.ErrnoException): string => (err.code ? `${err.code}: ${err.message}` : err.message);

/** POSTs `body` to `url` signed with `secret`, with the event and delivery headers. */
export function sendWebhookRequest(opts: { url: string; secret: string; body: string; event: string; deliveryId: string }): Promise<WebhookResponse> {
  const started = Date.now();
  const { timeoutMs } = appContext().config.outgoingWebhooks;
  const url = new URL(opts.url);
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  const headers = {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'x-omnistream-event': opts.event,
    'x-omnistream-delivery': opts.deliveryId,
    'x-omnistream-signature': signWebhookBody(opts.secret, opts.body, Math.floor(started / 1000)),
    'content-length': String(Buffer.byteLength(opts.body)),
  };
  return new Promise<WebhookResponse>((resolve) => {
    let settled = false;
    const finish = (r: Omit<WebhookResponse, 'latency_ms' | 'retry_after_s'> & { retry_after_s?: number | null }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ retry_after_s: null, ...r, latency_ms: Date.now() - started });
    };
    const request = (protocol === 'https:' ? https.request : http.request)(url, { method: 'POST', headers, agent: agentFor(protocol) }, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept < RESPONSE_BODY_MAX * 4) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      res.on('error', (err) => finish({ ok: false, status_code: res.statusCode ?? null, error: errorText(err), response_body: null }));
      res.on('close', () => finish({ ok: false, status_code: res.statusCode ?? null, error: 'the answer was cut off', response_body: null }));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_BODY_MAX);
        const ok = status >= 200 && status < 300;
        const retryAfter = Number(res.headers['retry-after']);
        finish({
          ok,
          status_code: status,
          error: ok ? null : status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`,
          response_body: text.length > 0 ? text : null,
          retry_after_s: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
        });
      });
    });
    const timer = setTimeout(() => {
      request.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    request.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, status_code: null, error: errorText(err), response_body: null }));
    request.end(opts.body);
  });
}
