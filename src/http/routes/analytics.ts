/** Analytics: tenant reports over a date range and bucket read in the tenant's time zone. */
import { acting } from '../../services/agents.js';
import {
  AgentsBody,
  AnalyticsCsatBody,
  ChannelsBody,
  OverviewBody,
  TrendsBody,
  WhatsappConversationsBody,
  WhatsappMessagesBody,
  WhatsappTemplatesBody,
} from '../../presenters/analytics.js';
import {
  analyticsAgents,
  analyticsChannels,
  analyticsCsat,
  analyticsOverview,
  analyticsTrends,
  analyticsWhatsappConversations,
  analyticsWhatsappMessages,
  analyticsWhatsappTemplates,
  type AnalyticsQuery as Query,
} from '../../services/analytics.js';
import type { Principal } from '../../auth/principal.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { AnalyticsCsatQuery, AnalyticsQuery, AnalyticsTimesQuery, AnalyticsWhatsappQuery } from './analytics.schema.js';

const RANGE =
  'from 00:00 to the end of to, both days in the tenant’s time zone (PUT /api/settings/timezone), bucketed by hour, day, week (from Monday) or month ' +
  'in that zone; the answer repeats the zone and range used. 400 when to is before from or the range is longer than 366 days (31 with bucket=hour). ';

const ROLLUPS = 'Counted from roll-ups kept as events happen (a few seconds behind at most). ';

type Input = {
  from: string;
  to: string;
  bucket: Query['bucket'];
  channel?: string | undefined;
  division_id?: string | undefined;
  agent_id?: string | undefined;
  account_id?: string | undefined;
  working_hours?: boolean | undefined;
};

const commandOf = (principal: Principal, q: Input): Query => ({
  ...acting(principal),
  from: q.from,
  to: q.to,
  bucket: q.bucket,
  channel: q.channel,
  divisionId: q.division_id,
  agentId: q.agent_id,
  accountId: q.account_id,
  workingHours: q.working_hours ?? false,
});

/** The Analytics group. */
export const analyticsRoutes: RouteGroup = {
  group: 'Analytics',
  routes: [
    route({
      method: 'get',
      path: '/api/analytics/overview',
      summary: 'Dashboard overview KPIs',
      description:
        `${RANGE}${ROLLUPS}Conversations opened, resolved, closed, expired; messages in and out; first-response and resolution time (median, p90) of ` +
        'conversations opened in the range (calendar time, or with working_hours=true only working hours as SLA clocks count them); SLA met and breached; ' +
        'CSAT average and response rate. SLA honours only the division filter, CSAT the division and agent filters (their records keep no channel or account).',
      access: 'analytics.view',
      query: AnalyticsTimesQuery,
      response: OverviewBody,
      handler: async ({ query, principal }) => analyticsOverview(commandOf(principal, query)),
    }),
    route({
      method: 'get',
      path: '/api/analytics/trends',
      summary: 'Conversation and message trends',
      description: `${RANGE}${ROLLUPS}One entry per bucket, empty buckets included.`,
      access: 'analytics.view',
      query: AnalyticsQuery,
      response: TrendsBody,
      handler: async ({ query, principal }) => analyticsTrends(commandOf(principal, query)),
    }),
    route({
      method: 'get',
      path: '/api/analytics/agents',
      summary: 'Per-agent workload metrics',
      description: `${RANGE}${ROLLUPS}Per assignee: assignments, conversations handled, average handling time (calendar), messages sent, ` +
        'first-response time (working hours only with working_hours=true).',
      access: 'analytics.view',
      query: AnalyticsTimesQuery,
      response: AgentsBody,
      handler: async ({ query, principal }) => analyticsAgents(commandOf(principal, query)),
    }),
    route({
      method: 'get',
      path: '/api/analytics/channels',
      summary: 'Per-channel metrics',
      description: `${RANGE}${ROLLUPS}Per channel: conversations and messages, busiest first.`,
      access: 'analytics.view',
      query: AnalyticsQuery,
      response: ChannelsBody,
      handler: async ({ query, principal }) => analyticsChannels(commandOf(principal, query)),
    }),
    route({
      method: 'get',
      path: '/api/analytics/csat',
      summary: 'CSAT analytics',
      description: `${RANGE}The numbers of GET /api/csat/analytics (surveys created in the range) with the range used.`,
      access: 'analytics.view',
      query: AnalyticsCsatQuery,
      response: AnalyticsCsatBody,
      handler: async ({ query, principal }) => analyticsCsat(commandOf(principal, query)),
    }),
    route({
      method: 'get',
      path: '/api/analytics/whatsapp/messages',
      summary: 'WhatsApp message analytics',
      description: `${RANGE}Outbound WhatsApp messages sent in the range by delivery status (sent, delivered, read, failed, pending), rates, failure reasons by error code, per bucket.`,
      access: 'analytics.view',
      query: AnalyticsWhatsappQuery,
      response: WhatsappMessagesBody,
      handler: async ({ query, principal }) => analyticsWhatsappMessages(commandOf(principal, query)),
    }),
    route({
      method: 'get',
      path: '/api/analytics/whatsapp/conversations',
      summary: 'WhatsApp conversation analytics',
      description: `${RANGE}${ROLLUPS}WhatsApp conversations opened, resolved, closed, expired per bucket. pricing is null: Meta’s pricing objects are not stored yet.`,
      access: 'analytics.view',
      query: AnalyticsWhatsappQuery,
      response: WhatsappConversationsBody,
      handler: async ({ query, principal }) => analyticsWhatsappConversations(commandOf(principal, query)),
    }),
    route({
      method: 'get',
      path: '/api/analytics/whatsapp/templates',
      summary: 'WhatsApp template analytics',
      description: `${RANGE}Template messages sent in the range, per template name: sends, delivery and read rates.`,
      access: 'analytics.view',
      query: AnalyticsWhatsappQuery,
      response: WhatsappTemplatesBody,
      handler: async ({ query, principal }) => analyticsWhatsappTemplates(commandOf(principal, query)),
    }),
  ],
};
