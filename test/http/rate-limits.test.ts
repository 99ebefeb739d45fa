/**
 * Abuse limits over real HTTP and Socket.IO, against a server process of their own with small
 * limits, its own redis-server and production's proxy trust (one proxy hop), so each test speaks
 * from its own client address (X-Forwarded-For) and counts nothing another test counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { throwawayMongoUri } from '../setup.js';
import { api, type ApiResponse } from '../support/http.js';
import { freePort, startServerProcess, type ServerProcess } from '../support/server-process.js';

const LIMITS = {
  RATE_LIMIT_LOGIN_IP: '5/60',
  RATE_LIMIT_LOGIN_EMAIL: '3/60',
  RATE_LIMIT_REGISTER_IP: '3/60',
  RATE_LIMIT_REGISTER_EMAIL: '2/60',
  RATE_LIMIT_SOCKET_IP: '3/60',
  RATE_LIMIT_WEBHOOK_SOURCE: '3/60',
  RATE_LIMIT_API_TOKEN: '5/60',
};

let ipCounter = 0;
/** A client address no other request of this run used. */
const freshIp = () => `198.51.100.${++ipCounter}`;
const unique = () => randomBytes(4).toString('hex');

function expectLimited(res: ApiResponse, limit: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(429);
  expect(res.body.code).to.equal('rate_limited');
  expect(res.body.message).to.match(limit);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).to.be.within(1, 60);
}

describe('rate limits (429 with Retry-After)', function () {
  this.timeout(60000);
  let redis: ChildProcess;
  let server: ServerProcess;
  const call = (method: string, path: string, ip: string, opts: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> } = {}) =>
    api(method, path, { ...opts, baseUrl: server.url, headers: { 'x-forwarded-for': ip, ...opts.headers } });
  const register = (ip: string, email = `owner-${unique()}@example.test`) =>
    call('POST', '/api/auth/register', ip, { body: { organization_name: `Toko ${unique()}`, name: 'Owner', email, password: 'rahasia-123' } });

  before(async () => {
    const redisPort = await freePort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', ''], { stdio: 'ignore' });
    server = await startServerProcess({
      ...LIMITS,
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      PASSWORD_HASH_ROUNDS: '4',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      MONGODB_URI: throwawayMongoUri('ratelimits'),
    });
  });
  after(() => {
    server?.kill();
    redis?.kill('SIGKILL');
  });

  it('limits logins per e-mail across addresses, counting right and wrong passwords alike', async () => {
    const email = `owner-${unique()}@example.test`;
    expect((await register(freshIp(), email)).status).to.equal(201);
    for (let i = 0; i < 3; i++) expect((await call('POST', '/api/auth/login', freshIp(), { body: { email, password: 'tebakan-salah' } })).status).to.equal(401);
    expectLimited(await call('POST', '/api/auth/login', freshIp(), { body: { email, password: 'rahasia-123' } }), /e-mail address/);
    // Another e-mail from the same kind of fresh address is not affected.
    expect((await call('POST', '/api/auth/login', freshIp(), { body: { email: `nobody-${unique()}@example.test`, password: 'x' } })).status).to.equal(401);
  });

  it('limits logins per client address across e-mails, whatever X-Forwarded-For the client itself sends', async () => {
    const ip = freshIp();
    // The client forges a new leftmost entry each time; the proxy appends the address it saw.
    const via = (i: number) => `203.0.113.${i + 1}, ${ip}`;
    for (let i = 0; i < 5; i++) expect((await call('POST', '/api/auth/login', via(i), { body: { email: `guess-${i}-${unique()}@example.test`, password: 'x' } })).status).to.equal(401);
    expectLimited(await call('POST', '/api/auth/login', via(9), { body: { email: `guess-${unique()}@example.test`, password: 'x' } }), /from this address/);
    expect((await call('POST', '/api/auth/login', freshIp(), { body: { email: `guess-${unique()}@example.test`, password: 'x' } })).status).to.equal(401);
  });

  it('limits registrations per client address and per e-mail', async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) expect((await register(ip)).status).to.equal(201);
    expectLimited(await register(ip), /registrations from this address/);
    const email = `twice-${unique()}@example.test`;
    expect((await register(freshIp(), email)).status).to.equal(201);
    expect((await register(freshIp(), email)).status).to.equal(201);
    expectLimited(await register(freshIp(), email), /registrations for this e-mail/);
  });

  it('limits authenticated calls per token, each session counted apart', async () => {
    const email = `busy-${unique()}@example.test`;
    const first = await register(freshIp(), email);
    const token = first.body.token as string;
    const ip = freshIp();
    for (let i = 0; i < 5; i++) expect((await call('GET', '/api/auth/me', ip, { token })).status).to.equal(200);
    expectLimited(await call('GET', '/api/auth/me', freshIp(), { token }), /with this token/);
    const second = await call('POST', '/api/auth/login', freshIp(), { body: { email, password: 'rahasia-123' } });
    expect((await call('GET', '/api/auth/me', ip, { token: second.body.token })).status).to.equal(200);
  });

  it('limits webhook deliveries per source before checking their signature', async () => {
    const ip = freshIp();
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });
    const post = (from: string) => call('POST', '/api/webhooks/meta', from, { raw: body, headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } });
    for (let i = 0; i < 3; i++) expect((await post(ip)).status).to.be.oneOf([400, 401]);
    expectLimited(await post(ip), /webhook deliveries/);
    expect((await post(freshIp())).status).to.be.oneOf([400, 401]);
  });

  it('limits socket handshakes per client address, saying when to retry', async () => {
    const session = await register(freshIp());
    const ip = freshIp();
    const handshake = (from: string) =>
      new Promise<{ ok: true } | { ok: false; message: string; data: any }>((resolve) => {
        const socket = connect(server.url, { auth: { token: session.body.token }, transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-forwarded-for': from } });
        socket.once('sync.done', () => {
          socket.close();
          resolve({ ok: true });
        });
        socket.once('connect_error', (err: Error & { data?: unknown }) => {
          socket.close();
          resolve({ ok: false, message: err.message, data: err.data });
        });
      });
    for (let i = 0; i < 3; i++) expect(await handshake(ip)).to.deep.equal({ ok: true });
    const refused = await handshake(ip);
    expect(refused.ok).to.equal(false);
    if (refused.ok) return;
    expect(refused.message).to.match(/realtime connections from this address/);
    expect(refused.data.code).to.equal('rate_limited');
    expect(refused.data.retry_after).to.be.within(1, 60);
    expect(await handshake(freshIp())).to.deep.equal({ ok: true });
  });
});
