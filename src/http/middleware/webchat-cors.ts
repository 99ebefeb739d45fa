/**
 * CORS for the one API call widget.js makes from a tenant's site (POST /api/webchat/sessions):
 * any origin may ask, and the answer is readable by it, so a refused page gets the clear reason
 * (403 origin_not_allowed) rather than an opaque network error. Which origins may actually start a
 * session is the handler's decision (the tenant's allowed_origins); no cookies are involved.
 */
import type { Context, Next } from 'koa';

const PATH = '/api/webchat/sessions';

/** Koa middleware, before the method checks: answers the preflight and marks the answer readable. */
export async function webchatCors(ctx: Context, next: Next): Promise<void> {
  const origin = ctx.get('origin');
  if (ctx.path !== PATH || !origin) return next();
  ctx.set('Access-Control-Allow-Origin', origin);
  ctx.vary('Origin');
  if (ctx.method === 'OPTIONS') {
    ctx.set('Access-Control-Allow-Methods', 'POST');
    ctx.set('Access-Control-Allow-Headers', 'content-type');
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
    return;
  }
  await next();
}
