/**
 * The actor runtime (ARCHITECTURE invariant 4, STYLE "Actors"): nact's contract — a FIFO mailbox
 * per actor, one message at a time, `(state, msg, ctx) -> { state, reply }`, idle actors
 * passivate — stretched across processes. A Redis lease (see lease.ts) decides which process
 * hosts an actor; asks that arrive anywhere else are forwarded to the owner over pub/sub:
 * requests on `actor:inbox:<processId>`, answers on `actor:reply:<processId>`.
 *
 * Every ask goes through the local mailbox first, and the mailbox confirms or takes the lease
 * before each message, so "forward or handle" is decided in one place, in order. While the
 * renewal timer keeps confirming the lease, queued messages are handled without a Redis round
 * trip each; the second fence is the database's (a write filtered on the `version` it read), and
 * a write it refuses (StaleWriteError) sends the message back through the lease check once, to
 * run on reloaded state in whichever process owns the actor now.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { AppError, StaleWriteError } from '../src/errors.js';
import { acquireLease, leaseKey, releaseLease, renewLease } from './lease.js';
import type { LeaseHolder } from './lease.js';

/** What a handler gets besides state and message: who it is and the fence it owns the actor with. */
export interface ActorContext {
  id: string;
  kind: string;
  fence: number;
  system: ActorSystem;
}

/** One kind of actor: how to load its state and how to handle one message. */
export interface ActorBehaviour<S, M, R> {
  kind: string;
  init(id: string): Promise<S>;
  receive(state: S, msg: M, ctx: ActorContext): Promise<{ state: S; reply: R }>;
}

/** Settings of one process's ActorSystem. */
export interface ActorSystemOptions {
  redisUrl: string;
  /** Unique per running process; defaults to host, pid and a random suffix. */
  processId?: string;
  /** Lease lifetime; renewed every third of it while the actor is active. */
  leaseMs?: number;
  /** An actor with no message for this long drops its state and releases its lease. */
  idleMs?: number;
}

/** Rejection of an ask that got no answer in time (owner unreachable, busy, or lease stuck). */
export class ActorTimeoutError extends Error {
  constructor(kind: string, id: string, timeoutMs: number) {
    super(`ask ${kind}/${id} got no answer within ${timeoutMs} ms`);
    this.name = 'ActorTimeoutError';
  }
}

type AnyBehaviour = ActorBehaviour<unknown, unknown, unknown>;
type Outcome = { ok: true; reply: unknown } | { ok: false; error: unknown };
type WireError = { message: string; status?: number; code?: string; details?: unknown[] };
/** One message on its way; `replyTo` is the asking process's reply channel, kept across hops. */
type Envelope = { rid: string; replyTo: string; kind: string; id: string; msg: unknown; hops: number; deadline: number; staleRetried?: boolean };
type WireRequest = Omit<Envelope, 'deadline' | 'staleRetried'> & { t: 'req'; ttlMs: number };
type WireReply = { t: 'rep'; rid: string; ok: true; reply?: unknown } | { t: 'rep'; rid: string; ok: false; error: WireError };

/** The local side of one actor: its mailbox, and its state while this process holds the lease. */
interface Cell {
  key: string;
  kind: string;
  id: string;
  behaviour: AnyBehaviour;
  queue: Envelope[];
  draining: Promise<void> | null;
  /** The fence of the lease this process holds, 0 when it holds none. */
  fence: number;
  /** Until when the last confirmed renewal vouches for the lease without asking Redis again. */
  confirmedUntil: number;
  state: unknown;
  /** Set after a refused write: reload the state before the next message. */
  stale: boolean;
  renewTimer: NodeJS.Timeout | null;
  idleTimer: NodeJS.Timeout | null;
}

type Waiter = { resolve(reply: unknown): void; reject(err: Error): void; timer: NodeJS.Timeout };

// Bounds ping-pong while a lease changes hands repeatedly; a request normally takes one hop.
const MAX_HOPS = 5;
const inboxChannel = (processId: string): string => `actor:inbox:${processId}`;
const replyChannelOf = (processId: string): string => `actor:reply:${processId}`;

/** Hosts actors in this process and reaches those hosted by other processes. */
export class ActorSystem {
  /** This process's identity in leases and channel names. */
  readonly processId: string;
  /** Lease lifetime in milliseconds. */
  readonly leaseMs: number;
  /** Idle time before passivation, in milliseconds. */
  readonly idleMs: number;
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly replyChannel: string;
  private readonly behaviours = new Map<string, AnyBehaviour>();
  private readonly cells = new Map<string, Cell>();
  /** Asks made in this process, by request id. */
  private readonly waiters = new Map<string, Waiter>();
  /** Forwarded requests queued or running here, so a re-sent copy is not handled twice. */
  private readonly accepted = new Set<string>();
  /** Recent answers to forwarded requests, re-published if the asker re-sends. */
  private readonly answered = new Map<string, WireReply>();
  private readonly releasing = new Map<string, Promise<unknown>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Asks sent on to the owning process, by actor kind (read by the metrics, never by the runtime). */
  private readonly forwardedByKind = new Map<string, number>();
  private started = false;
  private stopped = false;

  constructor(opts: ActorSystemOptions) {
    this.processId = opts.processId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = opts.leaseMs ?? 10_000;
    this.idleMs = opts.idleMs ?? 30_000;
    // lazyConnect: constructing a system opens nothing until start().
    this.redis = new Redis(opts.redisUrl, { lazyConnect: true });
    this.sub = new Redis(opts.redisUrl, { lazyConnect: true });
    this.replyChannel = replyChannelOf(this.processId);
  }

  /** Connects and subscribes to this process's inbox and reply channels. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all([this.redis.connect(), this.sub.connect()]);
    this.sub.on('message', (_channel: string, text: string) => this.onWire(text));
    await this.sub.subscribe(inboxChannel(this.processId), this.replyChannel);
  }

  /** Waits for running handlers, releases every lease still held by this process, disconnects. */
  async stop(): Promise<void> {
    if (!this.started || this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.values()) w.reject(new Error('ActorSystem stopped'));
    this.waiters.clear();
    // Releasing while a handler still writes would let another process start on the same actor.
    const cells = [...this.cells.values()];
    await Promise.all(cells.map((c) => c.draining));
    await Promise.all(cells.map((c) => this.release(c)));
    await Promise.all(this.releasing.values());
    this.cells.clear();
    await Promise.all([this.sub.quit(), this.redis.quit()]);
  }

  /** Declares an actor kind; every process that may host it must register the same behaviour. */
  register<S, M, R>(behaviour: ActorBehaviour<S, M, R>): void {
    if (this.behaviours.has(behaviour.kind)) throw new Error(`actor kind "${behaviour.kind}" is already registered`);
    this.behaviours.set(behaviour.kind, behaviour as unknown as AnyBehaviour);
  }

  /** Messages waiting in this process's mailboxes (not the one being handled), by registered kind. */
  mailboxDepths(): Map<string, number> {
    const depths = new Map([...this.behaviours.keys()].map((kind) => [kind, 0]));
    for (const cell of this.cells.values()) depths.set(cell.kind, (depths.get(cell.kind) ?? 0) + cell.queue.length);
    return depths;
  }

  /** How many asks this process has forwarded to the process owning the actor, by kind, since it started. */
  forwardedAsks(): Map<string, number> {
    return new Map([...this.behaviours.keys()].map((kind) => [kind, this.forwardedByKind.get(kind) ?? 0]));
  }

  /** Sends `msg` to actor `kind/id` wherever it lives and resolves with its reply. */
  ask<R>(kind: string, id: string, msg: unknown, timeoutMs = 10_000): Promise<R> {
    if (!this.started || this.stopped) return Promise.reject(new Error('ActorSystem is not running'));
    if (!this.behaviours.has(kind)) return Promise.reject(new Error(`no actor behaviour registered for kind "${kind}"`));
    let body: unknown;
    try {
      // A JSON round trip makes a local ask behave exactly like a forwarded one.
      body = toJson(msg);
    } catch (err) {
      return Promise.reject(toError(err));
    }
    const rid = randomUUID();
    return new Promise<R>((resolve, reject) => {
      const timer = this.later(() => {
        this.waiters.delete(rid);
        reject(new ActorTimeoutError(kind, id, timeoutMs));
      }, timeoutMs);
      this.waiters.set(rid, { resolve: (reply) => resolve(reply as R), reject, timer });
      this.deliver({ rid, replyTo: this.replyChannel, kind, id, msg: body, hops: 0, deadline: Date.now() + timeoutMs });
    });
  }

  private deliver(env: Envelope): void {
    const behaviour = this.behaviours.get(env.kind);
    if (!behaviour) return this.answer(env, { ok: false, error: new Error(`no actor behaviour for kind "${env.kind}"`) });
    const key = leaseKey(env.kind, env.id);
    let cell = this.cells.get(key);
    if (!cell) {
      const { kind, id } = env;
      cell = { key, kind, id, behaviour, queue: [], draining: null, fence: 0, confirmedUntil: 0, state: undefined, stale: false, renewTimer: null, idleTimer: null };
      this.cells.set(key, cell);
    }
    cell.queue.push(env);
    if (cell.idleTimer) this.cancel(cell.idleTimer);
    cell.idleTimer = null;
    if (!cell.draining) cell.draining = this.drain(cell);
  }

  /** The mailbox loop: at most one per cell, so handler N+1 never starts before N finished. */
  private async drain(cell: Cell): Promise<void> {
    for (let env = cell.queue.shift(); env; env = cell.queue.shift()) {
      if (!this.isLive(env)) {
        this.accepted.delete(env.rid);
        continue;
      }
      if (this.stopped) {
        this.answer(env, { ok: false, error: new Error('ActorSystem stopped') });
        continue;
      }
      try {
        const holder = await this.claim(cell);
        if (holder) this.route(env, holder);
        else await this.handle(cell, env);
      } catch (err) {
        this.answer(env, { ok: false, error: err });
      }
    }
    cell.draining = null;
    if (this.cells.get(cell.key) !== cell || this.stopped) return;
    if (cell.fence > 0) cell.idleTimer = this.later(() => this.passivate(cell), this.idleMs);
    else this.cells.delete(cell.key);
  }

  /** Confirms (renews) or takes the lease; null when this process owns the actor, else the holder. */
  private async claim(cell: Cell): Promise<LeaseHolder | null> {
    if (cell.fence > 0) {
      if (!cell.stale && Date.now() < cell.confirmedUntil) return null;
      const askedAt = Date.now();
      if (await renewLease(this.redis, cell.kind, cell.id, this.processId, cell.fence, this.leaseMs)) {
        this.confirmed(cell, askedAt);
        if (cell.stale) await this.load(cell);
        return null;
      }
      this.drop(cell);
    }
    await this.releasing.get(cell.key);
    const askedAt = Date.now();
    const res = await acquireLease(this.redis, cell.kind, cell.id, this.processId, this.leaseMs);
    if (!res.acquired) return res.holder;
    cell.fence = res.fence;
    this.confirmed(cell, askedAt);
    cell.renewTimer = setInterval(() => void this.renew(cell), Math.max(1, Math.floor(this.leaseMs / 3)));
    cell.renewTimer.unref();
    // Always reload: the previous owner may have written since this process last held the actor.
    await this.load(cell);
    return null;
  }

  private async load(cell: Cell): Promise<void> {
    try {
      cell.state = await cell.behaviour.init(cell.id);
      cell.stale = false;
    } catch (err) {
      await this.release(cell);
      throw err;
    }
  }

  /**
   * A renewal sent at `askedAt` succeeded, so the lease lives at least until askedAt + leaseMs.
   * Half of that is trusted without asking again: the timer renews every third, so an active
   * actor never waits on Redis, and a process that stalls past it checks before the next message.
   */
  private confirmed(cell: Cell, askedAt: number): void {
    cell.confirmedUntil = askedAt + Math.floor(this.leaseMs / 2);
  }

  private async handle(cell: Cell, env: Envelope): Promise<void> {
    const fence = cell.fence;
    try {
      const ctx: ActorContext = { id: cell.id, kind: cell.kind, fence, system: this };
      const { state, reply } = await cell.behaviour.receive(cell.state, env.msg, ctx);
      // A lease lost mid-handler means the state is no longer ours to keep.
      if (cell.fence === fence) cell.state = state;
      this.answer(env, { ok: true, reply: toJson(reply) });
    } catch (err) {
      if (err instanceof StaleWriteError) return this.onStaleWrite(cell, env, err);
      // The state from before the failed message stays, as in nact.
      this.answer(env, { ok: false, error: err });
    }
  }

  /**
   * The database refused a write made on state that is no longer current: another process took
   * the lease while this handler ran, or the document changed under the actor. The state is
   * reloaded and the lease checked before anything else runs; the message goes back to the front
   * of the mailbox once, to be handled on current state here or forwarded to the new owner. A
   * second refusal answers the asker with the error.
   */
  private onStaleWrite(cell: Cell, env: Envelope, err: StaleWriteError): void {
    cell.stale = true;
    cell.state = undefined;
    if (env.staleRetried) return this.answer(env, { ok: false, error: err });
    cell.queue.unshift({ ...env, staleRetried: true });
  }

  private route(env: Envelope, holder: LeaseHolder): void {
    // Our own id on a lease no cell holds is left from an earlier run with the same processId.
    if (holder.processId === this.processId) return this.retry(env, holder.ttlMs);
    if (env.hops >= MAX_HOPS) {
      return this.answer(env, { ok: false, error: new Error(`ask ${env.kind}/${env.id} was forwarded ${MAX_HOPS} times without reaching its owner`) });
    }
    void this.forward(env, holder);
  }

  private async forward(env: Envelope, holder: LeaseHolder): Promise<void> {
    const { deadline, ...fields } = env;
    const req: WireRequest = { ...fields, t: 'req', hops: env.hops + 1, ttlMs: deadline - Date.now() };
    let receivers: number;
    try {
      receivers = await this.redis.publish(inboxChannel(holder.processId), JSON.stringify(req));
    } catch (err) {
      return this.answer(env, { ok: false, error: err });
    }
    // No subscriber: the owner process is gone and its lease can only expire, so retry acquiring.
    if (receivers === 0) return this.retry(env, holder.ttlMs);
    this.forwardedByKind.set(env.kind, (this.forwardedByKind.get(env.kind) ?? 0) + 1);
    // A middle hop is done; the owner answers the asker directly.
    if (env.replyTo !== this.replyChannel) return void this.accepted.delete(env.rid);
    // No answer for a whole lease period: the owner may have died holding the request. Route it
    // again; a live owner recognises the request id and does not handle it twice.
    this.later(() => {
      if (this.waiters.has(env.rid)) this.deliver(env);
    }, this.leaseMs);
  }

  private retry(env: Envelope, ttlMs: number): void {
    // Poll rather than sleep the whole ttl: a lease may also be released early.
    this.later(() => {
      if (this.isLive(env)) this.deliver(env);
      else this.accepted.delete(env.rid);
    }, Math.min(Math.max(ttlMs, 10), 100));
  }

  private async renew(cell: Cell): Promise<void> {
    const fence = cell.fence;
    if (!fence) return;
    try {
      const askedAt = Date.now();
      const held = await renewLease(this.redis, cell.kind, cell.id, this.processId, fence, this.leaseMs);
      if (cell.fence !== fence) return;
      if (held) this.confirmed(cell, askedAt);
      else this.drop(cell);
    } catch {
      // Redis unreachable: the check before the next message decides whether we still own it.
    }
  }

  /** Forgets a lease that is no longer ours (expired and maybe taken); never deletes it. */
  private drop(cell: Cell): void {
    if (cell.renewTimer) clearInterval(cell.renewTimer);
    cell.renewTimer = null;
    cell.fence = 0;
    cell.confirmedUntil = 0;
    cell.state = undefined;
    if (!cell.draining && cell.queue.length === 0 && this.cells.get(cell.key) === cell) {
      if (cell.idleTimer) this.cancel(cell.idleTimer);
      this.cells.delete(cell.key);
    }
  }

  private passivate(cell: Cell): void {
    cell.idleTimer = null;
    if (cell.draining || cell.queue.length > 0) return;
    this.cells.delete(cell.key);
    void this.release(cell);
  }

  /** Compare-and-delete of our lease; the next cell for this actor waits for it before acquiring. */
  private async release(cell: Cell): Promise<void> {
    const fence = cell.fence;
    this.drop(cell);
    if (!fence) return;
    const done: Promise<unknown> = releaseLease(this.redis, cell.kind, cell.id, this.processId, fence)
      .catch(() => false)
      .finally(() => {
        if (this.releasing.get(cell.key) === done) this.releasing.delete(cell.key);
      });
    this.releasing.set(cell.key, done);
    await done;
  }

  private isLive(env: Envelope): boolean {
    return env.replyTo === this.replyChannel ? this.waiters.has(env.rid) : Date.now() < env.deadline;
  }

  private answer(env: Envelope, outcome: Outcome): void {
    if (env.replyTo === this.replyChannel) return this.settle(env.rid, outcome);
    const rep: WireReply = outcome.ok
      ? { t: 'rep', rid: env.rid, ok: true, reply: outcome.reply }
      : { t: 'rep', rid: env.rid, ok: false, error: toWireError(outcome.error) };
    this.accepted.delete(env.rid);
    this.answered.set(env.rid, rep);
    this.later(() => this.answered.delete(env.rid), 2 * this.leaseMs);
    // A lost reply is recovered by the asker re-sending, answered from `answered`.
    this.redis.publish(env.replyTo, JSON.stringify(rep)).catch(() => undefined);
  }

  private settle(rid: string, outcome: Outcome): void {
    const waiter = this.waiters.get(rid);
    if (!waiter) return;
    this.waiters.delete(rid);
    this.cancel(waiter.timer);
    if (outcome.ok) waiter.resolve(outcome.reply);
    else waiter.reject(toError(outcome.error));
  }

  private onWire(text: string): void {
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (isRequest(m)) this.onRequest(m);
    else if (isReply(m)) this.settle(m.rid, m.ok ? { ok: true, reply: m.reply } : { ok: false, error: fromWireError(m.error) });
  }

  private onRequest(req: WireRequest): void {
    if (this.stopped) return;
    const cached = this.answered.get(req.rid);
    if (cached) return void this.redis.publish(req.replyTo, JSON.stringify(cached)).catch(() => undefined);
    if (this.accepted.has(req.rid)) return;
    // A request bounced back to its asker is deduplicated by the asker's own waiter instead.
    if (req.replyTo !== this.replyChannel) this.accepted.add(req.rid);
    const { rid, replyTo, kind, id, msg, hops } = req;
    this.deliver({ rid, replyTo, kind, id, msg, hops, deadline: Date.now() + req.ttlMs });
  }

  /** setTimeout that stop() can cancel and that does not keep the process alive by itself. */
  private later(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  private cancel(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }
}

function toJson(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function toWireError(err: unknown): WireError {
  if (err instanceof AppError) return { message: err.message, status: err.status, code: err.code, details: err.details };
  return { message: toError(err).message };
}

function fromWireError(w: WireError): Error {
  if (typeof w.status === 'number' && typeof w.code === 'string') return new AppError(w.status, w.code, w.message, w.details);
  return new Error(w.message);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isRequest(m: unknown): m is WireRequest {
  return (
    isRecord(m) && m.t === 'req' && typeof m.rid === 'string' && typeof m.replyTo === 'string' &&
    typeof m.kind === 'string' && typeof m.id === 'string' && typeof m.hops === 'number' && typeof m.ttlMs === 'number'
  );
}

function isReply(m: unknown): m is WireReply {
  return isRecord(m) && m.t === 'rep' && typeof m.rid === 'string' && (m.ok === true || (m.ok === false && isRecord(m.error)));
}
