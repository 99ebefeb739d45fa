/**
 * A change and its events are never separated: a server process killed after it stored an
 * inbound message and its conversation, but before the tenant actor appended their events,
 * leaves a pending webhook; the recovery pass of another process finishes the change, and every
 * event appears exactly once. The kill is made deterministic by holding the tenant actor in this
 * test process with a behaviour that takes the append and never answers (a real, broken peer).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { Redis } from 'ioredis';
import { leaseKey } from '../../actors/lease.js';
import { ActorSystem, type ActorBehaviour } from '../../actors/runtime.js';
import { EVENTS, type EventDraft } from '../../src/events/types.js';
import { naturalId } from '../../src/ids.js';
import { readEventsAfter } from '../../src/models/event.js';
import { findMessageById } from '../../src/models/message.js';
import { findConversationById } from '../../src/models/conversation.js';
import { testServerEnv } from '../setup.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, digits, postSigned, textWebhook, until } from '../support/whatsapp.js';
import { api } from '../support/http.js';

/** A tenant actor that holds the tenant's lease, records the appends it is asked for, and answers none of them. */
function stuckTenant(appends: EventDraft[][], release: Promise<void>): ActorBehaviour<null, { type: string; payload: { events?: EventDraft[] } }, null> {
  return {
    kind: 'tenant',
    init: async () => null,
    async receive(state, msg) {
      if (msg.type === 'events.append') {
        appends.push(msg.payload.events ?? []);
        await release;
        throw new Error('the stuck tenant actor gave up');
      }
      return { state, reply: null };
    },
  };
}

describe('a server killed between storing a change and appending its events', function () {
  this.timeout(60000);
  let s: TestSession;
  const processes: ServerProcess[] = [];
  // Short leases and idle times, and a recovery pass that retries after half a second.
  const env = () => ({ ...testServerEnv(), ACTOR_LEASE_MS: '1000', ACTOR_IDLE_MS: '200', WEBHOOK_RETRY_AFTER_MS: '500' });

  let redis: Redis;
  before(async () => {
    s = await createSession();
    redis = new Redis(testServerEnv().REDIS_URL ?? '');
  });

  after(async () => {
    for (const p of processes) p.kill();
    await redis.quit();
  });

  it('announces the stored message and conversation exactly once after recovery', async () => {
    const victim = await startServerProcess(env());
    processes.push(victim);
    // Set up through the victim, so that the run's own server never hosts this tenant's actor.
    const wa = await connectWhatsapp({ ...s, call: (method, path, opts = {}) => api(method, path, { token: s.token, baseUrl: victim.url, ...opts }) });
    const appends: EventDraft[][] = [];
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    const stuck = new ActorSystem({ redisUrl: testServerEnv().REDIS_URL ?? '', leaseMs: 1000, idleMs: 60_000 });
    stuck.register(stuckTenant(appends, released));
    await stuck.start();
    try {
      // Take the tenant actor once the victim's copy has passivated and released its lease.
      await until(async () => (await redis.exists(leaseKey('tenant', s.tenantId))) === 0, 'the victim to release the tenant lease');
      await stuck.ask('tenant', s.tenantId, { type: 'hold', payload: {} });

      const wamid = `wamid.crash.${digits(12)}`;
      const raw = textWebhook(wa.phoneNumberId, `62817${digits(8)}`, wamid, 'stored, then the server died');
      const res = await postSigned(raw, wa.appSecret, '/api/webhooks/meta', victim.url);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);

      // The victim stored the message and the conversation and now waits on the append: kill it there.
      await until(async () => appends.length > 0, 'the victim to ask for the append');
      victim.kill();
      const messageId = naturalId('message', s.tenantId, 'whatsapp', wamid);
      const message = await findMessageById(messageId);
      expect(message, 'the message was stored before the kill').to.not.equal(null);
      const conversation = await findConversationById(message?.conversation_id ?? '');
      expect(conversation?.outbox.map((e) => e.event), 'with its events beside the conversation').to.deep.equal([EVENTS.conversationCreated, EVENTS.messageCreated]);
      expect(await readEventsAfter(s.tenantId, 0, 100), 'and none of them in the log').to.have.length(0);
      release();
      await stuck.stop();

      // Another process's recovery pass takes the pending delivery up.
      const rescuer = await startServerProcess(env());
      processes.push(rescuer);
      const log = await until(async () => {
        const events = await readEventsAfter(s.tenantId, 0, 100);
        return events.some((e) => e.event === EVENTS.messageCreated) ? events : null;
      }, 'the recovered events', 20000);
      // Give a second (wrong) append every chance to happen before counting.
      await sleep(1500);
      const final = await readEventsAfter(s.tenantId, 0, 100);
      expect(final.map((e) => e.event)).to.deep.equal([EVENTS.conversationCreated, EVENTS.messageCreated]);
      expect(final.map((e) => e.seq)).to.deep.equal([1, 2]);
      expect(log[1]?.data).to.include({ id: messageId, text: 'stored, then the server died' });

      // A socket resuming from the start sees each once.
      const socket = connect(rescuer.url, { auth: { token: s.token, since_seq: 0 }, transports: ['websocket'], forceNew: true, reconnection: false });
      const seen: string[] = [];
      socket.onAny((name: string) => !name.startsWith('sync.') && seen.push(name));
      await new Promise((r) => socket.once('sync.done', r));
      socket.close();
      expect(seen).to.deep.equal([EVENTS.conversationCreated, EVENTS.messageCreated]);
    } finally {
      release();
      await stuck.stop();
    }
  });
});
