/** Schemas of the Analytics group. */
import { z } from 'zod';
import { DateTime } from 'luxon';
import { MAX_DAYS } from '../../services/analytics.js';
import { BoolQuery, Id } from '../schemas/common.js';

const Day = z.iso.date().describe('YYYY-MM-DD, a day in the tenant’s time zone');

const Range = {
  from: Day.describe('First day, in the tenant’s time zone'),
  to: Day.describe(`Last day (included), in the tenant’s time zone; at most ${MAX_DAYS.day} days (${MAX_DAYS.hour} with bucket=hour) from from`),
  bucket: z.enum(['hour', 'day', 'week', 'month']).default('day').describe('Series bucket in the tenant’s time zone (weeks start on Monday); default day'),
};

const Filters = {
  channel: z.string().trim().min(1).max(40).optional().describe('Only this channel (whatsapp, instagram, messenger, webchat, email...)'),
  division_id: Id.optional().describe('Only conversations of this division'),
  agent_id: Id.optional().describe('Only conversations assigned to this agent'),
  account_id: Id.optional().describe('Only conversations of this channel account'),
};

/** `to` on or after `from`, and the range no longer than its bucket allows (calendar days, the same in every zone). */
const checkRange = (q: { from: string; to: string; bucket: keyof typeof MAX_DAYS }, ctx: z.RefinementCtx) => {
  const days = DateTime.fromISO(q.to, { zone: 'UTC' }).diff(DateTime.fromISO(q.from, { zone: 'UTC' }), 'days').days + 1;
  if (days < 1) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
  else if (days > MAX_DAYS[q.bucket]) ctx.addIssue({ code: 'custom', path: ['to'], message: `a range covers at most ${MAX_DAYS[q.bucket]} days with bucket=${q.bucket}` });
};

/** GET /api/analytics/trends and /api/analytics/channels */
export const AnalyticsQuery = z.strictObject({ ...Range, ...Filters }).superRefine(checkRange);

/** GET /api/analytics/overview and /api/analytics/agents: they also measure response and resolution times. */
export const AnalyticsTimesQuery = z
  .strictObject({
    ...Range,
    ...Filters,
    working_hours: BoolQuery.optional().describe('true: response and resolution times count only working hours (the division’s override, else the global hours)'),
  })
  .superRefine(checkRange);

/** GET /api/analytics/csat: CSAT is per agent and division. */
export const AnalyticsCsatQuery = z.strictObject({ ...Range, agent_id: Filters.agent_id, division_id: Filters.division_id }).superRefine(checkRange);

/** GET /api/analytics/whatsapp/*: the channel is WhatsApp. */
export const AnalyticsWhatsappQuery = z.strictObject({ ...Range }).superRefine(checkRange);
