/**
 * Automation, inspection and operations: stats and series, alert stats, the run log with replay
 * context, the event queue (lists, exports, retry, cleanup, reprocess) and worker metrics. The
 * rules, global control and dry-run routes are in automation.ts; both are the Automation group.
 */
import { z } from 'zod';
import { presentAutomationEvent, AutomationEventBody } from '../../presenters/automation-event.js';
import { presentAutomationRun, presentRunReplay, AutomationRunBody, RunReplayBody } from '../../presenters/automation-run.js';
import {
  AlertsBody,
  AutomationStatsBody,
  EventQueueStatsBody,
  presentAlerts,
  presentAutomationStats,
  presentEventQueueStats,
  presentRuleStats,
  presentTimeseries,
  presentWorkerMetrics,
  RuleStatsBody,
  TimeseriesBody,
  WorkerMetricsBody,
} from '../../presenters/automation-stats.js';
import { iso, presentPage } from '../../presenters/page.js';
import { acting } from '../../services/agents.js';
import {
  cleanupFailedEvents,
  exportEvents,
  getEvent,
  listConversationEvents,
  listEvents,
  listRuleEvents,
  reprocessEvent,
  retryEvent,
  retryFailedEvents,
  type EventFilters,
} from '../../services/automation-events.js';
import { exportRuns, getRun, getRunReplay, listEventRuns, listRuleRuns, listRuns, type RunFilters } from '../../services/automation-runs.js';
import { automationAlerts, automationStats, automationTimeseries, eventQueueStats, ruleStats, workerMetrics } from '../../services/automation-stats.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, pageOf } from '../schemas/common.js';
import {
  AlertsQuery,
  CleanupBody,
  CsvStream,
  ExportEventsQuery,
  ExportRunsQuery,
  FingerprintParams,
  ListEventsQuery,
  ListRunsQuery,
  RetryFailedBody,
  ScopedEventsQuery,
  ScopedRunsQuery,
  StatsQuery,
  TimeseriesQuery,
  WorkerMetricsQuery,
} from './automation-ops.schema.js';

const RunPage = pageOf(AutomationRunBody);
const EventPage = pageOf(AutomationEventBody);

const CSV_DESCRIPTION =
  'RFC 4180 CSV in UTF-8 with CRLF line ends and a header row, streamed from a database cursor as the client reads (any size, bounded memory). ' +
  'Starts with a byte-order mark unless `bom=false` (Excel reads a CSV without one in a legacy code page). A cell starting with = + - @, a tab or a CR gets a leading `\'` so spreadsheets do not run it as a formula.';

/** Query filters of a run list as the service names them. */
const runFilters = (q: { rule_id?: string | undefined; event_type?: string | undefined; conversation_id?: string | undefined; matched?: boolean | undefined; failed?: boolean | undefined; dry_run?: boolean | undefined; from?: Date | undefined; to?: Date | undefined }): RunFilters => ({
  ruleId: q.rule_id,
  eventType: q.event_type,
  conversationId: q.conversation_id,
  matched: q.matched,
  failed: q.failed,
  dryRun: q.dry_run,
  from: q.from,
  to: q.to,
});

/** Query filters of an item list as the service names them. */
const eventFilters = (q: { state?: EventFilters['state']; event_type?: string | undefined; conversation_id?: string | undefined; duplicate?: boolean | undefined; from?: Date | undefined; to?: Date | undefined }): EventFilters => ({
  state: q.state,
  eventType: q.event_type,
  conversationId: q.conversation_id,
  duplicate: q.duplicate,
  from: q.from,
  to: q.to,
});

const RetryFailedResult = z.object({ retried: z.number().int().describe('Failed items moved back to pending') });
const CleanupResult = z.object({
  deleted: z.number().int().describe('Failed items deleted (dry run: that would be)'),
  dry_run: z.boolean(),
  older_than: z.iso.datetime().describe('Failed items created before this instant were concerned'),
});
const ReprocessResult = z.object({ event: AutomationEventBody, runs: z.array(AutomationRunBody).describe('The runs of this pass, one per rule evaluated') });

/** The Automation group's inspection and operations routes. */
export const automationOpsRoutes: RouteGroup = {
  group: 'Automation',
  routes: [
    route({
      method: 'get',
      path: '/api/automation/stats',
      summary: 'Automation stats overview',
      description: 'Runs, matches, actions and failures over whole days in the tenant’s time zone (default: the last 7 days), overall and per rule.',
      access: 'automation.view',
      query: StatsQuery,
      response: AutomationStatsBody,
      handler: async ({ query, principal }) => presentAutomationStats(await automationStats({ ...acting(principal), from: query.from, to: query.to })),
    }),
    route({
      method: 'get',
      path: '/api/automation/stats/timeseries',
      summary: 'Automation stats time series',
      description: 'The overview’s figures per hour or day in the tenant’s time zone, every bucket of the range (empty ones with zeros).',
      access: 'automation.view',
      query: TimeseriesQuery,
      response: TimeseriesBody,
      handler: async ({ query, principal }) => presentTimeseries(await automationTimeseries({ ...acting(principal), from: query.from, to: query.to, bucket: query.bucket })),
    }),
    route({
      method: 'get',
      path: '/api/automation/stats/alerts',
      summary: 'Automation alert stats',
      description:
        'Every live rule with an alert threshold (PATCH /api/automation/rules/{id}/alerts): its failure rate over the last `window_hours` against failure_rate_percent, ' +
        'and the hours since its last run against no_runs_hours (an active, unsnoozed rule only; counted from its creation when it never ran).',
      access: 'automation.view',
      query: AlertsQuery,
      response: AlertsBody,
      handler: async ({ query, principal }) => presentAlerts(await automationAlerts({ ...acting(principal), windowHours: query.window_hours })),
    }),
    route({
      method: 'get',
      path: '/api/automation/rules/{id}/stats',
      summary: 'Get stats for a specific automation rule',
      access: 'automation.view',
      params: IdParams,
      query: StatsQuery,
      response: RuleStatsBody,
      handler: async ({ params, query, principal }) => presentRuleStats(await ruleStats({ ...acting(principal), ruleId: params.id, from: query.from, to: query.to })),
    }),
    route({
      method: 'get',
      path: '/api/automation/rules/{id}/stats/timeseries',
      summary: 'Get time series stats for a specific automation rule',
      access: 'automation.view',
      params: IdParams,
      query: TimeseriesQuery,
      response: TimeseriesBody,
      handler: async ({ params, query, principal }) =>
        presentTimeseries(await automationTimeseries({ ...acting(principal), ruleId: params.id, from: query.from, to: query.to, bucket: query.bucket })),
    }),
    route({
      method: 'get',
      path: '/api/automation/runs',
      summary: 'List automation rule runs',
      description: 'Newest first. Filters combine; from/to bound the run’s start.',
      access: 'automation.view',
      query: ListRunsQuery,
      response: RunPage,
      handler: async ({ query, principal }) => presentPage(await listRuns({ ...acting(principal), ...runFilters(query), page: query.page, limit: query.limit }), presentAutomationRun),
    }),
    route({
      method: 'get',
      path: '/api/automation/runs/export',
      summary: 'Export automation runs as CSV',
      description: `The runs the list’s filters select, newest first, with the columns id, started_at, finished_at, rule_id, rule_name, rule_version, event_id, event_type, conversation_id, matched, dry_run, failed, actions (type:status; ...), error, duration_ms. ${CSV_DESCRIPTION}`,
      access: 'automation.view',
      query: ExportRunsQuery,
      response: CsvStream,
      produces: 'text/csv; charset=utf-8',
      handler: async ({ query, principal, ctx }) => {
        ctx.set('Content-Type', 'text/csv; charset=utf-8');
        ctx.attachment('automation-runs.csv');
        return exportRuns({ ...acting(principal), ...runFilters(query), bom: query.bom ?? true });
      },
    }),
    route({
      method: 'get',
      path: '/api/automation/rules/{id}/runs',
      summary: 'List automation runs for a specific rule',
      access: 'automation.view',
      params: IdParams,
      query: ScopedRunsQuery,
      response: RunPage,
      handler: async ({ params, query, principal }) =>
        presentPage(await listRuleRuns({ ...acting(principal), ...runFilters(query), ruleId: params.id, page: query.page, limit: query.limit }), presentAutomationRun),
    }),
    route({
      method: 'get',
      path: '/api/automation/events/{id}/runs',
      summary: 'List automation runs for a specific event',
      description: 'The runs of every pass over the item (first processing, retries, reprocessing), in the order they ran.',
      access: 'automation.view',
      params: IdParams,
      query: ScopedRunsQuery,
      response: RunPage,
      handler: async ({ params, query, principal }) =>
        presentPage(await listEventRuns({ ...acting(principal), ...runFilters(query), eventId: params.id, page: query.page, limit: query.limit }), presentAutomationRun),
    }),
    route({
      method: 'get',
      path: '/api/automation/runs/{id}',
      summary: 'Get a single automation run by ID',
      access: 'automation.view',
      params: IdParams,
      response: AutomationRunBody,
      handler: async ({ params, principal }) => presentAutomationRun(await getRun({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'get',
      path: '/api/automation/runs/{id}/replay',
      summary: 'Get replay context for an automation run',
      description:
        'What the run saw: the rule version and its snapshot as evaluated, the queue item with its payload, each condition with the value seen, each action with its result, ' +
        'and `reproduce`, the dry-run call that evaluates the same rule version on the same payload without taking any action.',
      access: 'automation.view',
      params: IdParams,
      response: RunReplayBody,
      handler: async ({ params, principal }) => {
        const { run, event, currentVersion } = await getRunReplay({ ...acting(principal), id: params.id });
        return presentRunReplay(run, event, currentVersion);
      },
    }),
    route({
      method: 'get',
      path: '/api/automation/events',
      summary: 'List automation event queue items',
      description: 'Newest first. Filters combine; from/to bound the item’s creation.',
      access: 'automation.view',
      query: ListEventsQuery,
      response: EventPage,
      handler: async ({ query, principal }) => presentPage(await listEvents({ ...acting(principal), ...eventFilters(query), page: query.page, limit: query.limit }), presentAutomationEvent),
    }),
    route({
      method: 'get',
      path: '/api/automation/events/stats',
      summary: 'Automation event queue stats',
      description: 'Items per state now, queue lag (now minus the oldest pending item), and per event type the items created over whole days in the tenant’s zone (default: the last 7).',
      access: 'automation.view',
      query: StatsQuery,
      response: EventQueueStatsBody,
      handler: async ({ query, principal }) => presentEventQueueStats(await eventQueueStats({ ...acting(principal), from: query.from, to: query.to })),
    }),
    route({
      method: 'get',
      path: '/api/automation/events/export',
      summary: 'Export automation events as CSV',
      description: `The items the list’s filters select, newest first, with the columns id, created_at, event_type, event_seq, conversation_id, state, attempts, last_error, skip_reason, fingerprint, duplicate_of, causation_depth, processed_at, payload (JSON). ${CSV_DESCRIPTION}`,
      access: 'automation.view',
      query: ExportEventsQuery,
      response: CsvStream,
      produces: 'text/csv; charset=utf-8',
      handler: async ({ query, principal, ctx }) => {
        ctx.set('Content-Type', 'text/csv; charset=utf-8');
        ctx.attachment('automation-events.csv');
        return exportEvents({ ...acting(principal), ...eventFilters(query), bom: query.bom ?? true });
      },
    }),
    route({
      method: 'post',
      path: '/api/automation/events/retry-failed',
      summary: 'Retry all failed automation events',
      description: 'Every failed item matching the filters goes back to pending, due now, with its attempts from zero (the worker’s retry backoff starts over), and the worker is woken.',
      access: 'automation.manage',
      body: RetryFailedBody,
      response: RetryFailedResult,
      audit: { action: 'automation_event.retried_failed', resource: 'automation_event', target: () => null },
      handler: async ({ body, principal }) =>
        retryFailedEvents({ ...acting(principal), eventType: body.event_type, conversationId: body.conversation_id, from: body.from, to: body.to }),
    }),
    route({
      method: 'post',
      path: '/api/automation/events/cleanup',
      summary: 'Clean up old failed automation events',
      description: 'Deletes failed items created more than `older_than_hours` ago (their runs stay in the run log; a replay then answers event null). `dry_run` counts only.',
      access: 'automation.manage',
      body: CleanupBody,
      response: CleanupResult,
      audit: { action: 'automation_event.cleaned_up', resource: 'automation_event', target: () => null },
      handler: async ({ body, principal }) => {
        const result = await cleanupFailedEvents({ ...acting(principal), olderThanHours: body.older_than_hours, dryRun: body.dry_run });
        return { ...result, older_than: iso(result.older_than) as string };
      },
    }),
    route({
      method: 'get',
      path: '/api/conversations/{id}/automation-events',
      summary: 'List automation events for a conversation',
      description: 'In seq order, the order the worker evaluates them in.',
      access: 'automation.view',
      params: IdParams,
      query: ScopedEventsQuery,
      response: EventPage,
      handler: async ({ params, query, principal }) =>
        presentPage(await listConversationEvents({ ...acting(principal), ...eventFilters(query), conversationId: params.id, page: query.page, limit: query.limit }), presentAutomationEvent),
    }),
    route({
      method: 'get',
      path: '/api/automation/rules/{id}/events',
      summary: 'List automation events for a rule',
      description: 'The items the rule was evaluated on (matched or not), newest first.',
      access: 'automation.view',
      params: IdParams,
      query: ScopedEventsQuery,
      response: EventPage,
      handler: async ({ params, query, principal }) =>
        presentPage(await listRuleEvents({ ...acting(principal), ...eventFilters(query), ruleId: params.id, page: query.page, limit: query.limit }), presentAutomationEvent),
    }),
    route({
      method: 'get',
      path: '/api/automation/events/fingerprint/{fingerprint}',
      summary: 'List automation events by payload fingerprint',
      description: 'Items with this payload fingerprint (hex SHA-256 of the canonical event type and payload), newest first: an original and the duplicates recognised after it.',
      access: 'automation.view',
      params: FingerprintParams,
      query: ScopedEventsQuery,
      response: EventPage,
      handler: async ({ params, query, principal }) =>
        presentPage(await listEvents({ ...acting(principal), ...eventFilters(query), fingerprint: params.fingerprint, page: query.page, limit: query.limit }), presentAutomationEvent),
    }),
    route({
      method: 'get',
      path: '/api/automation/events/{id}',
      summary: 'Get a single automation event by ID',
      access: 'automation.view',
      params: IdParams,
      response: AutomationEventBody,
      handler: async ({ params, principal }) => presentAutomationEvent(await getEvent({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'post',
      path: '/api/automation/events/{id}/retry',
      summary: 'Retry a single automation event',
      description: 'A failed item goes back to pending, due now, with its attempts from zero (the worker’s retry backoff starts over if it fails again); the worker is woken. Answers the item as requeued.',
      access: 'automation.manage',
      params: IdParams,
      response: AutomationEventBody,
      errors: { 422: 'The item is not failed (a finished item is evaluated again with reprocess)' },
      audit: { action: 'automation_event.retried', resource: 'automation_event' },
      handler: async ({ params, principal }) => presentAutomationEvent(await retryEvent({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'post',
      path: '/api/automation/events/{id}/reprocess',
      summary: 'Reprocess an automation event with the current rule set',
      description:
        'Evaluates the item (done, failed, skipped, or pending) again with the rules as they are now, as a new pass: a new run per rule evaluated, their actions taken again ' +
        '(in dry-run mode, recorded only); answers the item as it is after and the pass’s runs.',
      access: 'automation.manage',
      params: IdParams,
      response: ReprocessResult,
      errors: { 409: 'The item is being processed right now; try again when it has settled' },
      audit: { action: 'automation_event.reprocessed', resource: 'automation_event' },
      handler: async ({ params, principal }) => {
        const { event, runs } = await reprocessEvent({ ...acting(principal), id: params.id });
        return { event: presentAutomationEvent(event), runs: runs.map(presentAutomationRun) };
      },
    }),
    route({
      method: 'get',
      path: '/api/automation/worker/metrics',
      summary: 'Get automation worker metrics',
      description:
        'The tenant’s queue depth (pending + processing), lag (now minus the oldest pending item), and over the last `window_minutes` the throughput, failure rate and latency, overall and per process (by the process name that claimed the items).',
      access: 'automation.view',
      query: WorkerMetricsQuery,
      response: WorkerMetricsBody,
      handler: async ({ query, principal }) => presentWorkerMetrics(await workerMetrics({ ...acting(principal), windowMinutes: query.window_minutes })),
    }),
  ],
};
