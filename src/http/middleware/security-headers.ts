/**
 * Headers that keep a browser from reading our answers as something else: no MIME sniffing, and
 * a Content-Security-Policy that lets an API answer load nothing, run nothing and be framed
 * nowhere (a JSON body or a reflected string can never become a page). The `/docs` reference
 * page gets the policy Swagger UI needs: its own scripts and styles (it sets inline styles) and
 * fetches of /api/openapi.json, nothing from elsewhere. The `/app` agent console gets its own
 * scripts and styles, images from its own origin (and data:/blob: previews), and fetches and
 * its Socket.IO connection to this origin only.
 */
import type { Context, Next } from 'koa';

const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const DOCS_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const CONSOLE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** Koa middleware: sets the headers before the route runs, so errors carry them too. */
export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Content-Security-Policy', under(ctx.path, '/docs') ? DOCS_POLICY : under(ctx.path, '/app') ? CONSOLE_POLICY : API_POLICY);
  ctx.set('Referrer-Policy', 'no-referrer');
  await next();
}
