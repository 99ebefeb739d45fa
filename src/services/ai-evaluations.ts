/**
 * Evaluations of AI replies: a person rates one message an AI agent sent (good or bad), may give
 * the corrected answer and notes. The message must be that agent's reply in the tenant (400
 * naming message_id otherwise); the evaluation keeps the reply's text and the customer's message
 * it answered, so it still reads right after the conversation moves on. A corrected answer can
 * become a Q&A pair of one of the agent's knowledge sources (the customer's message as the
 * question), answering from the next message on; `qna_id` then names it, and it is made once.
 */
import { v7 as orderedId } from 'uuid';
import { AppError, BodyFieldError, ConflictError } from '../errors.js';
import { aiEvaluations, type AiEvaluation, type EvaluationRating } from '../models/ai-evaluation.js';
import { messages, type Message } from '../models/message.js';
import type { Page } from '../models/repo.js';
import { agentChildren, liveAiAgent } from './ai-agent-children.js';
import { createQna, findSource } from './ai-knowledge.js';
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
  /** Also add the corrected answer as a Q&A pair of this knowledge source of the agent. */
  qnaSourceId?: string | null | undefined;
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

/** 400 unless a Q&A pair can be made: a corrected answer and the customer's question. */
function checkQnaFrom(e: Pick<AiEvaluation, 'question' | 'corrected_answer'>): void {
  if (!e.corrected_answer) throw BodyFieldError('corrected_answer', 'a Q&A pair needs the corrected answer (give corrected_answer with qna_source_id)');
  if (!e.question) throw BodyFieldError('qna_source_id', 'the customer’s message this reply answered has no text, so it cannot be a Q&A question');
}

/** 400 naming qna_source_id unless it is one of the agent's knowledge sources. */
async function checkQnaSource(tenantId: string, aiAgentId: string, sourceId: string): Promise<void> {
  try {
    await findSource(tenantId, aiAgentId, sourceId);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) throw BodyFieldError('qna_source_id', 'must be one of this AI agent’s knowledge sources', { value: sourceId });
    throw err;
  }
}

/** Adds the evaluation's corrected answer as a Q&A pair of the agent's source and records it. */
async function makeQna(cmd: Acting & { aiAgentId: string; sourceId: string }, e: AiEvaluation): Promise<AiEvaluation> {
  const pair = await createQna({ ...cmd, question: e.question as string, answer: e.corrected_answer as string, alternatives: [] });
  return children.update(e.tenant_id, e.ai_agent_id, e._id, { qna_id: pair._id });
}

/** Rates an AI reply; with `qnaSourceId`, its corrected answer becomes a Q&A pair. */
export async function createEvaluation(cmd: CreateEvaluation): Promise<AiEvaluation> {
  // Another tenant's agent is a 404 before anything about the message is said.
  await liveAiAgent(cmd.tenantId, cmd.aiAgentId);
  const reply = await replyOf(cmd.tenantId, cmd.aiAgentId, cmd.messageId);
  const question = await questionOf(reply);
  if (cmd.qnaSourceId) {
    checkQnaFrom({ question, corrected_answer: cmd.correctedAnswer });
    await checkQnaSource(cmd.tenantId, cmd.aiAgentId, cmd.qnaSourceId);
  }
  const created = await children.create({
    _id: orderedId(),
    tenant_id: cmd.tenantId,
    ai_agent_id: cmd.aiAgentId,
    message_id: reply._id,
    conversation_id: reply.conversation_id,
    question,
    answer: reply.text,
    rating: cmd.rating,
    corrected_answer: cmd.correctedAnswer,
    notes: cmd.notes,
    qna_id: null,
    created_by: cmd.principal.userId,
  });
  return cmd.qnaSourceId ? makeQna({ ...cmd, sourceId: cmd.qnaSourceId }, created) : created;
}

/** Change an evaluation's rating, corrected answer or notes (absent: unchanged). */
export interface UpdateEvaluation extends OnEvaluations {
  id: string;
  rating?: EvaluationRating | undefined;
  correctedAnswer?: string | null | undefined;
  notes?: string | null | undefined;
  /** Also add the corrected answer as a Q&A pair of this source (409 when one was made already). */
  qnaSourceId?: string | null | undefined;
}

/** Changes the given fields of an evaluation; with `qnaSourceId`, its corrected answer becomes a Q&A pair. */
export async function updateEvaluation(cmd: UpdateEvaluation): Promise<AiEvaluation> {
  const current = await children.find(cmd.tenantId, cmd.aiAgentId, cmd.id);
  const set: Partial<AiEvaluation> = {
    ...(cmd.rating !== undefined ? { rating: cmd.rating } : {}),
    ...(cmd.correctedAnswer !== undefined ? { corrected_answer: cmd.correctedAnswer } : {}),
    ...(cmd.notes !== undefined ? { notes: cmd.notes } : {}),
  };
  if (cmd.qnaSourceId) {
    if (current.qna_id) throw ConflictError('This evaluation already became a Q&A pair (qna_id); edit or delete that pair instead');
    checkQnaFrom({ ...current, ...set });
    await checkQnaSource(cmd.tenantId, cmd.aiAgentId, cmd.qnaSourceId);
  }
  const updated = Object.keys(set).length ? await children.update(cmd.tenantId, cmd.aiAgentId, cmd.id, set) : current;
  return cmd.qnaSourceId ? makeQna({ ...cmd, sourceId: cmd.qnaSourceId }, updated) : updated;
}

/** Deletes an evaluation; answers it as it was. */
export const deleteEvaluation = (cmd: OnEvaluations & { id: string }): Promise<AiEvaluation> => children.remove(cmd.tenantId, cmd.aiAgentId, cmd.id);
