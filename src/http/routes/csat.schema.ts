/** Schemas of the CSAT group. */
import { z } from 'zod';
import { MAX_RANGE_DAYS } from '../../services/csat-analytics.js';
import { Id } from '../schemas/common.js';

/** PATCH /api/csat/{token}: the token from the rating link (43 base64url characters). */
export const CsatTokenParams = z.strictObject({
  token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the token from the rating link'),
});

/** PATCH /api/csat/{token} */
export const SubmitCsatBody = z.strictObject({
  rating: z.number().int().min(1).max(5).describe('1 (very unhappy) to 5 (very happy)'),
  comment: z.string().trim().max(1000).optional().describe('Optional, at most 1,000 characters'),
});

const Day = z.iso.date().describe('YYYY-MM-DD, a day in the tenant’s time zone');

/** GET /api/csat/analytics */
export const CsatAnalyticsQuery = z.strictObject({
  from: Day.describe('First day, in the tenant’s time zone'),
  to: Day.describe(`Last day (included), in the tenant’s time zone; at most ${MAX_RANGE_DAYS} days after from`),
  agent_id: Id.optional().describe('Only surveys about this agent'),
  division_id: Id.optional().describe('Only surveys of this division'),
});

/** PUT /api/settings/csat: the whole setting (every field required). */
export const CsatSettingsBody = z.strictObject({
  auto_send_on_resolve: z.boolean({ error: 'must be true or false' }).describe('Send a survey when a conversation is first resolved'),
});
