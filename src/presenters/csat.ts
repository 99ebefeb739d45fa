/** CSAT surveys, the public submission's answer and the analytics, as the API and `csat.submitted` show them. */
import { z } from 'zod';
import type { CsatSurvey } from '../models/csat.js';
import type { CsatAnalytics } from '../services/csat-analytics.js';
import type { CsatSettingsView } from '../services/csat.js';
import { iso } from './page.js';

/** The survey JSON shape (the token never appears: only the customer's message carries it). */
export const CsatSurveyBody = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  contact_id: z.uuid(),
  channel: z.string(),
  agent_id: z.uuid().nullable().describe('The assignee when the survey was created: whom the rating counts for'),
  division_id: z.uuid().nullable(),
  trigger: z.enum(['manual', 'resolved']),
  status: z.enum(['sending', 'sent', 'not_sent', 'completed']).describe('not_sent: the channel refused it (closed conversation, messaging window) or the provider failed; see send_error'),
  message_id: z.uuid().nullable().describe('The survey message in the conversation'),
  send_error: z.object({ code: z.string(), message: z.string() }).nullable(),
  expires_at: z.iso.datetime().describe('The rating link works until then'),
  rating: z.number().int().min(1).max(5).nullable(),
  comment: z.string().nullable(),
  responded_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
});

/** Shapes a survey. */
export function presentCsatSurvey(s: CsatSurvey): z.infer<typeof CsatSurveyBody> {
  return {
    id: s._id,
    conversation_id: s.conversation_id,
    contact_id: s.contact_id,
    channel: s.channel,
    agent_id: s.agent_id,
    division_id: s.division_id,
    trigger: s.trigger,
    status: s.status,
    message_id: s.message_id,
    send_error: s.send_error ? { code: s.send_error.code, message: s.send_error.message } : null,
    expires_at: iso(s.expires_at) as string,
    rating: s.rating,
    comment: s.comment,
    responded_at: iso(s.responded_at),
    created_at: iso(s.created_at) as string,
  };
}

/** The tenant's CSAT setting, shaped like the contract's time-zone setting. */
export const CsatSettingBody = z.object({
  key: z.literal('csat'),
  value: z.object({
    auto_send_on_resolve: z.boolean().describe('Send the customer a survey when a conversation is first resolved (once per conversation)'),
  }),
  updated_at: z.iso.datetime().nullable().describe('When it was last changed; null while the defaults apply'),
});

/** Shapes the CSAT setting. */
export const presentCsatSettings = (s: CsatSettingsView): z.infer<typeof CsatSettingBody> => ({
  key: 'csat',
  value: { auto_send_on_resolve: s.autoSendOnResolve },
  updated_at: iso(s.updatedAt),
});

/** What the customer sees after submitting: their own answer, nothing else. */
export const CsatSubmissionBody = z.object({
  rating: z.number().int(),
  comment: z.string().nullable(),
  submitted_at: z.iso.datetime(),
});

/** Shapes the submission's answer. */
export const presentCsatSubmission = (s: CsatSurvey): z.infer<typeof CsatSubmissionBody> => ({ rating: s.rating ?? 0, comment: s.comment, submitted_at: iso(s.responded_at) as string });

const Summary = {
  surveys: z.number().int().describe('Surveys created in the range'),
  sent: z.number().int().describe('Of those, the ones whose message went out (not not_sent)'),
  responses: z.number().int(),
  response_rate: z.number().nullable().describe('responses / sent, 0..1; null when none was sent'),
  average_rating: z.number().nullable().describe('Mean rating, two decimals; null without responses'),
};

const Distribution = z.object({ 1: z.number().int(), 2: z.number().int(), 3: z.number().int(), 4: z.number().int(), 5: z.number().int() });

/** GET /api/csat/analytics */
export const CsatAnalyticsBody = z.object({
  timezone: z.string(),
  from: z.iso.date(),
  to: z.iso.date(),
  ...Summary,
  distribution: Distribution.describe('Responses per rating'),
  by_agent: z.array(z.object({ agent_id: z.uuid().nullable(), ...Summary })).describe('Per assignee at survey time (null: unassigned), most responses first'),
  by_division: z.array(z.object({ division_id: z.uuid().nullable(), ...Summary })).describe('Per division at survey time (null: none), most responses first'),
});

/** Shapes the analytics. */
export const presentCsatAnalytics = (a: CsatAnalytics): z.infer<typeof CsatAnalyticsBody> => a;
