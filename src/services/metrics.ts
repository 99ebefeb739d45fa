/**
 * This process's Prometheus metrics (prom-client), scraped at `GET /metrics` (http/metrics.ts).
 * This module holds the registry and what the request paths record as they go; the values read
 * at scrape time (mailboxes, listeners, jobs, sockets) are in metrics-collectors.ts.
 *
 * Every label takes a bounded set of values: route templates (`/api/conversations/:id`), never
 * raw URLs; channel and actor kind names; never a tenant, user or resource id.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { ChannelName } from '../../channels/types.js';

/** The registry `GET /metrics` renders: ours, so nothing else in the process can add to it. */
export const metricsRegistry = new Registry();

// CPU, memory, event-loop lag, GC and handles of the Node process.
collectDefaultMetrics({ register: metricsRegistry });

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const httpDuration = new Histogram({
  name: 'omnistream_http_request_duration_seconds',
  help: 'HTTP request duration by method, route template (unmatched: no route) and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

const webhookLag = new Histogram({
  name: 'omnistream_webhook_processing_lag_seconds',
  help: 'Time from receiving a webhook delivery to its processing (failed tries, retried later, not counted)',
  labelNames: ['channel'] as const,
  // A delivery is normally processed within moments; the recovery pass takes minutes to an hour.
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers: [metricsRegistry],
});

const outboundSends = new Counter({
  name: 'omnistream_outbound_sends_total',
  help: 'Messages handed to a channel provider, by channel and result (sent or failed)',
  labelNames: ['channel', 'result'] as const,
  registers: [metricsRegistry],
});

/** Records one answered HTTP request; `route` is the matched template, or null when none matched. */
export function observeHttpRequest(method: string, route: string | null, status: number, seconds: number): void {
  const m = method.toUpperCase();
  httpDuration.observe({ method: METHODS.has(m) ? m : 'OTHER', route: route ?? 'unmatched', status: String(status) }, seconds);
}

/** Records how long a webhook delivery waited between being received and processed. */
export function observeWebhookLag(channel: ChannelName, receivedAt: Date, processedAt: Date): void {
  webhookLag.observe({ channel }, Math.max(0, (processedAt.getTime() - receivedAt.getTime()) / 1000));
}

/** Counts one send handed to a channel's provider and how it ended. */
export function countOutboundSend(channel: ChannelName, result: 'sent' | 'failed'): void {
  outboundSends.inc({ channel, result });
}
