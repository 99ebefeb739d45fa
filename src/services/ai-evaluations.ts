/**
 * Evaluations of AI replies: a person rates one message an AI agent sent (good or bad), may give
 * the corrected answer and notes. The message must be that agent's reply in the tenant (400
 * naming message_id otherwise); the evaluation keeps the reply's text and the customer's message
 * it answered, so it still reads right after the conversation moves on.
 */
import { v7 as orderedId } from 'uuid';
import { BodyFieldError } from '../errors.js';
import { aiEvaluations, type AiEvaluation, type EvaluationRating } from '../models/ai-evaluation.js';
import { messages, type Message } from '../models/message.js';
import type { Page } from '../models/repo.js';
import { agentChildren } from './ai-agent-children.js';
import type { Acting } from './agents.js';

const children = agentChildren(aiEvaluations, 'AI evaluation', false);

/** On one AI agent's evaluations. */
export interface OnEvaluations extends Acting {
  aiAgentId: string;
}

/** List an agent's evaluations. */
export interface ListEvaluations extends OnEvaluations {
  rating?: EvaluationRating | undefined;
  page: number;
  limit: number;
}

/** A page of an agent's evaluations, newest first. */
export const listEvaluations = (q: ListEvaluations): Promise<Page<AiEvaluation>> =>
  children.page(q.tenantId, q.aiAgentId, q.rating ? { rating: q.rating } : {}, { created_at: -1, _id: -1 }, q.page, q.limit);

/** One evaluation. */
export const getEvaluation = (q: OnEvaluations & { id: string }): Promise<AiEvaluation> => children.find(q.tenantId, q.aiAgentId, q.id);

/** Rate a reply. */
export interface CreateEvaluation extends OnEvaluations {
  messageId: string;
  rating: EvaluationRating;
  correctedAnswer: string | null;
  notes: string | null;
}

/** The agent's reply `messageId` (400 unless it is one). */
async function replyOf(tenantId: string, aiAgentId: string, messageId: string): Promise<Message> {
  const m = await messages.findOwnedOrNull(tenantId, messageId);
  if (!m || m.direction !== 'outbound' || m.sender_type !== 'ai' || m.sender_id !== aiAgentId) {
    throw BodyFieldError('message_id', 'must be the id of a message this AI agent sent', { value: messageId });
  }
  return m;
}

/** The customer's message a reply answered: the one it names, else the latest before it. */
async function questionOf(reply: Message): Promise<string | null> {
  const named = (reply.content.ai as { in_reply_to?: unknown } | undefined)?.in_reply_to;
  if (typeof named === 'string') {
    const m = await messages.findOwnedOrNull(reply.tenant_id, named);
    if (m?.text) return m.text;
  }
  const [before] = await messages.find(
    { tenant_id: reply.tenant_id, conversation_id: reply.conversation_id, sent_at: { $lte: reply.sent_at }, direction: 'inbound' },
    { sent_at: -1, _id: -1 },
    1,
  );
  return before?.text ?? null;
}

/** Rates an AI reply. */
export async function createEvaluation(cmd: CreateEvaluation): Promise<AiEvaluation> {
  const reply = await replyOf(cmd.tenantId, cmd.aiAgentId, cmd.messageId);
  return children.create({
    _id: orderedId(),
    tenant_id: cmd.tenantId,
    ai_agent_id: cmd.aiAgentId,
    message_id: reply._id,
    conversation_id: reply.conversation_id,
    question: await questionOf(reply),
    answer: reply.text,
    rating: cmd.rating,
    corrected_answer: cmd.correctedAnswer,
    notes: cmd.notes,
    qna_id: null,
    created_by: cmd.principal.userId,
  });
}

/** Change an evaluation's rating, corrected answer or notes (absent: unchanged). */
export interface UpdateEvaluation extends OnEvaluations {
  id: string;
  rating?: EvaluationRating | undefined;
  correctedAnswer?: string | null | undefined;
  notes?: string | null | undefined;
}

/** Changes the given fields of an evaluation. */
export const updateEvaluation = (cmd: UpdateEvaluation): Promise<AiEvaluation> =>
  children.update(cmd.tenantId, cmd.aiAgentId, cmd.id, {
    ...(cmd.rating !== undefined ? { rating: cmd.rating } : {}),
    ...(cmd.correctedAnswer !== undefined ? { corrected_answer: cmd.correctedAnswer } : {}),
    ...(cmd.notes !== undefined ? { notes: cmd.notes } : {}),
  });

/** Deletes an evaluation; answers it as it was. */
export const deleteEvaluation = (cmd: OnEvaluations & { id: string }): Promise<AiEvaluation> => children.remove(cmd.tenantId, cmd.aiAgentId, cmd.id);
