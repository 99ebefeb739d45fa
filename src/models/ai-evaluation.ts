/**
 * Evaluations of AI replies: a person rates one message the AI agent sent (good or bad), may give
 * the answer it should have been and notes; a corrected answer can become a Q&A pair of the
 * agent's knowledge (`qna_id` then names it).
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** Ratings. */
export const EVALUATION_RATINGS = ['good', 'bad'] as const;

/** A rating. */
export type EvaluationRating = (typeof EVALUATION_RATINGS)[number];

/** A stored evaluation. */
export interface AiEvaluation extends TenantDoc {
  ai_agent_id: string;
  /** The AI's reply being rated. */
  message_id: string;
  conversation_id: string;
  /** The customer's message the reply answered (its text when rated); null when none was found. */
  question: string | null;
  /** The reply's text as sent. */
  answer: string | null;
  rating: EvaluationRating;
  corrected_answer: string | null;
  notes: string | null;
  /** The Q&A pair made from the corrected answer, if one was. */
  qna_id: string | null;
  created_by: string;
}

const schema = baseSchema<AiEvaluation>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    message_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    question: { type: String, default: null },
    answer: { type: String, default: null },
    rating: { type: String, required: true, enum: EVALUATION_RATINGS },
    corrected_answer: { type: String, default: null },
    notes: { type: String, default: null },
    qna_id: { type: String, default: null },
    created_by: { type: String, required: true },
  },
  'ai_evaluations',
);
// Serves an agent's list, newest first, optionally by rating.
schema.index({ tenant_id: 1, ai_agent_id: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, ai_agent_id: 1, rating: 1, created_at: -1, _id: -1 });

/** The ai_evaluations collection. */
export const AiEvaluationModel = model<AiEvaluation>('AiEvaluation', schema);

/** Tenant-scoped access to evaluations. */
export const aiEvaluations = tenantRepo(AiEvaluationModel, 'AI evaluation');
