/**
 * The metrics read when `GET /metrics` is scraped rather than recorded as things happen: this
 * process's actor mailboxes and forwarded asks, its connected sockets, and the platform-wide
 * event-listener lag and Agenda jobs (bounded reads; every process reports the same figures).
 * A read that fails leaves its metric empty for that scrape instead of failing the whole page.
 */
import { Counter, Gauge } from 'prom-client';
import type { Server } from 'socket.io';
import { appContext } from '../context.js';
import { logger } from '../logger.js';
import { jobCountsByState } from '../models/job-queue.js';
import { metricsRegistry } from './metrics.js';
import { listenerLags, type ListenerLag } from './system-health.js';

const socketServers = new Set<Server>();

/** Counts `io`'s connected sockets, by namespace, until the answered function is called. */
export function countSocketsOf(io: Server): () => void {
  socketServers.add(io);
  return () => void socketServers.delete(io);
}

/** Label values and the value they have at this scrape. */
type Reading = [labels: Record<string, string>, value: number];

/**
 * A metric whose values `read` answers at each scrape; a read that fails is logged and leaves
 * the metric empty. A counter shows totals kept elsewhere (they only grow while the process runs).
 */
function scraped(type: 'gauge' | 'counter', name: string, help: string, labelNames: string[], read: () => Iterable<Reading> | Promise<Iterable<Reading>>): void {
  async function collect(this: Gauge | Counter) {
    this.reset();
    let readings: Iterable<Reading>;
    try {
      readings = await read();
    } catch (err) {
      logger.warn({ err, metric: name }, 'reading a metric failed');
      return;
    }
    for (const [labels, value] of readings) {
      if (this instanceof Gauge) this.set(labels, value);
      else this.inc(labels, value);
    }
  }
  const config = { name, help, labelNames, registers: [metricsRegistry], collect };
  if (type === 'gauge') new Gauge(config);
  else new Counter(config);
}

const byLabel = (label: string, entries: Iterable<[string, number]>): Reading[] => [...entries].map(([value, n]) => [{ [label]: value }, n]);

// One read of the listener cursors serves both listener gauges of a scrape.
let lags: { at: number; value: Promise<ListenerLag[]> } | null = null;
function currentLags(): Promise<ListenerLag[]> {
  if (!lags || Date.now() - lags.at > 1_000) lags = { at: Date.now(), value: listenerLags() };
  return lags.value;
}

scraped('gauge', 'omnistream_actor_mailbox_depth', "Messages waiting in this process's actor mailboxes, by actor kind", ['kind'], () => byLabel('kind', appContext().actors.mailboxDepths()));

scraped('counter', 'omnistream_actor_asks_forwarded_total', 'Asks this process forwarded to the process owning the actor, by actor kind', ['kind'], () =>
  byLabel('kind', appContext().actors.forwardedAsks()),
);

scraped('gauge', 'omnistream_sockets_connected', 'Socket.IO sockets connected to this process, by namespace', ['namespace'], () => {
  const counts = new Map<string, number>();
  for (const io of socketServers) for (const [name, nsp] of io._nsps) counts.set(name, (counts.get(name) ?? 0) + nsp.sockets.size);
  return byLabel('namespace', counts);
});

scraped('gauge', 'omnistream_event_listener_lag_events', 'The most events a durable listener has yet to handle in one tenant', ['listener'], async () =>
  (await currentLags()).map((lag): Reading => [{ listener: lag.listener }, lag.max_lag_events]),
);

scraped('gauge', 'omnistream_event_listener_tenants_behind', 'Tenants in which a durable listener has events yet to handle', ['listener'], async () =>
  (await currentLags()).map((lag): Reading => [{ listener: lag.listener }, lag.tenants_behind]),
);

scraped('gauge', 'omnistream_agenda_jobs', 'Agenda jobs by job name and state (running, queued, scheduled, repeating, failed, completed, paused)', ['name', 'state'], async () =>
  (await jobCountsByState()).map(({ name, state, count }): Reading => [{ name, state }, count]),
);
