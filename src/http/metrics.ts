/**
 * `GET /metrics`: this process's Prometheus metrics in the text exposition format, for the
 * platform operator's scraper. It exists only when METRICS_TOKEN is configured (otherwise the
 * path answers 404 like any unknown one) and asks for that token as a bearer credential.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { UnauthorizedError } from '../errors.js';
import '../services/metrics-collectors.js';
import { metricsRegistry } from '../services/metrics.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** True when the request carries `Authorization: Bearer <token>`, compared in constant time. */
function hasToken(ctx: Context, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
  // Digests have one length whatever was sent, so the comparison's time says nothing about the token.
  return m?.[1] !== undefined && timingSafeEqual(digest(m[1]), expected);
}

/** The metrics route, or a router without routes when no token is configured. */
export function metricsRouter(token: string | null): Router {
  const router = new Router();
  if (token === null) return router;
  const expected = digest(token);
  router.get('/metrics', async (ctx) => {
    if (!hasToken(ctx, expected)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      throw UnauthorizedError('Requires the metrics token: Authorization: Bearer <METRICS_TOKEN>');
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metricsRegistry.contentType;
    ctx.body = await metricsRegistry.metrics();
  });
  return router;
}
