/**
 * Times every request into the HTTP duration histogram (services/metrics.ts), labelled with the
 * route template the routers matched (`/api/conversations/:id`), never the raw path.
 */
import type { RouterContext } from '@koa/router';
import type { Context, Next } from 'koa';
import { observeHttpRequest } from '../../services/metrics.js';

type Matched = Context & Partial<Pick<RouterContext, '_matchedRoute'>>;

/** Koa middleware, outermost, so it sees the status errors were rendered with. */
export async function recordRequestMetrics(ctx: Context, next: Next): Promise<void> {
  const started = process.hrtime.bigint();
  // An error thrown past renderErrors reaches Koa's own handler, which answers 500.
  let status = 500;
  try {
    await next();
    status = ctx.status;
  } finally {
    const route = (ctx as Matched)._matchedRoute;
    observeHttpRequest(ctx.method, route === undefined ? null : String(route), status, Number(process.hrtime.bigint() - started) / 1e9);
  }
}
