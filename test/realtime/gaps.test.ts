/**
 * A connected client never silently misses an event. An append is durable before it is
 * published, but a publish can be lost (Redis dropped the connection) or overtaken: these tests
 * store events in the log as the tenant actor does, publish only the later one on the tenant's
 * Redis channel with a real Redis client, and check that the client gets the missing one from
 * the log first, in seq order, exactly once.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { eventChannel } from '../../actors/tenant/events.js';
import { insertEvents, readHead, toDomainEvent, type StoredEvent } from '../../src/models/event.js';
import { baseUrl } from '../setup.js';
import { createSession, type TestSession } from '../support/session.js';
import { openSocket, waitFor, type TestSocket } from '../support/sockets.js';

const EVENT = 'agent.status_changed';

/** An event of `s`'s tenant with this seq, as the tenant actor stores it. */
const storedEvent = (s: TestSession, seq: number): StoredEvent => ({
  _id: randomUUID(),
  tenant_id: s.tenantId,
  seq,
  event: EVENT,
  data: { id: s.userId, status: `injected ${seq}` },
  audience: { scope: 'tenant', permission: null },
  created_at: new Date(),
});

describe('realtime: a gap in seq on the live stream', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(process.env.REDIS_URL ?? '');
  });
  after(() => redis.disconnect());

  /** Flips the admin's presence: one agent.status_changed event. */
  async function toggle(s: TestSession) {
    const now = (await s.call('GET', `/api/agents/${s.userId}`)).body.status as string;
    const res = await s.call('PATCH', `/api/agents/${s.userId}/status`, { body: { status: now === 'online' ? 'offline' : 'online' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  }

  /**
   * Stores seqs head+1 and head+2 and publishes only head+2 (head+1's publish "lost"), then
   * makes one more real change; the client must see all three, in order, once each.
   */
  async function loseOnePublish(s: TestSession, c: TestSocket) {
    const head = await readHead(s.tenantId);
    const lost = storedEvent(s, head + 1);
    const later = storedEvent(s, head + 2);
    await insertEvents([lost, later]);
    await redis.publish(eventChannel(s.tenantId), JSON.stringify([toDomainEvent(later)]));
    // The actor's next append finds seqs taken and moves past them (its slow path).
    await toggle(s);
    await waitFor(() => c.named(EVENT).some((e) => e.seq === head + 3), 'the change after the gap');
    return head;
  }

  it('fills it from the log before delivering later events, once each, on a stream that has delivered before', async () => {
    const s = await createSession();
    const c = await openSocket(baseUrl(), { token: s.token });
    try {
      await toggle(s);
      await waitFor(() => c.named(EVENT).length === 1, 'a first live event');
      const first = c.named(EVENT)[0]?.seq as number;
      const head = await loseOnePublish(s, c);
      expect(head).to.equal(first);
      expect(c.named(EVENT).map((e) => e.seq)).to.deep.equal([first, first + 1, first + 2, first + 3]);
      expect(c.named(EVENT)[1]?.data.status).to.equal(`injected ${first + 1}`);
    } finally {
      c.close();
    }
  });

  it('fills it when the lost publish is the first this process would have heard for the tenant', async () => {
    // A fresh tenant: this process's stream of it starts with the socket, before any publish.
    const s = await createSession();
    const c = await openSocket(baseUrl(), { token: s.token });
    try {
      const head = await loseOnePublish(s, c);
      expect(c.named(EVENT).map((e) => e.seq)).to.deep.equal([head + 1, head + 2, head + 3]);
    } finally {
      c.close();
    }
  });

  it('fills it for a client that resumed with since_seq before the stream heard anything', async () => {
    const s = await createSession();
    await toggle(s);
    const since = await readHead(s.tenantId);
    await toggle(s);
    const c = await openSocket(baseUrl(), { token: s.token, since_seq: since - 1 });
    try {
      expect(c.named(EVENT).map((e) => e.seq)).to.deep.equal([since, since + 1]);
      const head = await loseOnePublish(s, c);
      expect(head).to.equal(since + 1);
      expect(c.named(EVENT).map((e) => e.seq)).to.deep.equal([since, since + 1, since + 2, since + 3, since + 4]);
    } finally {
      c.close();
    }
  });
});
