/**
 * Runs durable listeners (listener.ts): for each listener and tenant, one process at a time
 * holds the cursor by a lease (actors/lease.ts, kind `listener`) and walks the tenant's log
 * from it, handling the listener's events in seq order. A holder keeps the cursor while events
 * flow, like an actor keeps its lease: it handles what the bus hears straight from memory,
 * renews the lease on a timer, writes the cursor at most once per `flushMs`, and lets go after
 * `idleMs` without events. It reads the log only to start, to fill a gap in what it heard (a
 * lost or late publish), and when the catch-up pass asks. A crash replays at most what was
 * handled since the last cursor write: delivery is at least once, so handlers are idempotent
 * (natural ids, claims).
 *
 * Work starts when the bus hears a tenant's events (wake), and from the catch-up pass
 * (jobs/listener-catch-up.job.ts) for cursors behind the log: after a restart, a lost publish,
 * or a failed event whose backoff is over. A listener meets a tenant at the first of its events
 * it hears; it does not replay the tenant's older history.
 */
import type { Redis } from 'ioredis';
import { acquireLease, releaseLease, renewLease } from '../../actors/lease.js';
import { logger } from '../logger.js';
import { readEventsAfter } from '../models/event.js';
import { cursorId, cursorsOf, findCursor, moveCursor, openCursor, type ListenerCursor } from '../models/listener-cursor.js';
import { appliesTo, type DurableListener } from './listener.js';
import type { DomainEvent } from './types.js';

// Events read from the log per step.
const BATCH = 100;
// How long a holder owns a cursor without renewing.
const LEASE_MS = 15_000;
// Events kept in memory ahead of a cursor; past this the holder reads them from the log instead.
const HEARD_MAX = 2_000;

/** The runner's clock settings (tests shorten them). */
export interface ListenerTiming {
  /** How often a holder renews its lease (well within LEASE_MS). */
  renewMs: number;
  /** How often a holder writes its cursor while it moves. */
  flushMs: number;
  /** A holder with nothing to do for this long lets the cursor go. */
  idleMs: number;
  /** Waits before a failed event is tried again, by consecutive failure. */
  retryMs: readonly number[];
}

const TIMING: ListenerTiming = { renewMs: 5_000, flushMs: 1_000, idleMs: 30_000, retryMs: [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000] };
// Cursors read per page by the catch-up pass.
const CATCH_UP_PAGE = 200;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

type CursorState = Pick<ListenerCursor, 'seq' | 'failures' | 'retry_at' | 'last_error'>;

/** A cursor this process holds: its lease, where it is, and the events heard ahead of it. */
class HeldCursor {
  readonly key: string;
  /** Where it is (ahead of the stored cursor between writes). */
  state: CursorState;
  /** The seq the stored cursor has: the compare-and-set of the next write. */
  storedSeq: number;
  /** Published events not yet handled, by seq. */
  readonly heard = new Map<number, DomainEvent>();
  /** Read the log before trusting what is heard: at start, after an overflow, when asked. */
  fromLog = true;
  dirty = false;
  lost = false;
  /** Being let go: drains no more; what it hears meanwhile goes to the next holder. */
  closing = false;
  lastActive = Date.now();
  running: Promise<void> | null = null;
  again = false;
  writing: Promise<void> = Promise.resolve();
  readonly timers: { renew?: NodeJS.Timeout; flush?: NodeJS.Timeout; retry?: NodeJS.Timeout } = {};

  constructor(
    readonly listener: DurableListener,
    readonly tenantId: string,
    readonly fence: number,
    stored: ListenerCursor,
  ) {
    this.key = cursorId(listener.name, tenantId);
    this.state = { seq: stored.seq, failures: stored.failures, retry_at: stored.retry_at, last_error: stored.last_error };
    this.storedSeq = stored.seq;
  }

  hear(events: DomainEvent[]): void {
    for (const e of events) if (e.seq > this.state.seq) this.heard.set(e.seq, e);
    if (this.heard.size > HEARD_MAX) {
      this.heard.clear();
      this.fromLog = true;
    }
  }

  /** The heard events that follow the cursor without a gap, up to `limit`. */
  contiguous(limit: number): DomainEvent[] {
    const out: DomainEvent[] = [];
    for (let seq = this.state.seq + 1; out.length < limit; seq++) {
      const e = this.heard.get(seq);
      if (!e) break;
      out.push(e);
    }
    return out;
  }

  /** Forgets heard events the cursor has passed. */
  forgetHandled(): void {
    for (const seq of this.heard.keys()) if (seq <= this.state.seq) this.heard.delete(seq);
  }

  stopTimers(): void {
    clearInterval(this.timers.renew);
    clearTimeout(this.timers.flush);
    clearTimeout(this.timers.retry);
  }
}

/** This process's runner of the durable listeners. */
export class DurableListeners {
  private readonly listeners = new Map<string, DurableListener>();
  /** Cursors held here, by cursor id. */
  private readonly held = new Map<string, HeldCursor>();
  /** Acquisitions under way, by cursor id. */
  private readonly taking = new Map<string, Promise<HeldCursor | null>>();
  /** Cursors another process holds, until when this one does not try for them. */
  private readonly elsewhere = new Map<string, number>();
  private closed = false;
  private readonly timing: ListenerTiming;

  constructor(
    private readonly redis: Redis,
    private readonly processId: string,
    listeners: DurableListener[] = [],
    timing: Partial<ListenerTiming> = {},
  ) {
    this.timing = { ...TIMING, ...timing };
    for (const l of listeners) this.register(l);
  }

  /** Adds a listener; answers a function that removes it, letting go of its cursors (written first). */
  register(listener: DurableListener): () => Promise<void> {
    if (this.listeners.has(listener.name)) throw new Error(`a listener named ${listener.name} is already registered`);
    this.listeners.set(listener.name, listener);
    return async () => {
      this.listeners.delete(listener.name);
      await Promise.all([...this.held.values()].filter((h) => h.listener === listener).map((h) => this.letGo(h)));
    };
  }

  /** A tenant's events were appended: each listener they concern walks its cursor. */
  wake(tenantId: string, events: DomainEvent[]): void {
    if (this.closed || events.length === 0) return;
    const first = events.reduce((min, e) => Math.min(min, e.seq), Number.POSITIVE_INFINITY);
    for (const listener of this.listeners.values()) {
      const key = cursorId(listener.name, tenantId);
      const h = this.held.get(key);
      // A held cursor hears every event, so the ones it skips leave no gap to read.
      if (h) {
        h.hear(events);
        this.kick(h);
        continue;
      }
      if (!events.some((e) => appliesTo(listener, e.event)) || this.heldElsewhere(key)) continue;
      this.takeFor(listener, tenantId, first - 1, events);
    }
  }

  /** Takes the cursor (in the background) and hands it `events`. */
  private takeFor(listener: DurableListener, tenantId: string, startAfter: number | null, events: DomainEvent[]): void {
    this.take(listener, tenantId, startAfter)
      .then((taken) => {
        if (!taken) return;
        taken.hear(events);
        this.kick(taken);
      })
      .catch((err: unknown) => logger.error({ err, listener: listener.name, tenantId }, 'taking a listener cursor failed; the catch-up pass takes it up again'));
  }

  /** Walks every cursor that is behind the log and not waiting for a retry; resolves when done and written. */
  async catchUp(): Promise<void> {
    const now = Date.now();
    for (const listener of [...this.listeners.values()]) {
      for (let after = ''; ; ) {
        const page = (await cursorsOf(listener.name, after, CATCH_UP_PAGE)) as unknown as ListenerCursor[];
        for (const c of page) {
          if (c.retry_at && c.retry_at.getTime() > now) continue;
          let h: HeldCursor | null | undefined = this.held.get(c._id);
          if (!h) {
            if (this.heldElsewhere(c._id) || (await readEventsAfter(c.tenant_id, c.seq, 1)).length === 0) continue;
            h = await this.take(listener, c.tenant_id, null);
            if (!h) continue;
          }
          h.fromLog = true;
          this.kick(h);
          await this.settle(h);
        }
        if (page.length < CATCH_UP_PAGE) break;
        after = (page[page.length - 1] as ListenerCursor).tenant_id;
      }
    }
  }

  /** Stops taking work, waits for what is running, writes every cursor and lets it go. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.taking.values()]);
    await Promise.allSettled([...this.held.values()].map((h) => this.letGo(h)));
  }

  private heldElsewhere(key: string): boolean {
    const until = this.elsewhere.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.elsewhere.delete(key);
    return false;
  }

  /** Takes the cursor's lease and loads it (opening it after `startAfter` when new); null when another process holds it. */
  private take(listener: DurableListener, tenantId: string, startAfter: number | null): Promise<HeldCursor | null> {
    const key = cursorId(listener.name, tenantId);
    const existing = this.held.get(key);
    if (existing) return Promise.resolve(existing);
    const underWay = this.taking.get(key);
    if (underWay) return underWay;
    const taking = (async () => {
      const lease = await acquireLease(this.redis, 'listener', key, this.processId, LEASE_MS);
      if (!lease.acquired) {
        // The holder renews every renewMs; try again after that at the latest (it may have died).
        this.elsewhere.set(key, Date.now() + Math.min(lease.holder.ttlMs, this.timing.renewMs));
        return null;
      }
      try {
        const found = (await findCursor(listener.name, tenantId)) as unknown as ListenerCursor | null;
        if (this.closed || !this.listeners.has(listener.name) || (!found && startAfter === null)) {
          await releaseLease(this.redis, 'listener', key, this.processId, lease.fence);
          return null;
        }
        const h = new HeldCursor(listener, tenantId, lease.fence, found ?? (await openCursor(listener.name, tenantId, startAfter as number)));
        this.held.set(key, h);
        this.elsewhere.delete(key);
        h.timers.renew = setInterval(() => void this.renewOrLetGo(h), this.timing.renewMs).unref();
        return h;
      } catch (err) {
        await releaseLease(this.redis, 'listener', key, this.processId, lease.fence).catch(() => false);
        throw err;
      }
    })().finally(() => this.taking.delete(key));
    this.taking.set(key, taking);
    return taking;
  }

  /** Runs the cursor's drain here, once at a time; a call while it runs makes it look again after. */
  private kick(h: HeldCursor): void {
    h.lastActive = Date.now();
    if (h.closing) return;
    if (h.running) {
      h.again = true;
      return;
    }
    h.again = false;
    h.running = this.drain(h)
      .catch((err: unknown) => {
        // A read or write failed: look in the log next time rather than trust what was heard.
        h.fromLog = true;
        logger.error({ err, listener: h.listener.name, tenantId: h.tenantId }, 'running a listener failed; the catch-up pass takes it up again');
      })
      .finally(() => {
        h.running = null;
        if (h.again && !this.closed && !h.lost) this.kick(h);
      });
  }

  /** Waits until the cursor's drains are over and its position is written. */
  private async settle(h: HeldCursor): Promise<void> {
    while (h.running) await h.running;
    await this.write(h);
  }

  /** Handles events after the cursor until none is left, the cursor is lost, or an event fails and waits for its retry. */
  private async drain(h: HeldCursor): Promise<void> {
    for (;;) {
      if (this.closed || h.lost) return;
      const retryAt = h.state.retry_at?.getTime() ?? 0;
      if (retryAt > Date.now()) {
        this.retryAt(h, retryAt);
        return;
      }
      let events = h.contiguous(BATCH);
      if (events.length === 0) {
        // Heard ahead of a gap (a publish lost or still on its way), or asked to look: the log has it.
        if (!h.fromLog && h.heard.size === 0) return;
        events = await readEventsAfter(h.tenantId, h.state.seq, BATCH);
        h.fromLog = events.length === BATCH;
        if (events.length === 0) {
          h.heard.clear();
          return;
        }
      }
      const failed = await this.handle(h, events);
      h.forgetHandled();
      if (failed) {
        await this.write(h);
        return;
      }
    }
  }

  /** Handles `events` in order from the cursor; true when one failed and waits for a retry. */
  private async handle(h: HeldCursor, events: DomainEvent[]): Promise<boolean> {
    const { listener } = h;
    const from = h.state;
    let seq = from.seq;
    let failure: { err: unknown; event: DomainEvent } | null = null;
    for (const e of events) {
      if (e.seq <= seq) continue;
      if (appliesTo(listener, e.event)) {
        try {
          await listener.handle(e);
        } catch (err) {
          if (listener.onFailure === 'retry') {
            failure = { err, event: e };
            break;
          }
          logger.error({ err, listener: listener.name, tenantId: h.tenantId, seq: e.seq, event: e.event }, 'listener failed on an event; skipped');
        }
      }
      seq = e.seq;
    }
    if (seq === from.seq && !failure) return false;
    const failures = failure ? (seq === from.seq ? from.failures + 1 : 1) : 0;
    h.state = {
      seq,
      failures,
      retry_at: failure ? new Date(Date.now() + (this.timing.retryMs[Math.min(failures, this.timing.retryMs.length) - 1] as number)) : null,
      last_error: failure ? messageOf(failure.err) : null,
    };
    if (failure) logger.warn({ err: failure.err, listener: listener.name, tenantId: h.tenantId, seq: failure.event.seq, failures, retryAt: h.state.retry_at }, 'listener failed on an event; retrying it later');
    h.dirty = true;
    h.lastActive = Date.now();
    if (!h.timers.flush) h.timers.flush = setTimeout(() => void this.write(h), this.timing.flushMs).unref();
    return failure !== null;
  }

  /** Tries the failed event again at `at`. */
  private retryAt(h: HeldCursor, at: number): void {
    clearTimeout(h.timers.retry);
    h.timers.retry = setTimeout(() => this.kick(h), Math.max(0, at - Date.now())).unref();
  }

  /** Writes the cursor's position if it moved; a cursor moved under it (lease lapsed, another took over) is lost. */
  private write(h: HeldCursor): Promise<void> {
    h.writing = h.writing.then(async () => {
      clearTimeout(h.timers.flush);
      h.timers.flush = undefined;
      if (!h.dirty || h.lost) return;
      const next = { ...h.state };
      h.dirty = false;
      try {
        if (await moveCursor(h.listener.name, h.tenantId, h.storedSeq, next)) h.storedSeq = next.seq;
        else this.lose(h);
      } catch (err) {
        h.dirty = true;
        logger.warn({ err, listener: h.listener.name, tenantId: h.tenantId }, 'writing a listener cursor failed; trying again');
        if (!h.timers.flush) h.timers.flush = setTimeout(() => void this.write(h), this.timing.flushMs).unref();
      }
    });
    return h.writing;
  }

  /** Renews the lease, or lets the cursor go when it has been idle (after one look at the log for a lost publish). */
  private async renewOrLetGo(h: HeldCursor): Promise<void> {
    if (h.lost || this.closed) return;
    try {
      if (!h.running && Date.now() - h.lastActive >= this.timing.idleMs) {
        await this.write(h);
        const waiting = h.state.retry_at !== null && h.state.retry_at.getTime() > Date.now();
        if (waiting || (await readEventsAfter(h.tenantId, h.state.seq, 1)).length === 0) {
          await this.letGo(h);
          return;
        }
        h.fromLog = true;
        this.kick(h);
      }
      if (!(await renewLease(this.redis, 'listener', h.key, this.processId, h.fence, LEASE_MS))) this.lose(h);
    } catch (err) {
      logger.warn({ err, listener: h.listener.name, tenantId: h.tenantId }, 'renewing a listener lease failed; trying again');
    }
  }

  /** Another process has the cursor now: stop here without writing. */
  private lose(h: HeldCursor): void {
    h.lost = true;
    h.stopTimers();
    if (this.held.get(h.key) === h) this.held.delete(h.key);
  }

  /**
   * Waits for the cursor's work, writes it and releases its lease. Events heard meanwhile (it
   * stays in `held` until released, so a wake does not take the lease from itself) go to a new
   * holder.
   */
  private async letGo(h: HeldCursor): Promise<void> {
    if (h.closing) return;
    h.closing = true;
    h.stopTimers();
    while (h.running) await h.running;
    await this.write(h);
    h.stopTimers();
    if (!h.lost) await releaseLease(this.redis, 'listener', h.key, this.processId, h.fence).catch(() => false);
    h.lost = true;
    if (this.held.get(h.key) === h) this.held.delete(h.key);
    const leftover = [...h.heard.values()].filter((e) => e.seq > h.state.seq);
    if (leftover.length > 0 && !this.closed && this.listeners.get(h.listener.name) === h.listener) this.takeFor(h.listener, h.tenantId, null, leftover);
  }
}
