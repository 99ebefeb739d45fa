/**
 * One tenant's events in this process, handed on in seq order. Appends publish on Redis after
 * they are durable, but two publishes can cross (a tenant actor moving between processes) or one
 * can be lost (Redis dropped the connection); a socket that took seq N+1 before N would then
 * skip N for ever. So events wait here until their predecessors have arrived; a gap that stays
 * open for GAP_WAIT_MS is filled from the log, which has every committed seq.
 *
 * The stream starts at the log's end read when this process's first socket of the tenant
 * connected, not at the first event it hears: that one may itself come after a lost publish.
 */
import type { DomainEvent } from '../events/types.js';
import { logger } from '../logger.js';
import { readEventsAfter } from '../models/event.js';

// Long enough for a crossed publish to arrive; short next to the latency an agent notices.
const GAP_WAIT_MS = 100;
// At most this many events per fill read.
const FILL_LIMIT = 1000;
// A seq the log still lacks after this many fills was never committed (a writer that lost its
// lease died mid-append); the stream moves past it.
const MAX_FILLS = 20;

/** Orders one tenant's events and fills gaps from the log. */
export class TenantStream {
  /** The last seq handed on; null until the stream is started. */
  position: number | null = null;
  private readonly waiting = new Map<number, DomainEvent>();
  private timer: NodeJS.Timeout | null = null;
  private fills = 0;
  private closed = false;
  // Without a head to start from (its read failed), the first event heard is trusted instead.
  private startAtFirstHeard = false;

  constructor(
    private readonly tenantId: string,
    private readonly deliver: (e: DomainEvent) => void,
  ) {}

  /**
   * Starts handing on events after `head`, a seq the log had when the first socket connected
   * (sockets catch up to it from the log themselves); those heard so far up to it are dropped.
   */
  start(head: number): void {
    if (this.position !== null || this.closed) return;
    this.position = head;
    for (const seq of this.waiting.keys()) if (seq <= head) this.waiting.delete(seq);
    this.release();
  }

  /** Starts at the first event heard, when the log's end could not be read (its sockets were told sync.required). */
  startWithoutHead(): void {
    this.startAtFirstHeard = true;
    this.push([]);
  }

  /** Takes published events; hands on every one whose predecessors have all been handed on. */
  push(events: DomainEvent[]): void {
    for (const e of events) if (this.position === null || e.seq > this.position) this.waiting.set(e.seq, e);
    if (this.position === null && this.startAtFirstHeard && this.waiting.size > 0) this.position = Math.min(...this.waiting.keys()) - 1;
    this.release();
  }

  /** Stops the gap timer (the tenant has no sockets here any more). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private release(): void {
    if (this.position === null) return;
    for (let e = this.waiting.get(this.position + 1); e; e = this.waiting.get(this.position + 1)) {
      this.waiting.delete(e.seq);
      this.position = e.seq;
      this.fills = 0;
      this.deliver(e);
    }
    if (this.waiting.size > 0 && !this.timer && !this.closed) {
      this.timer = setTimeout(() => void this.fill(), GAP_WAIT_MS);
      this.timer.unref();
    }
  }

  private async fill(): Promise<void> {
    this.timer = null;
    const from = this.position;
    if (from === null || this.waiting.size === 0) return;
    const upTo = Math.min(...this.waiting.keys());
    try {
      for (const e of await readEventsAfter(this.tenantId, from, Math.min(FILL_LIMIT, upTo - from - 1))) if (e.seq > from) this.waiting.set(e.seq, e);
    } catch (err) {
      logger.error({ err, tenantId: this.tenantId }, 'filling an event gap from the log failed');
    }
    if (!this.waiting.has(from + 1) && ++this.fills >= MAX_FILLS) {
      logger.warn({ tenantId: this.tenantId, missing: from + 1 }, 'event seq never appeared in the log; moving past it');
      this.position = upTo - 1;
      this.fills = 0;
    }
    this.release();
  }
}
