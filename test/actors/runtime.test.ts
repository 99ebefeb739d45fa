import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { Redis } from 'ioredis';
import { ActorSystem, ActorTimeoutError } from '../../actors/runtime.js';
import { leaseKey } from '../../actors/lease.js';
import { AppError } from '../../src/errors.js';
import { COUNTER_KIND, buildCounterBehaviour, counterModel, readsKey, spansKey } from '../support/actor-worker.js';
import type { CounterReply, FencedRead, HandlerSpan, WorkerAnswer, WorkerAsk } from '../support/actor-worker.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const LEASE_MS = 1000;
const IDLE_MS = 150;

/** The second OS process: another ActorSystem with the same counter behaviour. */
interface WorkerHandle {
  processId: string;
  ask<R>(id: string, msg: unknown): Promise<R>;
  kill(): Promise<void>;
  /** Sends a signal (SIGSTOP/SIGCONT pause and resume the whole process, timers included). */
  signal(sig: NodeJS.Signals): void;
}

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run through scripts/with-services.sh`);
  return v;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function askError(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected the ask to reject'),
    (err: unknown) => err,
  );
}

describe('ActorSystem', function () {
  let dbName: string;
  let conn: Connection;
  let redis: Redis;
  let system: ActorSystem;
  const workers: ChildProcess[] = [];

  async function spawnWorker(opts: { leaseMs: number; idleMs: number }): Promise<WorkerHandle> {
    const child = spawn(process.execPath, ['--import=tsx', 'test/support/actor-worker.ts'], {
      cwd: root,
      env: { ...process.env, ACTOR_TEST_DB: dbName, ACTOR_LEASE_MS: String(opts.leaseMs), ACTOR_IDLE_MS: String(opts.idleMs) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    workers.push(child);
    const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
    let seq = 0;
    const processId = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`actor worker exited early (${code})`)));
      child.on('message', (m: WorkerAnswer | { ready: true; processId: string }) => {
        if ('ready' in m) return resolve(m.processId);
        const p = pending.get(m.seq);
        pending.delete(m.seq);
        if (!p) return;
        if (m.ok) return p.resolve(m.reply);
        const { status, code, message, details } = m.error;
        p.reject(status !== undefined && code !== undefined ? new AppError(status, code, message, details) : new Error(message));
      });
    });
    return {
      processId,
      ask: <R>(id: string, msg: unknown) =>
        new Promise<R>((resolve, reject) => {
          seq += 1;
          pending.set(seq, { resolve: (v) => resolve(v as R), reject });
          const req: WorkerAsk = { seq, kind: COUNTER_KIND, id, msg };
          child.send(req);
        }),
      kill: async () => {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      },
      signal: (sig) => void child.kill(sig),
    };
  }

  before(async function () {
    const uri = requireEnv('MONGODB_URI');
    const base = new URL(uri).pathname.slice(1) || 'omnistream';
    dbName = `${base}_actors_${randomUUID().slice(0, 8)}`;
    conn = await mongoose.createConnection(uri, { dbName }).asPromise();
    redis = new Redis(requireEnv('REDIS_URL'));
    system = new ActorSystem({ redisUrl: requireEnv('REDIS_URL'), leaseMs: LEASE_MS, idleMs: IDLE_MS });
    system.register(buildCounterBehaviour(conn, redis));
    await system.start();
  });

  afterEach(async function () {
    // Graceful exit through the IPC channel; a worker that does not go quietly is killed.
    await Promise.all(
      workers.splice(0).map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }),
    );
  });

  after(async function () {
    await system?.stop();
    await conn?.dropDatabase();
    await conn?.close();
    await redis?.quit();
  });

  describe('ask across two processes', function () {
    it('never runs two handlers of one actor at once, whichever process owns it', async function () {
      const worker = await spawnWorker({ leaseMs: LEASE_MS, idleMs: IDLE_MS });
      const id = randomUUID();
      const inc = { type: 'inc' };
      const replies: CounterReply[] = [];
      // Five waves of 10 + 10 concurrent asks. The side that starts first alternates and takes the
      // lease; the other joins while it works through its mailbox. Between waves the actor
      // passivates, so ownership moves between the processes.
      const lease = leaseKey(COUNTER_KIND, id);
      for (let wave = 0; wave < 5; wave += 1) {
        const fromWorker = async () => Promise.all(Array.from({ length: 10 }, () => worker.ask<CounterReply>(id, inc)));
        const fromParent = async () => Promise.all(Array.from({ length: 10 }, () => system.ask<CounterReply>(COUNTER_KIND, id, inc)));
        const [first, second] = wave % 2 === 0 ? [fromWorker, fromParent] : [fromParent, fromWorker];
        const firstBatch = first();
        await waitFor(async () => (await redis.exists(lease)) === 1, 3000, 'the first asker to take the lease');
        const batches = await Promise.all([firstBatch, second()]);
        replies.push(...batches.flat());
        await waitFor(async () => (await redis.exists(lease)) === 0, 3000, 'passivation');
      }

      const doc = await counterModel(conn).findById(id).lean();
      expect(doc?.count).to.equal(100);
      expect(replies.map((r) => r.count).sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i + 1));

      const spans = (await redis.lrange(spansKey(id), 0, -1))
        .map((s) => JSON.parse(s) as HandlerSpan)
        .sort((x, y) => x.start - y.start);
      expect(spans).to.have.length(100);
      for (let i = 1; i < spans.length; i += 1) {
        const [prev, cur] = [spans[i - 1], spans[i]];
        expect(cur?.start, `handler ${i} started before handler ${i - 1} ended`).to.be.at.least(prev?.end ?? 0);
        expect(cur?.fence, 'fences only grow').to.be.at.least(prev?.fence ?? 0);
      }
      expect(new Set(spans.map((s) => s.processId))).to.have.keys(system.processId, worker.processId);
      await redis.del(spansKey(id));
    });

    it('lets another process take over, with a larger fence, when the owner dies holding the lease', async function () {
      const worker = await spawnWorker({ leaseMs: LEASE_MS, idleMs: 60_000 });
      const id = randomUUID();
      const before = await worker.ask<CounterReply>(id, { type: 'inc' });
      expect(before.processId).to.equal(worker.processId);

      await worker.kill();
      const ttl = await redis.pttl(leaseKey(COUNTER_KIND, id));
      expect(ttl, 'the dead owner still holds the lease').to.be.greaterThan(0);
      const startedAt = Date.now();
      const after = await system.ask<CounterReply>(COUNTER_KIND, id, { type: 'inc' }, 5000);

      expect(Date.now() - startedAt, 'answered only after the lease expired').to.be.at.least(ttl - 50);
      expect(after.processId).to.equal(system.processId);
      expect(after.fence).to.be.greaterThan(before.fence);
      expect(after.loaded, 'state reloaded from MongoDB').to.equal(before.count);
      expect(after.count).to.equal(before.count + 1);
    });

    it('refuses the write of a process whose lease was taken over while its handler was paused', async function () {
      this.timeout(15000);
      const worker = await spawnWorker({ leaseMs: LEASE_MS, idleMs: 60_000 });
      const id = randomUUID();
      await counterModel(conn).create({ _id: id, count: 0, version: 0 });
      const reads = async () => (await redis.lrange(readsKey(id), 0, -1)).map((r) => JSON.parse(r) as FencedRead);

      // The worker reads version 0, then stalls for longer than its lease lives.
      const stale = worker.ask<CounterReply>(id, { type: 'fenced-inc', pauseMs: 1500 });
      await waitFor(async () => (await reads()).length === 1, 5000, 'the worker to read the counter');
      worker.signal('SIGSTOP');
      await waitFor(async () => (await redis.exists(leaseKey(COUNTER_KIND, id))) === 0, 3000, 'the paused worker’s lease to expire');

      // This process takes the actor over and writes version 1.
      const owner = await system.ask<CounterReply>(COUNTER_KIND, id, { type: 'fenced-inc', pauseMs: 0 });
      expect(owner).to.include({ processId: system.processId, count: 1 });

      // Resumed, the worker writes what it computed from version 0: the database refuses it, and
      // its message runs again on the current state, under whichever process holds the lease now.
      worker.signal('SIGCONT');
      const retried = await stale;
      const log = await reads();
      expect(log.filter((r) => r.refused), 'the stale write was attempted and refused').to.deep.equal([{ processId: worker.processId, version: 0, refused: true }]);
      expect(retried.count, 'handled again on the current state').to.equal(2);
      expect(retried.fence, 'under the new owner’s lease or a later one').to.be.at.least(owner.fence);
      const doc = await counterModel(conn).findById(id).lean<{ count: number; version: number }>();
      expect(doc, 'no increment lost, none applied twice').to.include({ count: 2, version: 2 });
      await redis.del(readsKey(id));
    });

    it('delivers an AppError thrown by the owner to an asker in the other process', async function () {
      const worker = await spawnWorker({ leaseMs: LEASE_MS, idleMs: 60_000 });
      const workerOwned = randomUUID();
      const owned = await worker.ask<CounterReply>(workerOwned, { type: 'inc' });

      const err = await askError(system.ask(COUNTER_KIND, workerOwned, { type: 'fail' }));
      expect(err).to.be.instanceOf(AppError);
      expect(err).to.include({ status: 409, code: 'counter_refused', message: 'the counter refused' });
      expect((err as AppError).details).to.deep.equal([{ id: workerOwned }]);

      const plain = await askError(system.ask(COUNTER_KIND, workerOwned, { type: 'crash' }));
      expect(plain).to.be.instanceOf(Error).and.not.instanceOf(AppError);
      expect((plain as Error).message).to.equal('the counter broke');

      const next = await system.ask<CounterReply>(COUNTER_KIND, workerOwned, { type: 'inc' });
      expect(next, 'a failing message keeps the owner and its lease').to.include({ processId: worker.processId, fence: owned.fence });

      // And the other way round: the test process owns, the worker asks.
      const parentOwned = randomUUID();
      await system.ask(COUNTER_KIND, parentOwned, { type: 'inc' });
      const back = await askError(worker.ask(parentOwned, { type: 'fail' }));
      expect(back).to.be.instanceOf(AppError).and.include({ status: 409, code: 'counter_refused' });
    });
  });

  describe('metrics hooks', function () {
    it('counts the asks it forwards to the owning process, by kind', async function () {
      const worker = await spawnWorker({ leaseMs: LEASE_MS, idleMs: 60_000 });
      const id = randomUUID();
      await worker.ask<CounterReply>(id, { type: 'inc' });
      const before = system.forwardedAsks().get(COUNTER_KIND) ?? 0;
      for (let i = 0; i < 3; i += 1) expect(await system.ask<CounterReply>(COUNTER_KIND, id, { type: 'inc' })).to.include({ processId: worker.processId });
      expect(system.forwardedAsks().get(COUNTER_KIND)).to.equal(before + 3);
      // Handled here: nothing forwarded.
      await system.ask(COUNTER_KIND, randomUUID(), { type: 'inc' });
      expect(system.forwardedAsks().get(COUNTER_KIND)).to.equal(before + 3);
    });

    it('reports the messages waiting behind the one being handled, by kind', async function () {
      const id = randomUUID();
      await counterModel(conn).create({ _id: id, count: 0, version: 0 });
      expect(system.mailboxDepths().get(COUNTER_KIND)).to.equal(0);
      const asks = Array.from({ length: 3 }, () => system.ask<CounterReply>(COUNTER_KIND, id, { type: 'fenced-inc', pauseMs: 300 }));
      await waitFor(async () => (await redis.llen(readsKey(id))) === 1, 3000, 'the first handler to start');
      expect(system.mailboxDepths().get(COUNTER_KIND)).to.equal(2);
      await Promise.all(asks);
      expect(system.mailboxDepths().get(COUNTER_KIND)).to.equal(0);
      await redis.del(readsKey(id));
    });
  });

  describe('leases', function () {
    it('releases the lease after idleMs without messages, and reloads state on the next ask', async function () {
      const id = randomUUID();
      const key = leaseKey(COUNTER_KIND, id);
      const first = await system.ask<CounterReply>(COUNTER_KIND, id, { type: 'inc' });
      expect(await redis.get(key)).to.equal(`${system.processId}:${first.fence}`);

      const idleSince = Date.now();
      await waitFor(async () => (await redis.exists(key)) === 0, 2000, 'the lease to be released');
      expect(Date.now() - idleSince).to.be.at.least(IDLE_MS - 50);

      const second = await system.ask<CounterReply>(COUNTER_KIND, id, { type: 'inc' });
      expect(second.fence).to.be.greaterThan(first.fence);
      expect(second.loaded).to.equal(1);
    });

    it('rejects with ActorTimeoutError while the lease is held by a process that never answers', async function () {
      const id = randomUUID();
      await redis.set(leaseKey(COUNTER_KIND, id), 'ghost-process:1', 'PX', 5000);
      const err = await askError(system.ask(COUNTER_KIND, id, { type: 'inc' }, 300));
      expect(err).to.be.instanceOf(ActorTimeoutError);
      await redis.del(leaseKey(COUNTER_KIND, id));
    });

    it('releases every lease it holds on stop', async function () {
      const other = new ActorSystem({ redisUrl: requireEnv('REDIS_URL'), leaseMs: LEASE_MS, idleMs: 60_000 });
      other.register(buildCounterBehaviour(conn, redis));
      await other.start();
      const ids = [randomUUID(), randomUUID()];
      await Promise.all(ids.map((id) => other.ask(COUNTER_KIND, id, { type: 'inc' })));
      expect(await redis.exists(...ids.map((id) => leaseKey(COUNTER_KIND, id)))).to.equal(2);
      await other.stop();
      expect(await redis.exists(...ids.map((id) => leaseKey(COUNTER_KIND, id)))).to.equal(0);
    });
  });
});
