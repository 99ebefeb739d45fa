/**
 * Durable event listeners (src/events/listener.ts, listener-runner.ts) against the real log,
 * Redis and MongoDB: the test server's runner, and a second runner with its own bus and process
 * id standing in for another server process.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { appContext } from '../../src/context.js';
import { EventBus } from '../../src/events/bus.js';
import type { DurableListener } from '../../src/events/listener.js';
import { DurableListeners, type ListenerTiming } from '../../src/events/listener-runner.js';
import { draftEvent, emitEvents } from '../../src/events/publish.js';
import { EVENTS, type DomainEvent, type EventType } from '../../src/events/types.js';
import { cursorId, findCursor } from '../../src/models/listener-cursor.js';
import { readEventsAfter } from '../../src/models/event.js';
import { leaseKey } from '../../actors/lease.js';
import { createSession } from '../support/session.js';
import { until } from '../support/whatsapp.js';

const audience = { scope: 'tenant' as const, permission: null };

/** Appends `n` events of `type` for the tenant, in one append per event, all at once. */
async function emit(tenantId: string, n: number, type: EventType = EVENTS.contactUpdated): Promise<number[]> {
  const seqs = await Promise.all(
    Array.from({ length: n }, (_, i) => emitEvents(tenantId, [draftEvent(tenantId, `listener-test:${randomBytes(6).toString('hex')}:${i}`, type, { i }, audience)])),
  );
  return seqs.flat().sort((a, b) => a - b);
}

/** A listener recording what it handled, by whom. */
function recorder(name: string, handled: { seq: number; by: string; tenant: string }[], by: string, extra: Partial<DurableListener> = {}): DurableListener {
  return {
    name,
    runs: 'durable',
    events: [EVENTS.contactUpdated],
    onFailure: 'retry',
    handle: (e: DomainEvent) => {
      handled.push({ seq: e.seq, by, tenant: e.tenant_id });
    },
    ...extra,
  };
}

const uniqueName = () => `test-listener-${randomBytes(4).toString('hex')}`;
const seqsOf = (handled: { seq: number; tenant: string }[], tenant: string) => handled.filter((h) => h.tenant === tenant).map((h) => h.seq);

describe('durable event listeners', function () {
  this.timeout(30000);
  let tenantId: string;
  const cleanups: (() => void | Promise<void>)[] = [];
  beforeEach(async () => {
    tenantId = (await createSession()).tenantId;
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A second runner with its own subscription, as another server process would have. */
  async function secondProcess(listener: DurableListener, timing: Partial<ListenerTiming> = {}): Promise<DurableListeners> {
    const runner = new DurableListeners(appContext().redis, `test-process-${randomBytes(4).toString('hex')}`, [listener], { retryMs: [50, 100], ...timing });
    const bus = await EventBus.start(appContext().config.redisUrl, runner);
    cleanups.push(async () => {
      await bus.close();
      await runner.close();
    });
    return runner;
  }

  it('hands each event of its types once, in seq order, starting at the first it hears', async () => {
    const handled: { seq: number; by: string; tenant: string }[] = [];
    cleanups.push(appContext().listeners.register(recorder(uniqueName(), handled, 'main')));
    const ignored = await emit(tenantId, 3, EVENTS.agentStatusChanged);
    const seqs = await emit(tenantId, 40);
    await until(async () => seqsOf(handled, tenantId).length >= 40, 'all 40 events handled');
    expect(seqsOf(handled, tenantId)).to.deep.equal(seqs);
    for (const s of ignored) expect(seqsOf(handled, tenantId)).not.to.include(s);
  });

  it('with two processes running it, still hands each event once and in order', async () => {
    const handled: { seq: number; by: string; tenant: string }[] = [];
    const name = uniqueName();
    cleanups.push(appContext().listeners.register(recorder(name, handled, 'main')));
    await secondProcess(recorder(name, handled, 'second'));
    const seqs = await emit(tenantId, 60);
    await until(async () => seqsOf(handled, tenantId).length >= 60, 'all 60 events handled');
    // Both were woken by every publish; the lease let one walk the cursor at a time.
    expect(seqsOf(handled, tenantId)).to.deep.equal(seqs);
  });

  it('resumes after a restart from its cursor, handling only what it had not', async () => {
    const handled: { seq: number; by: string; tenant: string }[] = [];
    const name = uniqueName();
    const stop = appContext().listeners.register(recorder(name, handled, 'before'));
    const first = await emit(tenantId, 3);
    await until(async () => seqsOf(handled, tenantId).length >= 3, 'the first 3 handled');
    // Letting go writes the cursor where it got to.
    await stop();
    // Appended while no process runs the listener, with nothing left to wake it.
    const missed = await emit(tenantId, 5);
    const restarted = new DurableListeners(appContext().redis, 'restarted-process', [recorder(name, handled, 'after')]);
    cleanups.push(() => restarted.close());
    await restarted.catchUp();
    expect(handled.filter((h) => h.by === 'after').map((h) => h.seq)).to.deep.equal(missed);
    expect(seqsOf(handled, tenantId)).to.deep.equal([...first, ...missed]);
    expect((await findCursor(name, tenantId))?.seq).to.equal(missed[missed.length - 1]);
  });

  it('retries a failing event after its backoff, holding later events back until it passes', async () => {
    const handled: { seq: number; by: string; tenant: string }[] = [];
    const name = uniqueName();
    let failuresLeft = 2;
    let failing: number | null = null;
    const runner = await secondProcess(
      recorder(name, handled, 'second', {
        handle: (e: DomainEvent) => {
          if ((e.data as { i: number }).i === 1 && failuresLeft > 0) {
            failuresLeft--;
            failing = e.seq;
            throw new Error('the receiving system is down');
          }
          handled.push({ seq: e.seq, by: 'second', tenant: e.tenant_id });
        },
      }),
    );
    const seqs = await emit(tenantId, 1);
    const more = [...seqs, ...(await emitEvents(tenantId, [draftEvent(tenantId, `retry:${randomBytes(4).toString('hex')}`, EVENTS.contactUpdated, { i: 1 }, audience)])), ...(await emit(tenantId, 3))];
    const cursor = await until(async () => {
      const c = (await findCursor(name, tenantId)) as { failures: number; last_error: string | null } | null;
      return c && c.failures > 0 ? c : null;
    }, 'the failure recorded on the cursor');
    expect(cursor.last_error).to.equal('the receiving system is down');
    // The catch-up pass (a job every 15 s in a server) takes it up once the backoff is over.
    await until(async () => {
      await runner.catchUp();
      return seqsOf(handled, tenantId).length >= more.length;
    }, 'every event handled after the retries');
    expect(failuresLeft).to.equal(0);
    expect(seqsOf(handled, tenantId)).to.deep.equal(more);
    expect(failing).to.equal(more[1]);
    expect((await findCursor(name, tenantId)) as unknown).to.deep.include({ failures: 0, retry_at: null, last_error: null });
  });

  it('skips a failing event when its policy is skip, and goes on', async () => {
    const handled: { seq: number; by: string; tenant: string }[] = [];
    const name = uniqueName();
    cleanups.push(
      appContext().listeners.register(
        recorder(name, handled, 'main', {
          onFailure: 'skip',
          handle: (e: DomainEvent) => {
            if ((e.data as { i: number }).i === 0) throw new Error('bad event');
            handled.push({ seq: e.seq, by: 'main', tenant: e.tenant_id });
          },
        }),
      ),
    );
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) seqs.push(...(await emitEvents(tenantId, [draftEvent(tenantId, `skip:${randomBytes(4).toString('hex')}`, EVENTS.contactUpdated, { i }, audience)])));
    await until(async () => seqsOf(handled, tenantId).length >= 3, 'the three good events handled');
    expect(seqsOf(handled, tenantId)).to.deep.equal(seqs.slice(1));
    // The holder writes its cursor within a second of moving it.
    await until(async () => (await findCursor(name, tenantId))?.seq === seqs[3], 'the cursor written past the skipped event');
  });

  it('fills a gap in what it heard (a lost publish) from the log, in order', async () => {
    const handled: { seq: number; by: string; tenant: string }[] = [];
    const name = uniqueName();
    // No subscription: this runner hears only what the test hands it, as if publishes were lost.
    const deaf = new DurableListeners(appContext().redis, `deaf-${randomBytes(4).toString('hex')}`, [recorder(name, handled, 'deaf')]);
    cleanups.push(() => deaf.close());
    const [start] = await emit(tenantId, 1);
    const [first] = await readEventsAfter(tenantId, (start as number) - 1, 1);
    deaf.wake(tenantId, [first as DomainEvent]);
    await until(async () => seqsOf(handled, tenantId).length >= 1, 'the first event handled');
    const later = await emit(tenantId, 6);
    // Only the last one is heard: the five before it are in the log, not in memory.
    const [last] = await readEventsAfter(tenantId, (later[5] as number) - 1, 1);
    deaf.wake(tenantId, [last as DomainEvent]);
    await until(async () => seqsOf(handled, tenantId).length >= 7, 'the gap filled');
    expect(seqsOf(handled, tenantId)).to.deep.equal([start, ...later]);
  });

  it('lets go of a cursor idle past its time, written, and another process takes it from there', async () => {
    const handled: { seq: number; by: string; tenant: string }[] = [];
    const name = uniqueName();
    await secondProcess(recorder(name, handled, 'first'), { renewMs: 50, flushMs: 50, idleMs: 200 });
    const before = await emit(tenantId, 4);
    await until(async () => seqsOf(handled, tenantId).length >= 4, 'the first 4 handled');
    // The lease disappears from Redis once the holder has been idle for idleMs.
    await until(async () => (await appContext().redis.exists(leaseKey('listener', cursorId(name, tenantId)))) === 0, 'the idle lease released');
    expect((await findCursor(name, tenantId))?.seq).to.equal(before[3]);
    cleanups.push(appContext().listeners.register(recorder(name, handled, 'next')));
    const after = await emit(tenantId, 3);
    await until(async () => seqsOf(handled, tenantId).length >= 7, 'the next 3 handled');
    expect(seqsOf(handled, tenantId)).to.deep.equal([...before, ...after]);
    expect(handled.filter((h) => h.seq > (before[3] as number)).length).to.equal(3);
  });
});
