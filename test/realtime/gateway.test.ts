import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { baseUrl, testServerEnv } from '../setup.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

interface Wire {
  event: string;
  seq: number;
  tenant_id: string;
  data: { id: string; status: string };
}

const EVENT = 'agent.status_changed';

/** A connected client that records every domain event it receives, in order. */
interface Client {
  socket: Socket;
  received: Wire[];
  notices: { name: string; body: unknown }[];
  close(): void;
}

async function open(url: string, auth: Record<string, unknown>): Promise<Client> {
  const socket = connect(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  const client: Client = { socket, received: [], notices: [], close: () => socket.close() };
  socket.on(EVENT, (p: Wire) => client.received.push(p));
  socket.onAny((name: string, body: unknown) => {
    if (name.startsWith('sync.')) client.notices.push({ name, body });
  });
  // Resolves once the server has finished any replay for this socket.
  await new Promise<void>((resolve, reject) => {
    socket.once('sync.done', () => resolve());
    socket.once('connect_error', reject);
  });
  return client;
}

async function until(cond: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function toggle(s: TestSession, status: 'online' | 'offline') {
  const res = await s.call('PATCH', `/api/agents/${s.userId}/status`, { body: { status } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
}

describe('realtime gateway', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });

  it('authenticates with a JWT and delivers events with seq, tenant_id and data', async () => {
    const c = await open(baseUrl(), { token: s.token });
    try {
      await toggle(s, 'online');
      await until(() => c.received.length === 1, 'one event');
      const [e] = c.received;
      expect(e?.event).to.equal(EVENT);
      expect(e?.tenant_id).to.equal(s.tenantId);
      expect(e?.seq).to.be.a('number').greaterThan(0);
      expect(e?.data.id).to.equal(s.userId);
      expect(e?.data.status).to.equal('online');
    } finally {
      c.close();
    }
  });

  it('authenticates with an API key too', async () => {
    const key = await s.call('POST', '/api/api-keys', { body: { name: 'socket' } });
    expect(key.status).to.equal(201);
    const c = await open(baseUrl(), { token: key.body.key });
    c.close();
  });

  it('refuses a missing, forged or revoked token', async () => {
    for (const auth of [{}, { token: 'forged.token.value' }]) {
      const err = await open(baseUrl(), auth).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message, JSON.stringify(auth)).to.match(/Authentication required|Invalid/);
    }
    const login = await s.call('POST', '/api/auth/login', { body: { email: s.email, password: s.password } });
    await s.call('POST', '/api/auth/logout', { token: login.body.token });
    const revoked = await open(baseUrl(), { token: login.body.token }).then(
      () => null,
      (e: Error) => e,
    );
    expect(revoked?.message).to.match(/revoked/);
  });

  it('never delivers another tenant’s events', async () => {
    const other = await createSession();
    const c = await open(baseUrl(), { token: other.token });
    try {
      await toggle(s, 'offline');
      await toggle(other, 'online');
      await until(() => c.received.length >= 1, 'own event');
      expect(c.received.every((e) => e.tenant_id === other.tenantId)).to.equal(true);
      expect(c.received).to.have.length(1);
    } finally {
      c.close();
    }
  });

  it('replays every missed event in order, exactly once, on reconnect with since_seq', async () => {
    const c = await open(baseUrl(), { token: s.token });
    await toggle(s, 'online');
    await until(() => c.received.length === 1, 'first event');
    const last = c.received[0]?.seq as number;
    c.close();

    for (const status of ['offline', 'online', 'offline'] as const) await toggle(s, status);
    const resumed = await open(baseUrl(), { token: s.token, since_seq: last });
    try {
      expect(resumed.received.map((e) => e.seq)).to.deep.equal([last + 1, last + 2, last + 3]);
      expect(resumed.received.map((e) => e.data.status)).to.deep.equal(['offline', 'online', 'offline']);
      await toggle(s, 'online');
      await until(() => resumed.received.length === 4, 'live event after replay');
      expect(resumed.received[3]?.seq).to.equal(last + 4);
    } finally {
      resumed.close();
    }
  });

  it('loses and doubles nothing while events keep coming during the replay', async () => {
    const head = await open(baseUrl(), { token: s.token });
    await toggle(s, 'offline');
    await until(() => head.received.length === 1, 'an event');
    const since = head.received[0]?.seq as number;
    head.close();
    for (const status of ['online', 'offline', 'online'] as const) await toggle(s, status);

    const resumed = open(baseUrl(), { token: s.token, since_seq: since });
    const during = (async () => {
      for (const status of ['offline', 'online', 'offline', 'online'] as const) await toggle(s, status);
    })();
    const c = await resumed;
    await during;
    try {
      await until(() => c.received.length === 7, 'seven events', 8000);
      expect(c.received.map((e) => e.seq)).to.deep.equal(Array.from({ length: 7 }, (_, i) => since + 1 + i));
    } finally {
      c.close();
    }
  });

  it('asks a client that is too far behind to reload over REST', async () => {
    const fresh = await createSession();
    // The test server keeps 40 events of replay (REALTIME_REPLAY_LIMIT in test/setup.ts).
    for (let i = 0; i < 44; i++) await toggle(fresh, i % 2 === 0 ? 'online' : 'offline');
    const c = await open(baseUrl(), { token: fresh.token, since_seq: 0 });
    try {
      expect(c.notices.map((n) => n.name)).to.include('sync.required');
      expect(c.received).to.have.length(0);
    } finally {
      c.close();
    }
  });

  it('shows agents without conversations.view no conversation events but tenant events', async () => {
    const weak = await userWithPermissions(s, []);
    const c = await open(baseUrl(), { token: weak.token });
    try {
      await toggle(s, 'offline');
      await until(() => c.received.length === 1, 'tenant-wide event');
    } finally {
      c.close();
    }
  });

  describe('with a second server process sharing Redis and the database', () => {
    let second: ServerProcess;
    before(async function () {
      this.timeout(30000);
      second = await startServerProcess(testServerEnv());
    });
    after(() => second?.kill());

    it('delivers events produced on one process to sockets on the other, in both directions', async () => {
      const onSecond = await open(second.url, { token: s.token });
      const onFirst = await open(baseUrl(), { token: s.token });
      try {
        await toggle(s, 'online'); // through the first process
        const res = await fetch(`${second.url}/api/agents/${s.userId}/status`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ status: 'offline' }),
        });
        expect(res.status).to.equal(200);
        await until(() => onSecond.received.length === 2 && onFirst.received.length === 2, 'both events on both');
        expect(onSecond.received.map((e) => e.seq)).to.deep.equal(onFirst.received.map((e) => e.seq));
        expect(onSecond.received.map((e) => e.data.status)).to.deep.equal(['online', 'offline']);
      } finally {
        onSecond.close();
        onFirst.close();
      }
    });
  });
});
