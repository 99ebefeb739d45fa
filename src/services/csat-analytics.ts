/**
 * CSAT analytics over a date range read in the tenant's time zone (a day in Asia/Jakarta is
 * 17:00Z to 17:00Z, not a UTC day): surveys created from `from` 00:00 local up to the end of
 * `to`, counted by one indexed, bounded aggregation (models/csat.ts groupSurveys) and summed here.
 */
import { DateTime } from 'luxon';
import { StateError } from '../errors.js';
import { groupSurveys, type CsatBucketing, type CsatGroup } from '../models/csat.js';
import { findTenant } from '../models/tenant.js';
import type { Acting } from './agents.js';

/** Longest range one request may ask for. */
export const MAX_RANGE_DAYS = 366;

/** Ask for CSAT numbers. */
export interface CsatAnalyticsQuery extends Acting {
  /** First day, `YYYY-MM-DD` in the tenant's zone. */
  from: string;
  /** Last day (included). */
  to: string;
  /** Only surveys about this agent. */
  agentId?: string | undefined;
  /** Only surveys of this division. */
  divisionId?: string | undefined;
  /** Also answer a series by this bucket in the tenant's zone (Analytics group). */
  bucket?: CsatBucketing['unit'] | undefined;
}

interface Summary {
  surveys: number;
  sent: number;
  responses: number;
  response_rate: number | null;
  average_rating: number | null;
}

/** The analytics answer. */
export interface CsatAnalytics extends Summary {
  timezone: string;
  from: string;
  to: string;
  distribution: Record<1 | 2 | 3 | 4 | 5, number>;
  by_agent: (Summary & { agent_id: string | null })[];
  by_division: (Summary & { division_id: string | null })[];
  /** With `bucket`: the buckets that have surveys, in order (each bucket's start in the tenant's zone). */
  series?: (Summary & { start: Date })[];
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function summarize(groups: CsatGroup[]): Summary {
  let surveys = 0;
  let sent = 0;
  let responses = 0;
  let sum = 0;
  for (const g of groups) {
    surveys += g.count;
    if (g.sent) sent += g.count;
    if (g.rating !== null) {
      responses += g.count;
      sum += g.rating * g.count;
    }
  }
  return { surveys, sent, responses, response_rate: sent ? round(responses / sent, 4) : null, average_rating: responses ? round(sum / responses, 2) : null };
}

function by<K extends 'agent_id' | 'division_id'>(groups: CsatGroup[], key: K): (Summary & Record<K, string | null>)[] {
  const parts = new Map<string | null, CsatGroup[]>();
  for (const g of groups) parts.set(g[key], [...(parts.get(g[key]) ?? []), g]);
  return [...parts]
    .map(([id, gs]) => ({ [key]: id, ...summarize(gs) }) as Summary & Record<K, string | null>)
    .sort((a, b) => b.responses - a.responses || b.surveys - a.surveys || String(a[key]).localeCompare(String(b[key])));
}

/** The numbers for the range; 422 when `to` is before `from` or the range is too long. */
export async function csatAnalytics(q: CsatAnalyticsQuery): Promise<CsatAnalytics> {
  const zone = (await findTenant(q.tenantId))?.timezone ?? 'UTC';
  const start = DateTime.fromISO(q.from, { zone }).startOf('day');
  const end = DateTime.fromISO(q.to, { zone }).startOf('day').plus({ days: 1 });
  if (end <= start) throw StateError('`to` is before `from`');
  if (end.diff(start, 'days').days > MAX_RANGE_DAYS) throw StateError(`A range covers at most ${MAX_RANGE_DAYS} days`);
  const groups = await groupSurveys(
    q.tenantId,
    start.toJSDate(),
    end.toJSDate(),
    { ...(q.agentId ? { agent_id: q.agentId } : {}), ...(q.divisionId ? { division_id: q.divisionId } : {}) },
    q.bucket ? { unit: q.bucket, zone } : null,
  );
  const distribution = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  for (const g of groups) if (g.rating !== null) distribution[g.rating as 1 | 2 | 3 | 4 | 5] += g.count;
  const answer: CsatAnalytics = { timezone: zone, from: q.from, to: q.to, ...summarize(groups), distribution, by_agent: by(groups, 'agent_id'), by_division: by(groups, 'division_id') };
  if (!q.bucket) return answer;
  const buckets = new Map<number, CsatGroup[]>();
  for (const g of groups) if (g.start) buckets.set(g.start.getTime(), [...(buckets.get(g.start.getTime()) ?? []), g]);
  return { ...answer, series: [...buckets].sort(([a], [b]) => a - b).map(([t, gs]) => ({ start: new Date(t), ...summarize(gs) })) };
}
