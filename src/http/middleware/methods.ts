/**
 * A method no route of a known path takes answers 405 with the `Allow` header (OPTIONS answers
 * 204 with it), whether or not any route uses that method elsewhere: @koa/router's own
 * allowedMethods answers 501 for a method it never registered (TRACE, CONNECT), which tells a
 * client the server cannot do something the path simply does not take.
 */
import type Router from '@koa/router';
import type { Context, Next } from 'koa';

/** The methods the routers' routes take on `path` (HEAD with GET), and whether a route names the path literally. */
function routesOf(routers: Router[], path: string): { methods: string[]; literal: boolean } {
  const layers = routers.flatMap((router) => router.match(path, 'GET').path).filter((layer) => layer.methods.length > 0);
  // A path some route names literally (`/api/conversations/bulk`) takes only those routes'
  // methods, not those of a parameter route it also matches (`/api/conversations/{id}`).
  const literal = layers.filter((layer) => layer.paramNames.length === 0);
  const methods = new Set<string>();
  for (const layer of literal.length > 0 ? literal : layers) for (const m of layer.methods) methods.add(m);
  if (methods.size > 0) methods.add('OPTIONS');
  return { methods: [...methods], literal: literal.length > 0 };
}

function refuse(ctx: Context, allowed: string[]): void {
  ctx.set('Allow', allowed.join(', '));
  if (ctx.method === 'OPTIONS') {
    ctx.status = 204;
    return;
  }
  ctx.status = 405;
  ctx.body = { message: `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allowed.join(', ')}`, code: 'method_not_allowed' };
}

/**
 * Koa middleware, placed before the routers: a literal path's other methods are refused before
 * a parameter route can take them (GET /api/conversations/bulk is not a conversation id), and
 * what the routers left unanswered on a known path is a 405.
 */
export function answerOtherMethods(routers: Router[]) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const before = routesOf(routers, ctx.path);
    if (before.literal && !before.methods.includes(ctx.method)) return refuse(ctx, before.methods);
    await next();
    if (ctx.status !== 404 || ctx.body !== undefined) return;
    const after = routesOf(routers, ctx.path);
    if (after.methods.length > 0) refuse(ctx, after.methods);
  };
}
