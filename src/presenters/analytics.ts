/** Response shapes of the Analytics group (the services answer them as they are). */
import { z } from 'zod';
import { CsatAnalyticsBody } from './csat.js';

const RangeFields = {
  timezone: z.string().describe('The tenant’s IANA time zone the range and buckets were read in'),
  from: z.iso.date(),
  to: z.iso.date(),
  bucket: z.enum(['hour', 'day', 'week', 'month']),
  start: z.iso.datetime({ offset: true }).describe('from 00:00 local, as UTC'),
  end: z.iso.datetime({ offset: true }).describe('The day after to, 00:00 local, as UTC (excluded)'),
};
const Start = z.iso.datetime({ offset: true }).describe('Bucket start, local time with offset');
const Conversations = z.object({ opened: z.number().int(), resolved: z.number().int(), closed: z.number().int(), expired: z.number().int() });
const Messages = z.object({ in: z.number().int(), out: z.number().int() });
const Spread = z.object({
  count: z.number().int().describe('Conversations measured'),
  median_seconds: z.number().int().nullable(),
  p90_seconds: z.number().int().nullable().describe('Nearest-rank 90th percentile'),
});
const MetBreached = z.object({ met: z.number().int(), breached: z.number().int() });
const rateField = z.number().nullable().describe('0..1, null when nothing was sent');
const Delivery = {
  total: z.number().int(),
  sent: z.number().int().describe('Reached sent (delivered and read included)'),
  delivered: z.number().int().describe('Reached delivered (read included)'),
  read: z.number().int(),
  failed: z.number().int(),
  pending: z.number().int(),
};

const WorkingHours = z.boolean().describe('Whether response and resolution times counted only working hours');

/** GET /api/analytics/overview */
export const OverviewBody = z.object({
  ...RangeFields,
  working_hours: WorkingHours,
  conversations: Conversations.describe('Opened at creation; resolved/closed/expired when they changed into it'),
  messages: Messages,
  first_response: Spread.describe('Conversations opened in the range: opening to the first agent or AI reply'),
  resolution: Spread.describe('Conversations opened in the range: opening to the first resolve, close or expiry'),
  sla: z.object({ first_response: MetBreached, resolution: MetBreached }).describe('SLA clocks of conversations opened in the range'),
  csat: z.object({ average_rating: z.number().nullable(), responses: z.number().int(), response_rate: z.number().nullable() }),
});

/** GET /api/analytics/trends */
export const TrendsBody = z.object({ ...RangeFields, series: z.array(z.object({ start: Start, conversations: Conversations, messages: Messages })) });

/** GET /api/analytics/agents */
export const AgentsBody = z.object({
  ...RangeFields,
  working_hours: WorkingHours,
  agents: z.array(
    z.object({
      agent_id: z.uuid(),
      assigned: z.number().int().describe('Times a conversation was assigned to the agent'),
      handled: z.number().int().describe('Conversations first resolved, closed or expired while assigned to the agent'),
      average_handling_seconds: z.number().int().nullable().describe('Opening to that resolution, averaged'),
      messages_out: z.number().int(),
      first_response: Spread,
    }),
  ),
});

/** GET /api/analytics/channels */
export const ChannelsBody = z.object({ ...RangeFields, channels: z.array(z.object({ channel: z.string(), conversations: Conversations, messages: Messages })) });

/** GET /api/analytics/csat */
export const AnalyticsCsatBody = CsatAnalyticsBody.extend({
  ...RangeFields,
  series: z.array(
    z.object({
      start: Start,
      surveys: z.number().int(),
      sent: z.number().int(),
      responses: z.number().int(),
      response_rate: z.number().nullable(),
      average_rating: z.number().nullable(),
    }),
  ),
});

const Rates = { delivery_rate: rateField, read_rate: rateField, failure_rate: rateField };

/** GET /api/analytics/whatsapp/messages */
export const WhatsappMessagesBody = z.object({
  ...RangeFields,
  ...Delivery,
  ...Rates,
  failure_reasons: z.array(z.object({ code: z.string(), count: z.number().int() })).describe('Failed messages by the provider’s first error code'),
  series: z.array(z.object({ start: Start, ...Delivery })),
});

/** GET /api/analytics/whatsapp/templates */
export const WhatsappTemplatesBody = z.object({ ...RangeFields, templates: z.array(z.object({ name: z.string(), sends: z.number().int(), ...Delivery, ...Rates })) });

/** GET /api/analytics/whatsapp/conversations */
export const WhatsappConversationsBody = z.object({
  ...RangeFields,
  conversations: Conversations,
  pricing: z.null().describe('Always null for now: the status webhooks’ pricing objects are not stored'),
  series: z.array(z.object({ start: Start, conversations: Conversations })),
});
