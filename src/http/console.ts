/**
 * `/app`: the agent console (web/, built by scripts/build-web.sh into web/dist). Hashed assets
 * are cached for a year (their names change with their bytes); index.html is revalidated every
 * time, so a new build is picked up on the next load; every other /app path answers index.html,
 * for the console's own routes (/app/conversations/<id>).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';

const DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

async function sendIndex(ctx: Context) {
  const html = await readFile(path.join(DIST, 'index.html')).catch(() => null);
  ctx.set('Cache-Control', 'no-cache');
  if (!html) {
    ctx.status = 503;
    ctx.type = 'text/plain';
    ctx.body = 'The agent console is not built: run `npm run build:web` (npm run local and npm test build it).';
    return;
  }
  ctx.type = 'html';
  ctx.body = html;
}

/** Routes for the console's page and its built assets. */
export function consoleRouter(): Router {
  const router = new Router();
  router.get('/app/assets/:file', async (ctx) => {
    const file = ctx.params.file ?? '';
    const type = TYPES[path.extname(file)];
    // Only the flat, hashed names Vite writes; nothing outside assets/ can be named.
    const bytes = type && /^[\w.-]+$/.test(file) ? await readFile(path.join(DIST, 'assets', file)).catch(() => null) : null;
    if (!bytes || !type) {
      ctx.status = 404;
      ctx.body = { message: 'No such console asset', code: 'not_found' };
      return;
    }
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.body = bytes;
  });
  // The router matches /app and /app/ alike; the page's relative URLs want the slash.
  router.get('/app', (ctx) => (ctx.path === '/app' ? ctx.redirect('/app/') : sendIndex(ctx)));
  router.get('/app/{*rest}', sendIndex);
  return router;
}
