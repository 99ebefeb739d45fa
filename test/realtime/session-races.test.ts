/**
 * Session changes that land while sockets are in the middle of their handshake: a socket that
 * authenticated with reads from before the change, or that was not yet followed when the
 * change was heard, must still end within a second of the change; one that authenticates
 * after it must be refused. Real clients keep handshaking on both server processes while the
 * change is made.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { setTenantStatus } from '../../src/services/tenants.js';
import { baseUrl, testServerEnv } from '../setup.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { waitFor } from '../support/sockets.js';

/** One handshake and what became of it. */
interface Attempt {
  socket: Socket;
  /** Which server and credential. */
  target: string;
  startedAt: number;
  /** When the server accepted it. */
  connectedAt: number | null;
  /** When the server refused it (connect_error), and why. */
  refusedAt: number | null;
  refusal: string | null;
  /** When it was closed after being accepted. */
  closedAt: number | null;
  endedReason: string | null;
  settled: Promise<void>;
}

function attempt(url: string, token: string): Attempt {
  const socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const a: Attempt = { socket, target: `${url} ${token}`, refusal: null, startedAt: Date.now(), connectedAt: null, refusedAt: null, closedAt: null, endedReason: null, settled: Promise.resolve() };
  a.settled = new Promise((resolve) => {
    socket.once('connect', () => {
      a.connectedAt = Date.now();
      resolve();
    });
    socket.once('connect_error', (err: Error) => {
      a.refusedAt = Date.now();
      a.refusal = err.message;
      resolve();
    });
  });
  socket.on('session.ended', (body: { reason: string }) => {
    a.endedReason = body.reason;
  });
  socket.on('disconnect', () => {
    a.closedAt = Date.now();
  });
  return a;
}

/**
 * Keeps `parallel` handshakes per credential and server under way, all the time: once each
 * credential has been accepted on each server, runs `change`, and goes on until that many more
 * have started after it answered. Answers every attempt and when the change answered.
 */
async function handshakeStorm(targets: { url: string; token: string }[], change: () => Promise<void>, parallel = 8) {
  const attempts: Attempt[] = [];
  let changing = false;
  let changedAt: number | null = null;
  const lane = async (url: string, token: string) => {
    let afterChange = 0;
    while (changedAt === null || afterChange++ < parallel) {
      const a = attempt(url, token);
      attempts.push(a);
      await a.settled;
      if (a.refusedAt !== null && !changing) throw new Error(`refused before the change by ${url}: ${a.refusal}`);
    }
  };
  const lanes = Promise.all(targets.flatMap((t) => Array.from({ length: parallel }, () => lane(t.url, t.token))));
  const changed = (async () => {
    const accepted = (t: { url: string; token: string }) => attempts.some((a) => a.connectedAt !== null && a.target === `${t.url} ${t.token}`);
    await waitFor(() => targets.every(accepted), 'every credential accepted on every server');
    changing = true;
    await change();
    changedAt = Date.now();
  })();
  await Promise.all([changed, lanes]);
  return { attempts, changedAt: changedAt as unknown as number };
}

/** Every accepted socket is closed by the server within a second of the change, with `reason`; every later handshake is refused. */
async function expectAllEnded(attempts: Attempt[], changedAt: number, reason: RegExp) {
  try {
    await waitFor(() => attempts.every((a) => a.refusedAt !== null || a.closedAt !== null), 'every accepted socket to be closed', 3000).catch(() => undefined);
    const open = attempts.filter((a) => a.connectedAt !== null && a.closedAt === null);
    expect(open.length, `${open.length} of ${attempts.length} sockets still open after the change`).to.equal(0);
    const late = attempts.filter((a) => a.closedAt !== null && a.closedAt - changedAt > 1000);
    expect(late.map((a) => a.closedAt as number - changedAt), 'closed later than a second after the change (ms)').to.deep.equal([]);
    for (const a of attempts.filter((x) => x.closedAt !== null)) expect(a.endedReason).to.match(reason);
    // Handshakes started after the change answered are refused, not accepted and then ended.
    const acceptedAfter = attempts.filter((a) => a.startedAt > changedAt && a.connectedAt !== null);
    expect(acceptedAfter, 'accepted after the change').to.have.length(0);
    expect(attempts.some((a) => a.connectedAt !== null), 'some sockets were accepted before the change').to.equal(true);
  } finally {
    for (const a of attempts) a.socket.close();
  }
}

describe('realtime: session changes during handshakes', () => {
  let admin: TestSession;
  let second: ServerProcess;
  before(async function () {
    this.timeout(30000);
    admin = await createSession();
    second = await startServerProcess(testServerEnv());
  });
  after(() => second?.kill());

  it('ends, within a second, every JWT and API-key socket of an agent deactivated while they handshake, on both processes', async function () {
    this.timeout(20000);
    const agent = await userWithPermissions(admin, ['conversations.view', 'api_keys.manage']);
    const key = await agent.call('POST', '/api/api-keys', { body: { name: `storm ${randomBytes(3).toString('hex')}` } });
    expect(key.status).to.equal(201);
    const targets = [baseUrl(), second.url].flatMap((url) => [
      { url, token: agent.token },
      { url, token: key.body.key as string },
    ]);
    const { attempts, changedAt } = await handshakeStorm(targets, async () => {
      const res = await admin.call('PATCH', `/api/agents/${agent.userId}`, { body: { is_active: false } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
    });
    await expectAllEnded(attempts, changedAt, /no longer active/);
  });

  it('ends, within a second, every socket of an organization suspended while they handshake, on both processes', async function () {
    this.timeout(20000);
    const org = await createSession();
    const member = await userWithPermissions(org, ['conversations.view']);
    const targets = [baseUrl(), second.url].flatMap((url) => [
      { url, token: org.token },
      { url, token: member.token },
    ]);
    // No route suspends an organization yet (the super-admin API will); the service is the one path.
    const { attempts, changedAt } = await handshakeStorm(targets, async () => {
      await setTenantStatus({ tenantId: org.tenantId, status: 'suspended' });
    });
    await expectAllEnded(attempts, changedAt, /suspended/);
  });
});
