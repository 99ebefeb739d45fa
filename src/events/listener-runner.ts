/**
 * Runs durable listeners (listener.ts): for each listener and tenant, one process at a time
 * holds a lease (actors/lease.ts, kind `listener`) and walks the tenant's log from the cursor,
 * handling the listener's events in seq order and moving the cursor after each batch. A crash
 * mid-batch hands that batch again to the next holder: delivery is at least once, so handlers
 * are idempotent (natural ids, claims).
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

// Events read, handled and then recorded as one step of the cursor.
const BATCH = 100;
// How long a holder owns a tenant's cursor without renewing (renewed after every batch).
const LEASE_MS = 15_000;
// Waits before a failed event is tried again, by consecutive failure.
const RETRY_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000];
// Cursors read per page by the catch-up pass.
const CATCH_UP_PAGE = 200;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** This process's runner of the durable listeners. */
export class DurableListeners {
  private readonly listeners = new Map<string, DurableListener>();
  /** Drains running here, by cursor id; a wake meanwhile asks for another pass. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly processId: string,
    listeners: DurableListener[] = [],
    /** Waits before a failed event is tried again, by consecutive failure (tests shorten them). */
    private readonly retryMs: readonly number[] = RETRY_MS,
  ) {
    for (const l of listeners) this.register(l);
  }

  /** Adds a listener; answers a function that removes it. */
  register(listener: DurableListener): () => void {
    if (this.listeners.has(listener.name)) throw new Error(`a listener named ${listener.name} is already registered`);
    this.listeners.set(listener.name, listener);
    return () => this.listeners.delete(listener.name);
  }

  /** A tenant's events were appended: each listener they concern walks its cursor. */
  wake(tenantId: string, events: DomainEvent[]): void {
    const first = events.reduce((min, e) => Math.min(min, e.seq), Number.POSITIVE_INFINITY);
    for (const listener of this.listeners.values()) {
      if (events.some((e) => appliesTo(listener, e.event))) this.run(listener, tenantId, first - 1);
    }
  }

  /** Walks every cursor that is behind the log and not waiting for a retry; resolves when done. */
  async catchUp(): Promise<void> {
    const now = Date.now();
    for (const listener of [...this.listeners.values()]) {
      for (let after = ''; ; ) {
        const page = (await cursorsOf(listener.name, after, CATCH_UP_PAGE)) as unknown as ListenerCursor[];
        for (const c of page) {
          if (c.retry_at && c.retry_at.getTime() > now) continue;
          if ((await readEventsAfter(c.tenant_id, c.seq, 1)).length > 0) await this.run(listener, c.tenant_id, null);
        }
        if (page.length < CATCH_UP_PAGE) break;
        after = (page[page.length - 1] as ListenerCursor).tenant_id;
      }
    }
  }

  /** Stops taking work and waits for what is running. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.running.values()]);
  }

  /** Drains one cursor here, once at a time; a call while it runs makes it look again after. */
  private run(listener: DurableListener, tenantId: string, startAfter: number | null): Promise<void> {
    const key = cursorId(listener.name, tenantId);
    const current = this.running.get(key);
    if (current) {
      this.again.add(key);
      return current;
    }
    const work = (async () => {
      do {
        this.again.delete(key);
        try {
          await this.drain(listener, tenantId, startAfter);
        } catch (err) {
          logger.error({ err, listener: listener.name, tenantId }, 'running a listener failed; the catch-up pass takes it up again');
        }
      } while (this.again.has(key) && !this.closed);
    })().finally(() => this.running.delete(key));
    this.running.set(key, work);
    return work;
  }

  /** Takes the cursor's lease and handles events until the log is exhausted or an event fails. */
  private async drain(listener: DurableListener, tenantId: string, startAfter: number | null): Promise<void> {
    const id = cursorId(listener.name, tenantId);
    for (;;) {
      if (this.closed) return;
      const lease = await acquireLease(this.redis, 'listener', id, this.processId, LEASE_MS);
      // The holder looks at the log again after it lets go, so nothing heard now is left behind.
      if (!lease.acquired) return;
      let cursor: ListenerCursor | null = null;
      let waiting = false;
      try {
        const found = (await findCursor(listener.name, tenantId)) as unknown as ListenerCursor | null;
        if (!found && startAfter === null) return;
        cursor = found ?? (await openCursor(listener.name, tenantId, startAfter as number));
        if (cursor.retry_at && cursor.retry_at.getTime() > Date.now()) return;
        for (;;) {
          const step = await this.handleBatch(listener, tenantId, cursor);
          if (!step) return;
          cursor = step.cursor;
          if (step.failed) {
            waiting = true;
            return;
          }
          if (step.handled < BATCH) break;
          if (!(await renewLease(this.redis, 'listener', id, this.processId, lease.fence, LEASE_MS))) return;
        }
      } finally {
        await releaseLease(this.redis, 'listener', id, this.processId, lease.fence);
      }
      if (waiting || !cursor) return;
      // Appended while this process held the lease, and woken elsewhere in vain: look again.
      if ((await readEventsAfter(tenantId, cursor.seq, 1)).length === 0) return;
    }
  }

  /**
   * Handles up to BATCH events after the cursor and records how far it got; null when the cursor
   * moved under this process (its lease lapsed and another took over).
   */
  private async handleBatch(listener: DurableListener, tenantId: string, cursor: ListenerCursor): Promise<{ cursor: ListenerCursor; handled: number; failed: boolean } | null> {
    const events = await readEventsAfter(tenantId, cursor.seq, BATCH);
    let seq = cursor.seq;
    let failure: { err: unknown; event: DomainEvent } | null = null;
    for (const e of events) {
      if (appliesTo(listener, e.event)) {
        try {
          await listener.handle(e);
        } catch (err) {
          if (listener.onFailure === 'retry') {
            failure = { err, event: e };
            break;
          }
          logger.error({ err, listener: listener.name, tenantId, seq: e.seq, event: e.event }, 'listener failed on an event; skipped');
        }
      }
      seq = e.seq;
    }
    if (events.length === 0) return { cursor, handled: 0, failed: false };
    const failures = failure ? (seq === cursor.seq ? cursor.failures + 1 : 1) : 0;
    const next = {
      seq,
      failures,
      retry_at: failure ? new Date(Date.now() + (this.retryMs[Math.min(failures, this.retryMs.length) - 1] as number)) : null,
      last_error: failure ? messageOf(failure.err) : null,
    };
    if (failure) logger.warn({ err: failure.err, listener: listener.name, tenantId, seq: failure.event.seq, failures, retryAt: next.retry_at }, 'listener failed on an event; retrying it later');
    if (!(await moveCursor(listener.name, tenantId, cursor.seq, next))) return null;
    return { cursor: { ...cursor, ...next, updated_at: new Date() }, handled: events.length, failed: failure !== null };
  }
}
