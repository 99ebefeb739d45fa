/**
 * A socket that drops during its handshake leaks nothing: many real Socket.IO clients close
 * their connection right after sending their credential (while the server authenticates it) or
 * right after being accepted (while the server scopes it and replays what it missed), and the
 * server is left holding nothing for them — no followed session, expiry timer, tenant stream
 * or room membership.
 */
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import type { GatewayCensus } from '../../src/realtime/gateway.js';
import { baseUrl, realtimeGateway } from '../setup.js';
import { createSession, type TestSession } from '../support/session.js';
import { openSocket, waitFor } from '../support/sockets.js';

type Phase = 'authenticating' | 'replaying';

/**
 * Opens a client that closes its connection at `phase`: once its connect packet (with the
 * credential) is on the wire, or once the server has accepted it. Resolves when it has closed.
 */
function dropDuring(phase: Phase, auth: Record<string, unknown>): Promise<void> {
  const socket = connect(baseUrl(), { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    const drop = () => {
      // The engine flushes what is written (the connect packet) before it closes.
      socket.io.engine.close();
      resolve();
    };
    // The socket's own listener (registered first) has sent the connect packet by now.
    if (phase === 'authenticating') socket.io.once('open', drop);
    else socket.once('connect', drop);
    socket.once('connect_error', () => resolve());
  });
}

const settled = (c: GatewayCensus) => c.authenticating === 0 && c.settingUp === 0;

describe('realtime: sockets that drop during their handshake', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
    // Events to replay, so a resuming socket reads the log while it is set up.
    for (const status of ['online', 'offline', 'online', 'offline'] as const) {
      const res = await s.call('PATCH', `/api/agents/${s.userId}/status`, { body: { status } });
      expect(res.status).to.equal(200);
    }
  });

  it('leave no followed session, expiry timer, tenant stream or room membership behind', async function () {
    this.timeout(30000);
    const gateway = realtimeGateway();
    await waitFor(() => settled(gateway.census()), 'earlier handshakes to settle');
    const before = gateway.census();

    const drops: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      drops.push(dropDuring('authenticating', { token: s.token }));
      drops.push(dropDuring('replaying', { token: s.token, since_seq: 0 }));
      drops.push(dropDuring('replaying', { token: s.token }));
    }
    await Promise.all(drops);
    // The server has seen every connection close once its engine count is back where it was.
    await waitFor(() => gateway.census().engineConnections === before.engineConnections && settled(gateway.census()), 'the server to see every drop', 15000);

    expect(gateway.census()).to.deep.equal(before);
    const rooms = gateway.io.of('/').adapter.rooms;
    expect(rooms.has(`tenant:${s.tenantId}`), 'tenant room').to.equal(false);
    expect(rooms.has(`agent:${s.userId}`), 'agent room').to.equal(false);

    // The tenant's sockets still work afterwards: a new one gets live events.
    const c = await openSocket(baseUrl(), { token: s.token });
    try {
      const res = await s.call('PATCH', `/api/agents/${s.userId}/status`, { body: { status: 'online' } });
      expect(res.status).to.equal(200);
      await waitFor(() => c.named('agent.status_changed').length === 1, 'a live event');
      expect(gateway.census().followed).to.equal(before.followed + 1);
    } finally {
      c.close();
    }
  });
});
