/**
 * `/widget.js` (the website chat widget, channels/webchat/widget.ts bundled with socket.io-client
 * by esbuild — tsx's own compiler, already installed — once per process on first request, then
 * served from memory with an ETag) and `/demo` (a plain page embedding it for a tenant,
 * `?tenant=<slug>`, default the `demo` organization `npm run local` seeds).
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('../../channels/webchat/widget.ts', import.meta.url));

let bundle: Promise<{ code: string; etag: string }> | null = null;

/** The widget bundle, built once (a failed build is tried again on the next request). */
function widgetBundle(): Promise<{ code: string; etag: string }> {
  bundle ??= build({ entryPoints: [ENTRY], bundle: true, minify: true, format: 'iife', platform: 'browser', target: 'es2019', write: false }).then(
    (result) => {
      const code = result.outputFiles[0]?.text ?? '';
      return { code, etag: `"${createHash('sha256').update(code).digest('hex').slice(0, 32)}"` };
    },
    (err: unknown) => {
      bundle = null;
      throw err;
    },
  );
  return bundle;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const demoPage = (tenant: string) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>OmniStream chat widget demo</title>
  <style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }</style>
</head>
<body>
  <h1>Toko Demo</h1>
  <p>This page embeds the OmniStream website chat widget for the organization <code>${escapeHtml(tenant)}</code>.
  Open the bubble at the bottom right and write; the message lands in the agents' inbox, and their replies appear here live.</p>
  <script src="/widget.js" data-tenant="${escapeHtml(tenant)}" async></script>
</body>
</html>`;

/** Routes for the widget script and the demo page. */
export function widgetRouter(): Router {
  const router = new Router();
  router.get('/widget.js', async (ctx) => {
    const { code, etag } = await widgetBundle();
    ctx.set('ETag', etag);
    // Sites load it on every page: cached for a while, revalidated by ETag after.
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = code;
  });
  router.get('/demo', (ctx) => {
    const tenant = typeof ctx.query.tenant === 'string' && /^[A-Za-z0-9-]{1,100}$/.test(ctx.query.tenant) ? ctx.query.tenant : 'demo';
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-cache');
    // The widget's own script, its inline shadow-DOM styles, and its fetch and socket to this server.
    ctx.set('Content-Security-Policy', `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws://${ctx.host} wss://${ctx.host}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`);
    ctx.body = demoPage(tenant);
  });
  return router;
}
