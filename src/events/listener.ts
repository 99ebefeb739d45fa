/**
 * Reactions to domain events (Outline's processors): SLA clocks, CSAT surveys, campaign
 * recipient statuses, and the realtime fan-out. A listener names the event types it applies to
 * and handles one event at a time; where it runs decides the rest:
 *  - `durable` (bus.ts + listener-runner.ts): one process at a time per tenant, in seq order,
 *    at least once, from a cursor kept in MongoDB, so it resumes after a restart where it left
 *    off. `onFailure` says what a throw does: 'retry' keeps the cursor on the event and tries it
 *    again after a backoff (later events wait: order holds), 'skip' logs it and moves on.
 *  - `every-process`: each process handles every event it hears, as published (the realtime
 *    gateway orders them per tenant itself, from where each socket started).
 */
import type { DomainEvent, EventType } from './types.js';

/** What a durable listener does when `handle` throws. */
export type FailurePolicy = 'retry' | 'skip';

interface ListenerBase {
  /** Stable: names the listener's cursors and appears in logs. */
  name: string;
  /** The event types it handles; 'all' for every one. */
  events: readonly EventType[] | 'all';
  handle(event: DomainEvent): Promise<void> | void;
}

/** A listener with a cursor: one process per tenant at a time, in seq order, resumable. */
export interface DurableListener extends ListenerBase {
  runs: 'durable';
  onFailure: FailurePolicy;
}

/** A listener every process runs on what it hears (sockets of this process). */
export interface EveryProcessListener extends ListenerBase {
  runs: 'every-process';
}

export type Listener = DurableListener | EveryProcessListener;

/** True when the listener handles events of this type. */
export const appliesTo = (listener: Pick<ListenerBase, 'events'>, event: EventType): boolean => listener.events === 'all' || listener.events.includes(event);
