/**
 * Revocation survives a Redis restart: what must last lives in MongoDB. A server process runs
 * on a Redis of its own (no persistence, like the test services), a token is logged out and
 * another rotated, Redis is killed and started again empty, and both old tokens still answer
 * 401 over HTTP and are refused at the socket handshake.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { testServerEnv } from '../setup.js';
import { api } from '../support/http.js';
import { freePort, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, type TestSession } from '../support/session.js';
import { openSocket } from '../support/sockets.js';

/** A throwaway redis-server on `port`, answering PING. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined); // refused until it listens
  try {
    for (let i = 0; ; i++) {
      try {
        await client.connect();
        await client.ping();
        return child;
      } catch (err) {
        if (i > 100 || child.exitCode !== null) throw err;
        client.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    client.disconnect();
  }
}

/** Polls the server's health until it answers from Redis again. */
async function untilRedisUp(url: string) {
  const end = Date.now() + 10000;
  for (;;) {
    const res = await api('GET', '/api/health', { baseUrl: url });
    if (res.body?.checks?.redis?.status === 'up') return;
    if (Date.now() > end) throw new Error(`the server never reached the new Redis: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));

describe('realtime: revocation survives a Redis restart', () => {
  let s: TestSession;
  let port: number;
  let redis: ChildProcess;
  let server: ServerProcess;
  before(async function () {
    this.timeout(30000);
    s = await createSession();
    port = await freePort();
    redis = await startRedis(port);
    server = await startServerProcess({ ...testServerEnv(), REDIS_URL: `redis://127.0.0.1:${port}` });
  });
  after(() => {
    server?.kill();
    redis?.kill('SIGKILL');
  });

  const on = (token: string) => ({ token, baseUrl: server.url });

  it('keeps a logged-out and a rotated token refused over HTTP and at the socket handshake', async function () {
    this.timeout(30000);
    const signIn = async () => {
      const res = await api('POST', '/api/auth/login', { body: { email: s.email, password: s.password }, baseUrl: server.url });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body.token as string;
    };
    const loggedOut = await signIn();
    const rotated = await signIn();
    expect((await api('POST', '/api/auth/logout', on(loggedOut))).status).to.equal(200);
    const rotation = await api('GET', '/api/auth/token', on(rotated));
    expect(rotation.status, JSON.stringify(rotation.body)).to.equal(200);
    const current = rotation.body.token as string;
    for (const token of [loggedOut, rotated]) expect((await api('GET', '/api/auth/me', on(token))).status).to.equal(401);

    // Redis dies and comes back empty (the test services keep nothing on disk either).
    redis.kill('SIGKILL');
    await exited(redis);
    redis = await startRedis(port);
    const fresh = new Redis(port, '127.0.0.1');
    try {
      expect(await fresh.dbsize(), 'nothing survived in Redis').to.be.lessThan(5);
    } finally {
      fresh.disconnect();
    }
    await untilRedisUp(server.url);
    expect((await api('GET', '/api/auth/me', on(current))).status).to.equal(200);

    for (const token of [loggedOut, rotated]) {
      const me = await api('GET', '/api/auth/me', on(token));
      expect(me.status, JSON.stringify(me.body)).to.equal(401);
      const refused = await openSocket(server.url, { token }).then(
        (c) => {
          c.close();
          return null;
        },
        (err: Error) => err,
      );
      expect(refused?.message, 'the socket handshake is refused').to.match(/revoked/);
    }
    const live = await openSocket(server.url, { token: current });
    live.close();
  });
});
