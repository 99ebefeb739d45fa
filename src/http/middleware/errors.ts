/**
 * Renders every error as `{ message, code, details? }`. AppErrors and koa-body's client errors
 * keep their status and message; anything else is a 500 whose message and stack stay in the log.
 */
import type { Context, Next } from 'koa';
import { AppError, RateLimitedError } from '../../errors.js';
import { logger } from '../../logger.js';

const CLIENT_CODES: Record<number, string> = {
  400: 'bad_request',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** Koa middleware: the outermost layer. */
export async function renderErrors(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404;
      ctx.body = { message: `No route for ${ctx.method} ${ctx.path}`, code: 'not_found' };
    }
  } catch (err) {
    if (err instanceof AppError) {
      if (err instanceof RateLimitedError) ctx.set('Retry-After', String(err.retryAfterSeconds));
      ctx.status = err.status;
      ctx.body = { message: err.message, code: err.code, ...(err.details ? { details: err.details } : {}) };
      return;
    }
    const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; type?: string };
    const status = e.status ?? e.statusCode ?? 500;
    if (status >= 400 && status < 500 && e.expose !== false) {
      ctx.status = status;
      ctx.body = { message: clientMessage(status, e), code: CLIENT_CODES[status] ?? 'bad_request' };
      return;
    }
    logger.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error');
    ctx.status = 500;
    ctx.body = { message: 'Internal server error', code: 'internal_error' };
  }
}

function clientMessage(status: number, e: { message?: string; type?: string }): string {
  if (status === 413) return 'Request body is too large';
  if (e.type === 'entity.parse.failed' || /JSON/i.test(e.message ?? '')) return 'Request body is not valid JSON';
  return e.message ?? 'Bad request';
}
