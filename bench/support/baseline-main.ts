/**
 * Child entry for the baselines, each in its own process like the server it is compared with:
 *  - `noop`: a Koa app answering `{ ok: true }` to everything (the HTTP floor of a webhook answer);
 *  - `socket-io`: a bare Socket.IO server (no auth, no adapter) that broadcasts `m` with the
 *    posted JSON to every socket on `POST /emit` (the floor of webhook -> agent socket).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Server } from 'socket.io';
import { serveParent, type Served } from './child.js';

async function listen(server: http.Server, close: () => Promise<void>): Promise<Served> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close };
}

function noop(): Promise<Served> {
  const app = new Koa().use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = http.createServer(app.callback());
  return listen(server, async () => {
    server.closeAllConnections();
    server.close();
  });
}

function bareSocketIo(): Promise<Served> {
  const server = http.createServer();
  const io = new Server(server, { serveClient: false });
  server.on('request', (req, res) => {
    if (req.method !== 'POST' || req.url !== '/emit') return; // Socket.IO answers its own paths
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      io.emit('m', JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  return listen(server, () => new Promise<void>((resolve) => io.close(() => resolve())));
}

const kind = process.argv[2];
if (kind !== 'noop' && kind !== 'socket-io') throw new Error(`baseline-main: unknown baseline ${kind}`);
await serveParent(kind === 'noop' ? noop : bareSocketIo);
