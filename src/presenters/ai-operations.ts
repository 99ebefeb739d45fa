/** How an AI agent's assignments, handoff rules, orchestration rules, evaluations and usage leave the API. */
import { z } from 'zod';
import { ASSIGNMENT_HOURS, type AiAssignment } from '../models/ai-assignment.js';
import { EVALUATION_RATINGS, type AiEvaluation } from '../models/ai-evaluation.js';
import { HANDOFF_TRIGGERS, type AiHandoffRule } from '../models/ai-handoff-rule.js';
import type { AiOrchestrationRule } from '../models/ai-orchestration-rule.js';
import { CHANNELS } from '../models/integration.js';
import type { UsageCounts } from '../models/ai-usage.js';
import { INTENT_LABELS } from '../services/ai-text-signals.js';
import type { AgentUsage, UsageSummary } from '../services/ai-usage.js';
import { iso } from './page.js';

const stamps = { created_at: z.iso.datetime(), updated_at: z.iso.datetime() };
const stampsOf = (d: { created_at: Date; updated_at: Date }) => ({ created_at: iso(d.created_at) as string, updated_at: iso(d.updated_at) as string });

/** The assignment JSON shape. */
export const AiAssignmentBody = z.object({
  id: z.uuid(),
  ai_agent_id: z.uuid(),
  channels: z.array(z.enum(CHANNELS)).describe('Channels covered; empty: every channel'),
  account_ids: z.array(z.uuid()).describe('Integration accounts covered; empty: every account'),
  division_ids: z.array(z.uuid()).describe('Divisions covered; empty: any division, or none'),
  hours: z.enum(ASSIGNMENT_HOURS).describe('always; working_hours (the tenant’s, or the conversation’s division’s override); outside_working_hours'),
  priority: z.number().int().describe('Higher wins when several AI agents cover a message'),
  is_active: z.boolean(),
  ...stamps,
});

/** Shapes an assignment. */
export const presentAiAssignment = (a: AiAssignment): z.infer<typeof AiAssignmentBody> => ({
  id: a._id,
  ai_agent_id: a.ai_agent_id,
  channels: a.channels,
  account_ids: a.account_ids,
  division_ids: a.division_ids,
  hours: a.hours,
  priority: a.priority,
  is_active: a.is_active,
  ...stampsOf(a),
});

/** The handoff rule JSON shape. */
export const AiHandoffRuleBody = z.object({
  id: z.uuid(),
  ai_agent_id: z.uuid(),
  name: z.string(),
  trigger: z.enum(HANDOFF_TRIGGERS),
  keywords: z.array(z.string()),
  low_confidence_count: z.number().int(),
  sentiment_threshold: z.number().int(),
  to_division_id: z.uuid().nullable(),
  to_agent_id: z.uuid().nullable(),
  handoff_message: z.string().nullable(),
  priority: z.number().int(),
  is_active: z.boolean(),
  ...stamps,
});

/** Shapes a handoff rule. */
export const presentAiHandoffRule = (r: AiHandoffRule): z.infer<typeof AiHandoffRuleBody> => ({
  id: r._id,
  ai_agent_id: r.ai_agent_id,
  name: r.name,
  trigger: r.trigger,
  keywords: r.keywords,
  low_confidence_count: r.low_confidence_count,
  sentiment_threshold: r.sentiment_threshold,
  to_division_id: r.to_division_id,
  to_agent_id: r.to_agent_id,
  handoff_message: r.handoff_message,
  priority: r.priority,
  is_active: r.is_active,
  ...stampsOf(r),
});

/** The orchestration rule JSON shape. */
export const AiOrchestrationRuleBody = z.object({
  id: z.uuid(),
  ai_agent_id: z.uuid(),
  name: z.string(),
  keywords: z.array(z.string()),
  channels: z.array(z.enum(CHANNELS)),
  intents: z.array(z.enum(INTENT_LABELS)),
  target_ai_agent_id: z.uuid(),
  priority: z.number().int(),
  is_active: z.boolean(),
  ...stamps,
});

/** Shapes an orchestration rule. */
export const presentAiOrchestrationRule = (r: AiOrchestrationRule): z.infer<typeof AiOrchestrationRuleBody> => ({
  id: r._id,
  ai_agent_id: r.ai_agent_id,
  name: r.name,
  keywords: r.keywords,
  channels: r.channels,
  intents: r.intents,
  target_ai_agent_id: r.target_ai_agent_id,
  priority: r.priority,
  is_active: r.is_active,
  ...stampsOf(r),
});

/** The evaluation JSON shape. */
export const AiEvaluationBody = z.object({
  id: z.uuid(),
  ai_agent_id: z.uuid(),
  message_id: z.uuid(),
  conversation_id: z.uuid(),
  question: z.string().nullable().describe('The customer’s message the reply answered'),
  answer: z.string().nullable().describe('The AI reply as sent'),
  rating: z.enum(EVALUATION_RATINGS),
  corrected_answer: z.string().nullable(),
  notes: z.string().nullable(),
  qna_id: z.uuid().nullable().describe('The Q&A pair made from the corrected answer, if one was'),
  created_by: z.uuid(),
  ...stamps,
});

/** Shapes an evaluation. */
export const presentAiEvaluation = (e: AiEvaluation): z.infer<typeof AiEvaluationBody> => ({
  id: e._id,
  ai_agent_id: e.ai_agent_id,
  message_id: e.message_id,
  conversation_id: e.conversation_id,
  question: e.question,
  answer: e.answer,
  rating: e.rating,
  corrected_answer: e.corrected_answer,
  notes: e.notes,
  qna_id: e.qna_id,
  created_by: e.created_by,
  ...stampsOf(e),
});

const Counts = z.object({
  replies: z.number().int().describe('Answers sent to customers'),
  handoffs: z.number().int().describe('Conversations handed to humans'),
  no_answers: z.number().int().describe('Messages left unanswered: below the confidence threshold, or refused by the channel'),
  tokens_in: z.number().int().describe('Model prompt tokens (model responders only)'),
  tokens_out: z.number().int().describe('Model completion tokens'),
});

const countsOf = (c: UsageCounts): z.infer<typeof Counts> => ({ replies: c.replies, handoffs: c.handoffs, no_answers: c.no_answers, tokens_in: c.tokens_in, tokens_out: c.tokens_out });

/** One agent's daily usage JSON shape. */
export const AiAgentUsageBody = z.object({
  ai_agent_id: z.uuid(),
  timezone: z.string().describe('The tenant’s time zone: the days are its dates'),
  from: z.iso.date(),
  to: z.iso.date(),
  totals: Counts,
  days: z.array(Counts.extend({ date: z.iso.date() })),
});

/** Shapes one agent's usage. */
export const presentAiAgentUsage = (u: AgentUsage): z.infer<typeof AiAgentUsageBody> => ({
  ai_agent_id: u.agent._id,
  timezone: u.timezone,
  from: u.from,
  to: u.to,
  totals: countsOf(u.totals),
  days: u.days.map((d) => ({ date: d.day, ...countsOf(d) })),
});

/** The tenant's usage summary JSON shape. */
export const AiUsageSummaryBody = z.object({
  timezone: z.string(),
  from: z.iso.date(),
  to: z.iso.date(),
  totals: Counts,
  agents: z.array(Counts.extend({ ai_agent_id: z.uuid(), name: z.string().nullable().describe('Null when the AI agent no longer exists') })),
});

/** Shapes the tenant's summary. */
export const presentAiUsageSummary = (s: UsageSummary): z.infer<typeof AiUsageSummaryBody> => ({
  timezone: s.timezone,
  from: s.from,
  to: s.to,
  totals: countsOf(s.totals),
  agents: s.agents.map((a) => ({ ai_agent_id: a.aiAgentId, name: a.agent?.name ?? null, ...countsOf(a.totals) })),
});
