/**
 * Keeps webhook bodies as the exact bytes received: signatures (Meta's X-Hub-Signature-256,
 * Mailgun's) cover the raw bytes, and re-serialized JSON never matches. Other routes go on to
 * the parsing body middleware.
 */
import type { Context, Next } from 'koa';
import { AppError } from '../../errors.js';

/** Reads POST bodies under `prefix` into `ctx.state.rawBody` (413 past the path's `limitBytes`). */
export function rawBodyFor(prefix: string, limitOf: (path: string) => number) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || !ctx.path.startsWith(prefix)) return next();
    const limitBytes = limitOf(ctx.path);
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > limitBytes) throw new AppError(413, 'payload_too_large', 'Request body is too large');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > limitBytes) throw new AppError(413, 'payload_too_large', 'Request body is too large');
      chunks.push(chunk as Buffer);
    }
    ctx.state.rawBody = Buffer.concat(chunks);
    // Marks the body as consumed so the parsing middleware leaves it alone.
    ctx.request.body = {};
    return next();
  };
}
