/**
 * Schemas of the Automation group's inspection and operations side: stats, runs, the event
 * queue, exports and worker metrics (rules, control and dry-run are automation.schema.ts).
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { STATS_MAX_DAYS } from '../../services/automation-stats.js';
import { BoolQuery, Id, PageQuery } from '../schemas/common.js';

const Day = z.iso.date().describe('YYYY-MM-DD, a day in the tenant’s time zone');

const Instant = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-12-01T08:00:00Z' })
  .transform((v) => new Date(v));

/** A CSV export's answer: a byte stream (written as the client reads it). */
export const CsvStream = z.custom<NodeJS.ReadableStream>((v) => typeof v === 'object' && v !== null && typeof (v as { pipe?: unknown }).pipe === 'function');

/** `?from=&to=` instants bounding a list by time (from included, to excluded), checked in order. */
const Window = {
  from: Instant.optional().describe('Only items at or after this instant (RFC 3339)'),
  to: Instant.optional().describe('Only items before this instant (RFC 3339)'),
};

const checkWindow = (q: { from?: Date | undefined; to?: Date | undefined }, ctx: z.RefinementCtx) => {
  if (q.from && q.to && q.to <= q.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
};

const EventType = z
  .string()
  .max(80)
  .regex(/^[a-z_]+(\.[a-z_]+)+$/, 'must be a dotted event type such as message.created');

/** The states of a queue item (as the worker writes them). */
export const EVENT_STATES = ['pending', 'processing', 'done', 'failed', 'skipped'] as const;

const RunFilters = {
  event_type: EventType.optional().describe('Only runs on events of this domain event type'),
  conversation_id: Id.optional().describe('Only runs on events of this conversation'),
  matched: BoolQuery.optional().describe('true: only runs whose conditions matched; false: only those that did not'),
  failed: BoolQuery.optional().describe('true: only runs with an error or a failed action; false: only runs without'),
  dry_run: BoolQuery.optional().describe('true: only runs recorded in dry-run mode (no action taken)'),
  ...Window,
};

const EventFilters = {
  state: z.enum(EVENT_STATES).optional().describe('Only items in this state'),
  event_type: EventType.optional().describe('Only items of this domain event type'),
  conversation_id: Id.optional().describe('Only items of this conversation'),
  duplicate: BoolQuery.optional().describe('true: only items recognised as duplicates of an earlier identical payload; false: only originals'),
  ...Window,
};

/** GET /api/automation/runs */
export const ListRunsQuery = z.strictObject({ ...PageQuery.shape, rule_id: Id.optional().describe('Only runs of this rule'), ...RunFilters }).superRefine(checkWindow);

/** GET /api/automation/rules/{id}/runs and /api/automation/events/{id}/runs */
export const ScopedRunsQuery = z.strictObject({ ...PageQuery.shape, ...RunFilters }).superRefine(checkWindow);

/** GET /api/automation/runs/export */
export const ExportRunsQuery = z
  .strictObject({
    rule_id: Id.optional().describe('Only runs of this rule'),
    ...RunFilters,
    bom: BoolQuery.optional().describe('Start with a UTF-8 byte-order mark (default true, for Excel)'),
  })
  .superRefine(checkWindow);

/** GET /api/automation/events */
export const ListEventsQuery = z.strictObject({ ...PageQuery.shape, ...EventFilters }).superRefine(checkWindow);

/** GET /api/conversations/{id}/automation-events, /api/automation/rules/{id}/events, /api/automation/events/fingerprint/{fingerprint} */
export const ScopedEventsQuery = z
  .strictObject({ ...PageQuery.shape, state: EventFilters.state, event_type: EventFilters.event_type, ...Window })
  .superRefine(checkWindow);

/** GET /api/automation/events/export */
export const ExportEventsQuery = z
  .strictObject({ ...EventFilters, bom: BoolQuery.optional().describe('Start with a UTF-8 byte-order mark (default true, for Excel)') })
  .superRefine(checkWindow);

/** `/events/fingerprint/{fingerprint}` path parameters. */
export const FingerprintParams = z.strictObject({
  fingerprint: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be a SHA-256 in hex (64 characters)')
    .transform((v) => v.toLowerCase()),
});

/** `to` on or after `from`, and no longer than the bucket allows (calendar days, the same in every zone). */
const checkDays = (q: { from?: string | undefined; to?: string | undefined; bucket?: 'hour' | 'day' | undefined }, ctx: z.RefinementCtx) => {
  if (!q.from || !q.to) return;
  const days = DateTime.fromISO(q.to, { zone: 'UTC' }).diff(DateTime.fromISO(q.from, { zone: 'UTC' }), 'days').days + 1;
  const max = STATS_MAX_DAYS[q.bucket ?? 'day'];
  if (days < 1) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
  else if (days > max) ctx.addIssue({ code: 'custom', path: ['to'], message: `a range covers at most ${max} days${q.bucket ? ` with bucket=${q.bucket}` : ''}` });
};

const Days = {
  from: Day.optional().describe('First day, in the tenant’s time zone (default: 6 days before to)'),
  to: Day.optional().describe('Last day (included), in the tenant’s time zone (default: today there)'),
};

/** GET /api/automation/stats and /api/automation/rules/{id}/stats */
export const StatsQuery = z.strictObject({ ...Days }).superRefine(checkDays);

/** GET /api/automation/stats/timeseries and /api/automation/rules/{id}/stats/timeseries */
export const TimeseriesQuery = z
  .strictObject({
    ...Days,
    bucket: z.enum(['hour', 'day']).default('day').describe(`Series bucket in the tenant’s time zone; at most ${STATS_MAX_DAYS.hour} days by hour, ${STATS_MAX_DAYS.day} by day`),
  })
  .superRefine(checkDays);

/** GET /api/automation/stats/alerts */
export const AlertsQuery = z.strictObject({
  window_hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24)
    .describe('The failure-rate window: runs of the last this many hours (default 24, at most 720)'),
});

/** GET /api/automation/worker/metrics */
export const WorkerMetricsQuery = z.strictObject({
  window_minutes: z.coerce.number().int().min(1).max(1440).default(15).describe('Throughput and failure rate over the last this many minutes (default 15, at most 1440)'),
});

/** POST /api/automation/events/retry-failed */
export const RetryFailedBody = z
  .strictObject({
    event_type: EventType.optional().describe('Only failed items of this event type'),
    conversation_id: Id.optional().describe('Only failed items of this conversation'),
    ...Window,
  })
  .superRefine(checkWindow);

/** POST /api/automation/events/cleanup */
export const CleanupBody = z.strictObject({
  older_than_hours: z
    .number({ message: 'must be a number of hours' })
    .int('must be a whole number of hours')
    .min(1, 'must be at least 1 hour')
    .max(24 * 3650)
    .describe('Delete failed items created more than this many hours ago'),
  dry_run: z.boolean().default(false).describe('true: count what would be deleted, delete nothing'),
});
