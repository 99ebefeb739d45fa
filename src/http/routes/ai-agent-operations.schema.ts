/** Schemas of the AI agents' operations: assignments, handoff rules, orchestration rules, evaluations, usage. */
import { z } from 'zod';
import { ASSIGNMENT_HOURS } from '../../models/ai-assignment.js';
import { EVALUATION_RATINGS } from '../../models/ai-evaluation.js';
import { HANDOFF_TRIGGERS } from '../../models/ai-handoff-rule.js';
import { CHANNELS } from '../../models/integration.js';
import { INTENT_LABELS } from '../../services/ai-text-signals.js';
import { AiAssignmentBody, AiEvaluationBody, AiHandoffRuleBody, AiOrchestrationRuleBody } from '../../presenters/ai-operations.js';
import { Id, PageQuery, pageOf } from '../schemas/common.js';

type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** A body's fields under the service command's names (snake_case -> camelCase). */
export type CamelFields<T> = { [K in keyof T as K extends string ? Camel<K> : never]: T[K] };

/** A validated body as a service command's fields: keys camelCased, absent (undefined) fields left out so defaults apply. */
export function camelFields<T extends object>(body: T): CamelFields<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (v !== undefined) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  return out as CamelFields<T>;
}

/** `/{id}/assignments/{assignmentId}` */
export const AssignmentParams = z.strictObject({ id: Id, assignmentId: Id });
/** `/{id}/handoff-rules/{ruleId}` and `/{id}/orchestration-rules/{ruleId}` */
export const RuleParams = z.strictObject({ id: Id, ruleId: Id });
/** `/{id}/evaluations/{evaluationId}` */
export const EvaluationParams = z.strictObject({ id: Id, evaluationId: Id });

const Priority = z.number().int().min(-1000).max(1000);
const Name = z.string().trim().min(1, 'must not be empty').max(120);
const Keywords = z.array(z.string().trim().min(1, 'must not be empty').max(100)).max(50);
const Ids = z.array(Id).max(100);

const assignmentFields = {
  channels: z.array(z.enum(CHANNELS)).max(CHANNELS.length).describe('Channels covered; empty or absent: every channel'),
  account_ids: Ids.describe('Integration accounts covered (the organization’s); empty or absent: every account'),
  division_ids: Ids.describe('Divisions covered (the organization’s); empty or absent: any division, or none'),
  hours: z.enum(ASSIGNMENT_HOURS).describe('always; working_hours: inside the tenant’s working hours (the division’s override when it has one); outside_working_hours'),
  priority: Priority.describe('Higher wins when several AI agents cover a message; ties go to the older assignment'),
  is_active: z.boolean(),
};

/** POST /api/ai-agents/{id}/assignments */
export const CreateAssignmentBody = z.strictObject({
  ...assignmentFields,
  channels: assignmentFields.channels.default([]),
  account_ids: assignmentFields.account_ids.default([]),
  division_ids: assignmentFields.division_ids.default([]),
  hours: assignmentFields.hours.default('always'),
  priority: assignmentFields.priority.default(0),
  is_active: assignmentFields.is_active.default(true),
});

const atLeastOne = (o: object) => Object.keys(o).length > 0;
const EMPTY = { message: 'give at least one field to change' };

/** PUT /api/ai-agents/{id}/assignments/{assignmentId}: the fields given change. */
export const UpdateAssignmentBody = z.strictObject(assignmentFields).partial().refine(atLeastOne, EMPTY);

const handoffFields = {
  name: Name,
  trigger: z
    .enum(HANDOFF_TRIGGERS)
    .describe(
      'keyword: the message contains one of `keywords`; human_request: the customer asks for a human, in Indonesian or English (“mau ngomong sama orang”, “bisa minta CS manusia”, “talk to a human”); ' +
        'low_confidence: `low_confidence_count` answers in a row below the AI agent’s confidence threshold; negative_sentiment: the message’s negativity reaches `sentiment_threshold`; outside_hours: a message arrives while the AI agent’s covering assignment is outside its hours',
    ),
  keywords: Keywords.describe('keyword rules: words or phrases, matched as whole words, any case, accents and chat spellings normalized'),
  low_confidence_count: z.number().int().min(1).max(20).describe('low_confidence rules: how many answers in a row (default 2)'),
  sentiment_threshold: z.number().int().min(1).max(10).describe('negative_sentiment rules: the negativity score that hands off (default 2; one insult or “kecewa banget” scores about 2)'),
  to_division_id: Id.nullable().describe('The division whose queue receives the conversation'),
  to_agent_id: Id.nullable().describe('The agent who receives it (a member of to_division_id when both are given)'),
  handoff_message: z.string().trim().min(1).max(1000).nullable().describe('Sent to the customer when the rule hands off; null: nothing'),
  priority: Priority.describe('Rules are checked highest first'),
  is_active: z.boolean(),
};

/** POST /api/ai-agents/{id}/handoff-rules */
export const CreateHandoffRuleBody = z.strictObject({
  name: handoffFields.name,
  trigger: handoffFields.trigger,
  keywords: handoffFields.keywords.optional(),
  low_confidence_count: handoffFields.low_confidence_count.optional(),
  sentiment_threshold: handoffFields.sentiment_threshold.optional(),
  to_division_id: handoffFields.to_division_id.optional(),
  to_agent_id: handoffFields.to_agent_id.optional(),
  handoff_message: handoffFields.handoff_message.optional(),
  priority: handoffFields.priority.optional(),
  is_active: handoffFields.is_active.optional(),
});

/** PUT /api/ai-agents/{id}/handoff-rules/{ruleId}: the fields given change. */
export const UpdateHandoffRuleBody = z.strictObject(handoffFields).partial().refine(atLeastOne, EMPTY);

const orchestrationFields = {
  name: Name,
  keywords: Keywords.describe('Any of these words or phrases (whole words, any case)'),
  channels: z.array(z.enum(CHANNELS)).max(CHANNELS.length).describe('Any of these channels'),
  intents: z.array(z.enum(INTENT_LABELS)).max(INTENT_LABELS.length).describe('Any of these intent labels, read from the message by the built-in bilingual lexicon'),
  target_ai_agent_id: Id.describe('The AI agent that answers the matching messages instead'),
  priority: Priority.describe('Rules are tried highest first; the first matching one routes'),
  is_active: z.boolean(),
};

/** POST /api/ai-agents/{id}/orchestration-rules: every condition given must hold (at least one). */
export const CreateOrchestrationRuleBody = z.strictObject({
  name: orchestrationFields.name,
  target_ai_agent_id: orchestrationFields.target_ai_agent_id,
  keywords: orchestrationFields.keywords.optional(),
  channels: orchestrationFields.channels.optional(),
  intents: orchestrationFields.intents.optional(),
  priority: orchestrationFields.priority.optional(),
  is_active: orchestrationFields.is_active.optional(),
});

/** PUT /api/ai-agents/{id}/orchestration-rules/{ruleId}: the fields given change. */
export const UpdateOrchestrationRuleBody = z.strictObject(orchestrationFields).partial().refine(atLeastOne, EMPTY);

const Text = z.string().trim().min(1, 'must not be empty').max(4000);

/** POST /api/ai-agents/{id}/evaluations */
export const CreateEvaluationBody = z.strictObject({
  message_id: Id.describe('The AI agent’s reply being rated'),
  rating: z.enum(EVALUATION_RATINGS),
  corrected_answer: Text.nullable().optional().describe('What the answer should have been'),
  notes: Text.nullable().optional(),
  qna_source_id: Id.nullable().optional().describe('Also add corrected_answer as a Q&A pair (the customer’s message as its question) of this knowledge source of the AI agent'),
});

/** PUT /api/ai-agents/{id}/evaluations/{evaluationId}: the fields given change. */
export const UpdateEvaluationBody = z
  .strictObject({
    rating: z.enum(EVALUATION_RATINGS),
    corrected_answer: Text.nullable(),
    notes: Text.nullable(),
    qna_source_id: Id.describe('Also add the corrected answer as a Q&A pair of this knowledge source (409 when this evaluation made one already)'),
  })
  .partial()
  .refine(atLeastOne, EMPTY);

/** GET /api/ai-agents/{id}/evaluations */
export const ListEvaluationsQuery = PageQuery.extend({ rating: z.enum(EVALUATION_RATINGS).optional() });

const Day = z.iso.date({ message: 'must be a date, YYYY-MM-DD' });

/** GET /api/ai-agents/{id}/usage and /api/ai-agents/usage/summary */
export const UsageQuery = z.strictObject({
  from: Day.optional().describe('First day (the tenant’s date), included; default: 29 days before `to`'),
  to: Day.optional().describe('Last day, included; default: today in the tenant’s zone'),
});

/** The lists and the evaluations page. */
export const AssignmentList = z.array(AiAssignmentBody);
export const HandoffRuleList = z.array(AiHandoffRuleBody);
export const OrchestrationRuleList = z.array(AiOrchestrationRuleBody);
export const EvaluationPage = pageOf(AiEvaluationBody);
