/**
 * A second OS process for the actor runtime tests, and the counter behaviour both processes run.
 * Started as `node --import=tsx test/support/actor-worker.ts` with an IPC channel; it reads
 * MONGODB_URI, REDIS_URL, ACTOR_TEST_DB, ACTOR_LEASE_MS and ACTOR_IDLE_MS, sends
 * `{ ready, processId }`, then answers `WorkerAsk` messages with `WorkerAnswer`s.
 */
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import { Redis } from 'ioredis';
import { ActorSystem } from '../../actors/runtime.js';
import type { ActorBehaviour } from '../../actors/runtime.js';
import { AppError, StaleWriteError } from '../../src/errors.js';
import { writeVersioned } from '../../src/models/versioned.js';

/** The actor kind of the test counter. */
export const COUNTER_KIND = 'test-counter';

/**
 * Messages the counter understands: `fail` throws an AppError, `crash` a plain Error;
 * `fenced-inc` reads count and version, says so on Redis (`readsKey`), waits `pauseMs`, and
 * writes both back with the database-side version fence (src/models/versioned.ts).
 */
export type CounterMsg = { type: 'inc' } | { type: 'fail' } | { type: 'crash' } | { type: 'fenced-inc'; pauseMs: number };
/** The counter's state: the count it found in MongoDB at init, and messages handled since. */
export type CounterState = { loaded: number; handled: number };
/** What an `inc` answers: the new count, the loaded count, and who handled it with which fence. */
export type CounterReply = { count: number; loaded: number; fence: number; processId: string };
/** One handler execution, pushed to a Redis list: monotonic-clock microseconds (system-wide on Linux). */
export type HandlerSpan = { start: number; end: number; processId: string; fence: number };

/** A request from the test process to the worker. */
export type WorkerAsk = { seq: number; kind: string; id: string; msg: unknown };
/** The worker's answer; errors carry the AppError fields when there are any. */
export type WorkerAnswer =
  | { seq: number; ok: true; reply: unknown }
  | { seq: number; ok: false; error: { name: string; message: string; status?: number; code?: string; details?: unknown[] } };

/** The Redis list a counter's handler spans go to. */
export const spansKey = (id: string): string => `test:actor-spans:${id}`;

/** The Redis list of `fenced-inc` reads and refused writes: `{ processId, version, refused? }`. */
export const readsKey = (id: string): string => `test:actor-reads:${id}`;

/** One entry of readsKey: a fenced handler read `version`, or (refused) had its write refused. */
export type FencedRead = { processId: string; version: number; refused?: true };

const counterSchema = new mongoose.Schema({ _id: String, count: Number, version: Number }, { versionKey: false });

/** The counter document model on the given connection (mongoose returns the existing one for the same schema). */
export function counterModel(conn: Connection) {
  return conn.model('ActorCounter', counterSchema);
}

const micros = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * A counter whose `inc` is a deliberately non-atomic read-modify-write (findById, pause,
 * updateOne $set): only the actor's one-at-a-time guarantee keeps the count right.
 */
export function buildCounterBehaviour(conn: Connection, redis: Redis): ActorBehaviour<CounterState, CounterMsg, CounterReply> {
  const Counter = counterModel(conn);
  return {
    kind: COUNTER_KIND,
    async init(id) {
      const doc = await Counter.findById(id).lean();
      return { loaded: doc?.count ?? 0, handled: 0 };
    },
    async receive(state, msg, ctx) {
      if (msg.type === 'fail') throw new AppError(409, 'counter_refused', 'the counter refused', [{ id: ctx.id }]);
      if (msg.type === 'crash') throw new Error('the counter broke');
      if (msg.type === 'fenced-inc') {
        const doc = await Counter.findById(ctx.id).lean<{ count: number; version: number }>();
        const version = doc?.version ?? 0;
        const processId = ctx.system.processId;
        await redis.rpush(readsKey(ctx.id), JSON.stringify({ processId, version } satisfies FencedRead));
        await sleep(msg.pauseMs);
        const count = (doc?.count ?? 0) + 1;
        try {
          await writeVersioned(Counter, 'counter', ctx.id, version, { $set: { count, version: version + 1 } });
        } catch (err) {
          if (err instanceof StaleWriteError) await redis.rpush(readsKey(ctx.id), JSON.stringify({ processId, version, refused: true } satisfies FencedRead));
          throw err;
        }
        return { state: { ...state, handled: state.handled + 1 }, reply: { count, loaded: state.loaded, fence: ctx.fence, processId } };
      }
      const start = micros();
      const doc = await Counter.findById(ctx.id).lean();
      const count = (doc?.count ?? 0) + 1;
      await sleep(3);
      await Counter.updateOne({ _id: ctx.id }, { $set: { count } }, { upsert: true });
      const span: HandlerSpan = { start, end: micros(), processId: ctx.system.processId, fence: ctx.fence };
      await redis.rpush(spansKey(ctx.id), JSON.stringify(span));
      return {
        state: { ...state, handled: state.handled + 1 },
        reply: { count, loaded: state.loaded, fence: ctx.fence, processId: ctx.system.processId },
      };
    },
  };
}

async function main(): Promise<void> {
  const env = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const conn = await mongoose.createConnection(env('MONGODB_URI'), { dbName: env('ACTOR_TEST_DB') }).asPromise();
  const redis = new Redis(env('REDIS_URL'));
  const system = new ActorSystem({
    redisUrl: env('REDIS_URL'),
    leaseMs: Number(env('ACTOR_LEASE_MS')),
    idleMs: Number(env('ACTOR_IDLE_MS')),
  });
  system.register(buildCounterBehaviour(conn, redis));
  await system.start();

  const send = (m: WorkerAnswer | { ready: true; processId: string }): void => {
    process.send?.(m);
  };
  process.on('message', (raw: WorkerAsk) => {
    system.ask(raw.kind, raw.id, raw.msg).then(
      (reply) => send({ seq: raw.seq, ok: true, reply }),
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const app = e instanceof AppError ? { status: e.status, code: e.code, details: e.details } : {};
        send({ seq: raw.seq, ok: false, error: { name: e.name, message: e.message, ...app } });
      },
    );
  });
  // The parent closing the IPC channel is the graceful way to stop; SIGKILL is the crash test.
  process.on('disconnect', () => {
    void system.stop().finally(async () => {
      await Promise.all([redis.quit(), conn.close()]);
      process.exit(0);
    });
  });
  send({ ready: true, processId: system.processId });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
