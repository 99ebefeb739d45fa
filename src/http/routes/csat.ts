/** CSAT: satisfaction surveys sent to the customer, the customer's token-protected rating, and the analytics. */
import { acting } from '../../services/agents.js';
import {
  CsatAnalyticsBody,
  CsatSettingBody,
  CsatSubmissionBody,
  CsatSurveyBody,
  presentCsatAnalytics,
  presentCsatSettings,
  presentCsatSubmission,
  presentCsatSurvey,
} from '../../presenters/csat.js';
import { createCsatSurvey, csatSettingsOf, getCsatSurvey, submitCsat, updateCsatSettings } from '../../services/csat.js';
import { csatAnalytics } from '../../services/csat-analytics.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { CsatAnalyticsQuery, CsatSettingsBody, CsatTokenParams, SubmitCsatBody } from './csat.schema.js';

const SENDING =
  'The survey message (a link to CSAT_LINK_BASE_URL with a single-use token) goes out like an agent message, through the conversation and the ' +
  'channel’s rules: when the conversation is closed or the messaging window is shut, or the provider fails, the survey is kept with status ' +
  'not_sent and send_error. One survey per conversation. With the tenant’s auto_send_on_resolve setting (PUT /api/settings/csat), one is also created ' +
  'when the conversation is first resolved.';

const AUTO_SEND =
  'auto_send_on_resolve (default false): when a conversation is first resolved, a survey is created and sent as by POST /api/conversations/{id}/csat ' +
  '(once per conversation; a reopen and a second resolve send none). Read when the resolution is handled, so a change applies to resolutions from then on.';

/** The CSAT group. */
export const csatRoutes: RouteGroup = {
  group: 'CSAT',
  routes: [
    route({
      method: 'get',
      path: '/api/conversations/{id}/csat',
      summary: 'Get CSAT survey for a conversation',
      description: '404 when the conversation has no survey (or the caller may not see it). The token is never shown.',
      access: 'conversations.view',
      params: IdParams,
      response: CsatSurveyBody,
      handler: async ({ params, principal }) => presentCsatSurvey(await getCsatSurvey({ ...acting(principal), conversationId: params.id })),
    }),
    route({
      method: 'post',
      path: '/api/conversations/{id}/csat',
      summary: 'Create a CSAT survey for a conversation',
      description: SENDING,
      access: 'csat.manage',
      params: IdParams,
      response: CsatSurveyBody,
      status: 201,
      errors: { 409: 'The conversation already has a survey' },
      audit: { action: 'csat.survey_created', resource: 'csat_survey' },
      handler: async ({ params, principal }) => presentCsatSurvey(await createCsatSurvey({ ...acting(principal), conversationId: params.id })),
    }),
    route({
      method: 'patch',
      path: '/api/csat/{token}',
      summary: 'Submit a CSAT rating',
      description:
        'Public: the token from the customer’s rating link is the only credential. One submission per token: a second answers 409; a token past its ' +
        'expiry (CSAT_TOKEN_TTL_HOURS) answers 410; an unknown one 404. The answer repeats the submission and nothing else.',
      access: 'public',
      params: CsatTokenParams,
      body: SubmitCsatBody,
      response: CsatSubmissionBody,
      errors: { 409: 'The link was used already', 410: 'The link has expired' },
      audit: 'none',
      handler: async ({ params, body }) => presentCsatSubmission(await submitCsat({ token: params.token, rating: body.rating, comment: body.comment || null })),
    }),
    route({
      method: 'get',
      path: '/api/csat/analytics',
      summary: 'CSAT analytics',
      description:
        'Surveys created from `from` 00:00 to the end of `to`, both days in the tenant’s time zone: average rating, distribution, response rate ' +
        '(responses / surveys sent), per agent (the assignee when the survey was made) and per division. 422 when to is before from or the range ' +
        'is longer than 366 days.',
      access: 'analytics.view',
      query: CsatAnalyticsQuery,
      response: CsatAnalyticsBody,
      errors: { 422: 'to is before from, or the range is longer than 366 days' },
      handler: async ({ query, principal }) =>
        presentCsatAnalytics(await csatAnalytics({ ...acting(principal), from: query.from, to: query.to, agentId: query.agent_id, divisionId: query.division_id })),
    }),
    route({
      method: 'get',
      path: '/api/settings/csat',
      summary: 'Get CSAT settings',
      description: `The organization’s CSAT setting. ${AUTO_SEND}`,
      access: 'settings.manage',
      response: CsatSettingBody,
      handler: async ({ principal }) => presentCsatSettings(await csatSettingsOf(principal.tenantId)),
    }),
    route({
      method: 'put',
      path: '/api/settings/csat',
      summary: 'Update CSAT settings',
      description: `Replaces the organization’s CSAT setting; every field is required. ${AUTO_SEND}`,
      access: 'settings.manage',
      body: CsatSettingsBody,
      response: CsatSettingBody,
      audit: { action: 'settings.csat_updated', resource: 'settings', target: () => null },
      handler: async ({ principal, body }) => presentCsatSettings(await updateCsatSettings(principal.tenantId, { autoSendOnResolve: body.auto_send_on_resolve })),
    }),
  ],
};
