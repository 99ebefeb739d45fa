/**
 * The platform operator's health check: the dependencies (services/health.ts), how far behind
 * the job queue and the durable event listeners are, and the server processes alive with the
 * sockets each holds (services/process-heartbeat.ts).
 */
import { appContext } from '../context.js';
import { DURABLE_LISTENERS } from '../events/listeners/index.js';
import { listEventHeads } from '../models/event.js';
import { jobQueueBacklog } from '../models/job-queue.js';
import { cursorsOf } from '../models/listener-cursor.js';
import { checkHealth } from './health.js';
import { liveProcesses } from './process-heartbeat.js';

// Tenants whose event heads are compared per check; the check stays bounded on a large platform.
const TENANTS_CHECKED = 1_000;

/** One durable listener's distance behind the tenants' event logs. */
export interface ListenerLag {
  listener: string;
  /** The largest number of events it has yet to handle in one tenant. */
  max_lag_events: number;
  /** Tenants where it is behind. */
  tenants_behind: number;
  /** Tenants where an event of it failed and waits for a retry. */
  tenants_retrying: number;
}

/** How far behind each durable listener is, over at most TENANTS_CHECKED tenants. */
export async function listenerLags(): Promise<ListenerLag[]> {
  const heads = new Map((await listEventHeads(TENANTS_CHECKED)).map((h) => [h.tenant_id, h.seq]));
  return Promise.all(
    DURABLE_LISTENERS.map(async ({ name }) => {
      const lag: ListenerLag = { listener: name, max_lag_events: 0, tenants_behind: 0, tenants_retrying: 0 };
      for (const cursor of await cursorsOf(name, '', TENANTS_CHECKED)) {
        const behind = Math.max(0, (heads.get(cursor.tenant_id) ?? 0) - cursor.seq);
        if (behind > 0) lag.tenants_behind++;
        if (cursor.retry_at) lag.tenants_retrying++;
        lag.max_lag_events = Math.max(lag.max_lag_events, behind);
      }
      return lag;
    }),
  );
}

/** Everything the operator's health page shows; `degraded` when a dependency is down. */
export async function checkSystemHealth(now = new Date()) {
  // A dependency that is down shows in `checks`; what needs it answers null instead of failing the check.
  const [deps, backlog, listeners, processes] = await Promise.all([
    checkHealth(),
    jobQueueBacklog(now).catch(() => null),
    listenerLags().catch(() => null),
    liveProcesses(appContext().redis).catch(() => []),
  ]);
  return {
    status: deps.status,
    checks: deps.checks,
    job_queue: backlog && { waiting: backlog.waiting, lag_seconds: backlog.oldestDueAt ? Math.max(0, (now.getTime() - backlog.oldestDueAt.getTime()) / 1000) : 0 },
    event_listeners: listeners,
    processes: processes.map((p) => ({ id: p.process_id, hostname: p.hostname, pid: p.pid, sockets: p.sockets, started_at: p.started_at, last_seen_at: p.at })),
    process_count: processes.length,
    sockets_total: processes.reduce((n, p) => n + p.sockets, 0),
  };
}
