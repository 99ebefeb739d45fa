/**
 * AI Agents, operations: where each AI agent answers (assignments), when it hands conversations
 * to humans (handoff rules), which messages another AI agent answers (orchestration rules),
 * ratings of its replies (evaluations), and its usage. The AI agents themselves, their knowledge
 * and products are in ai-agents.ts. This group is mounted before that one, so
 * `/api/ai-agents/usage/summary` is answered here and never read as an AI agent id.
 */
import { presentPage } from '../../presenters/page.js';
import {
  AiAgentUsageBody,
  AiAssignmentBody,
  AiEvaluationBody,
  AiHandoffRuleBody,
  AiOrchestrationRuleBody,
  AiUsageSummaryBody,
  presentAiAgentUsage,
  presentAiAssignment,
  presentAiEvaluation,
  presentAiHandoffRule,
  presentAiOrchestrationRule,
  presentAiUsageSummary,
} from '../../presenters/ai-operations.js';
import { createAssignment, deleteAssignment, listAssignments, updateAssignment } from '../../services/ai-assignments.js';
import { createEvaluation, deleteEvaluation, listEvaluations, updateEvaluation } from '../../services/ai-evaluations.js';
import { createHandoffRule, deleteHandoffRule, listHandoffRules, updateHandoffRule } from '../../services/ai-handoff-rules.js';
import { createOrchestrationRule, deleteOrchestrationRule, listOrchestrationRules, updateOrchestrationRule } from '../../services/ai-orchestration-rules.js';
import { agentUsage, usageSummary } from '../../services/ai-usage.js';
import { acting } from '../../services/agents.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import {
  AssignmentList,
  AssignmentParams,
  CreateAssignmentBody,
  CreateEvaluationBody,
  CreateHandoffRuleBody,
  CreateOrchestrationRuleBody,
  EvaluationPage,
  EvaluationParams,
  HandoffRuleList,
  ListEvaluationsQuery,
  OrchestrationRuleList,
  RuleParams,
  UpdateAssignmentBody,
  UpdateEvaluationBody,
  UpdateHandoffRuleBody,
  UpdateOrchestrationRuleBody,
  UsageQuery,
  camelFields,
} from './ai-agent-operations.schema.js';

const TOO_MANY = { 422: 'The AI agent already has 100 of these; delete one first' };
const NOT_FOUND = 'Another tenant’s or a deleted AI agent, or a child of another AI agent, answers 404.';

/** The AI Agents operations group. */
export const aiAgentOperationsRoutes: RouteGroup = {
  group: 'AI Agents',
  routes: [
    route({
      method: 'get',
      path: '/api/ai-agents/usage/summary',
      summary: 'Get aggregated AI usage summary',
      description: 'Every AI agent’s replies, handoffs, unanswered messages and model tokens over the range (tenant-zone dates), busiest first, with the totals.',
      access: 'ai_agents.view',
      query: UsageQuery,
      response: AiUsageSummaryBody,
      handler: async ({ query, principal }) => presentAiUsageSummary(await usageSummary({ ...acting(principal), from: query.from, to: query.to })),
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}/assignments',
      summary: 'List AI agent assignments',
      description: `Highest priority first. ${NOT_FOUND}`,
      access: 'ai_agents.view',
      params: IdParams,
      response: AssignmentList,
      handler: async ({ params, principal }) => (await listAssignments({ ...acting(principal), aiAgentId: params.id })).map(presentAiAssignment),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/assignments',
      summary: 'Create an AI agent assignment',
      description: `Which channels, accounts and divisions the AI agent answers, and when. When several AI agents’ assignments cover a customer’s message, the highest priority answers. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: CreateAssignmentBody,
      response: AiAssignmentBody,
      status: 201,
      errors: TOO_MANY,
      audit: { action: 'ai_assignment.created', resource: 'ai_assignment', target: ({ result }) => result.id },
      handler: async ({ params, body, principal }) =>
        presentAiAssignment(await createAssignment({ ...acting(principal), aiAgentId: params.id, ...camelFields(body) })),
    }),
    route({
      method: 'put',
      path: '/api/ai-agents/{id}/assignments/{assignmentId}',
      summary: 'Update an AI agent assignment',
      description: `The fields given change. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: AssignmentParams,
      body: UpdateAssignmentBody,
      response: AiAssignmentBody,
      audit: { action: 'ai_assignment.updated', resource: 'ai_assignment', target: ({ params }) => params.assignmentId ?? null },
      handler: async ({ params, body, principal }) =>
        presentAiAssignment(await updateAssignment({ ...acting(principal), aiAgentId: params.id, id: params.assignmentId, ...camelFields(body) })),
    }),
    route({
      method: 'delete',
      path: '/api/ai-agents/{id}/assignments/{assignmentId}',
      summary: 'Delete an AI agent assignment',
      description: NOT_FOUND,
      access: 'ai_agents.manage',
      params: AssignmentParams,
      response: MessageBody,
      audit: { action: 'ai_assignment.deleted', resource: 'ai_assignment', target: ({ params }) => params.assignmentId ?? null },
      handler: async ({ params, principal }) => {
        await deleteAssignment({ ...acting(principal), aiAgentId: params.id, id: params.assignmentId });
        return { message: 'Assignment deleted; the AI agent no longer answers where it alone covered' };
      },
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}/handoff-rules',
      summary: 'List handoff rules for an AI agent',
      description: `In the order they are checked: highest priority first. ${NOT_FOUND}`,
      access: 'ai_agents.view',
      params: IdParams,
      response: HandoffRuleList,
      handler: async ({ params, principal }) => (await listHandoffRules({ ...acting(principal), aiAgentId: params.id })).map(presentAiHandoffRule),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/handoff-rules',
      summary: 'Create a handoff rule',
      description:
        'When the rule fires on a customer’s message, the conversation is transferred to the division and/or agent (conversation.transferred, live in their queue), a private note gives the reason (note.created), ' +
        `the optional handoff_message goes to the customer, and the AI stays silent in that conversation. The target is checked as a transfer’s (400 naming to_division_id or to_agent_id). ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: CreateHandoffRuleBody,
      response: AiHandoffRuleBody,
      status: 201,
      errors: TOO_MANY,
      audit: { action: 'ai_handoff_rule.created', resource: 'ai_handoff_rule', target: ({ result }) => result.id },
      handler: async ({ params, body, principal }) => presentAiHandoffRule(await createHandoffRule({ ...acting(principal), aiAgentId: params.id, ...camelFields(body) })),
    }),
    route({
      method: 'put',
      path: '/api/ai-agents/{id}/handoff-rules/{ruleId}',
      summary: 'Update a handoff rule',
      description: `The fields given change; the rule as changed is checked whole. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: RuleParams,
      body: UpdateHandoffRuleBody,
      response: AiHandoffRuleBody,
      audit: { action: 'ai_handoff_rule.updated', resource: 'ai_handoff_rule', target: ({ params }) => params.ruleId ?? null },
      handler: async ({ params, body, principal }) => presentAiHandoffRule(await updateHandoffRule({ ...acting(principal), aiAgentId: params.id, id: params.ruleId, ...camelFields(body) })),
    }),
    route({
      method: 'delete',
      path: '/api/ai-agents/{id}/handoff-rules/{ruleId}',
      summary: 'Delete a handoff rule',
      description: NOT_FOUND,
      access: 'ai_agents.manage',
      params: RuleParams,
      response: MessageBody,
      audit: { action: 'ai_handoff_rule.deleted', resource: 'ai_handoff_rule', target: ({ params }) => params.ruleId ?? null },
      handler: async ({ params, principal }) => {
        const rule = await deleteHandoffRule({ ...acting(principal), aiAgentId: params.id, id: params.ruleId });
        return { message: `Handoff rule "${rule.name}" deleted` };
      },
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}/orchestration-rules',
      summary: 'List orchestration rules',
      description: `In the order they are tried: highest priority first. ${NOT_FOUND}`,
      access: 'ai_agents.view',
      params: IdParams,
      response: OrchestrationRuleList,
      handler: async ({ params, principal }) => (await listOrchestrationRules({ ...acting(principal), aiAgentId: params.id })).map(presentAiOrchestrationRule),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/orchestration-rules',
      summary: 'Create an orchestration rule',
      description: `Messages this AI agent would answer that match every condition given (keywords, channels, intents; at least one) are answered by target_ai_agent_id instead, one hop. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: CreateOrchestrationRuleBody,
      response: AiOrchestrationRuleBody,
      status: 201,
      errors: TOO_MANY,
      audit: { action: 'ai_orchestration_rule.created', resource: 'ai_orchestration_rule', target: ({ result }) => result.id },
      handler: async ({ params, body, principal }) =>
        presentAiOrchestrationRule(await createOrchestrationRule({ ...acting(principal), aiAgentId: params.id, ...camelFields(body) })),
    }),
    route({
      method: 'put',
      path: '/api/ai-agents/{id}/orchestration-rules/{ruleId}',
      summary: 'Update an orchestration rule',
      description: `The fields given change; the rule as changed still needs a condition. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: RuleParams,
      body: UpdateOrchestrationRuleBody,
      response: AiOrchestrationRuleBody,
      audit: { action: 'ai_orchestration_rule.updated', resource: 'ai_orchestration_rule', target: ({ params }) => params.ruleId ?? null },
      handler: async ({ params, body, principal }) =>
        presentAiOrchestrationRule(await updateOrchestrationRule({ ...acting(principal), aiAgentId: params.id, id: params.ruleId, ...camelFields(body) })),
    }),
    route({
      method: 'delete',
      path: '/api/ai-agents/{id}/orchestration-rules/{ruleId}',
      summary: 'Delete an orchestration rule',
      description: NOT_FOUND,
      access: 'ai_agents.manage',
      params: RuleParams,
      response: MessageBody,
      audit: { action: 'ai_orchestration_rule.deleted', resource: 'ai_orchestration_rule', target: ({ params }) => params.ruleId ?? null },
      handler: async ({ params, principal }) => {
        const rule = await deleteOrchestrationRule({ ...acting(principal), aiAgentId: params.id, id: params.ruleId });
        return { message: `Orchestration rule "${rule.name}" deleted` };
      },
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}/evaluations',
      summary: 'List evaluations for an AI agent',
      description: `Newest first, optionally by rating. ${NOT_FOUND}`,
      access: 'ai_agents.view',
      params: IdParams,
      query: ListEvaluationsQuery,
      response: EvaluationPage,
      handler: async ({ params, query, principal }) => presentPage(await listEvaluations({ ...acting(principal), aiAgentId: params.id, ...query }), presentAiEvaluation),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/evaluations',
      summary: 'Create an AI response evaluation',
      description: `Rates one reply the AI agent sent (message_id: 400 unless it is one), keeping its text and the customer’s message it answered. With qna_source_id, the corrected answer also becomes a Q&A pair of that knowledge source (qna_id), answering from the next message on. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: CreateEvaluationBody,
      response: AiEvaluationBody,
      status: 201,
      audit: { action: 'ai_evaluation.created', resource: 'ai_evaluation', target: ({ result }) => result.id },
      handler: async ({ params, body, principal }) =>
        presentAiEvaluation(
          await createEvaluation({
            ...acting(principal),
            aiAgentId: params.id,
            messageId: body.message_id,
            rating: body.rating,
            correctedAnswer: body.corrected_answer ?? null,
            notes: body.notes ?? null,
            qnaSourceId: body.qna_source_id,
          }),
        ),
    }),
    route({
      method: 'put',
      path: '/api/ai-agents/{id}/evaluations/{evaluationId}',
      summary: 'Update an AI evaluation',
      description: `The fields given change; qna_source_id turns the corrected answer into a Q&A pair (once). ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: EvaluationParams,
      errors: { 409: 'qna_source_id given, and this evaluation already became a Q&A pair' },
      body: UpdateEvaluationBody,
      response: AiEvaluationBody,
      audit: { action: 'ai_evaluation.updated', resource: 'ai_evaluation', target: ({ params }) => params.evaluationId ?? null },
      handler: async ({ params, body, principal }) =>
        presentAiEvaluation(
          await updateEvaluation({ ...acting(principal), aiAgentId: params.id, id: params.evaluationId, ...camelFields(body) }),
        ),
    }),
    route({
      method: 'delete',
      path: '/api/ai-agents/{id}/evaluations/{evaluationId}',
      summary: 'Delete an AI evaluation',
      description: NOT_FOUND,
      access: 'ai_agents.manage',
      params: EvaluationParams,
      response: MessageBody,
      audit: { action: 'ai_evaluation.deleted', resource: 'ai_evaluation', target: ({ params }) => params.evaluationId ?? null },
      handler: async ({ params, principal }) => {
        await deleteEvaluation({ ...acting(principal), aiAgentId: params.id, id: params.evaluationId });
        return { message: 'Evaluation deleted' };
      },
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}/usage',
      summary: 'Get daily usage stats for an AI agent',
      description: `Replies, handoffs, unanswered messages and model tokens per day in the tenant’s time zone, every day of the range listed (zeros included), with totals. At most 366 days. ${NOT_FOUND}`,
      access: 'ai_agents.view',
      params: IdParams,
      query: UsageQuery,
      response: AiAgentUsageBody,
      handler: async ({ params, query, principal }) => presentAiAgentUsage(await agentUsage({ ...acting(principal), aiAgentId: params.id, from: query.from, to: query.to })),
    }),
  ],
};
