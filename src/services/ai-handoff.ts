/**
 * Handing a conversation from the AI to humans. `firingRule` decides, from the agent's active
 * rules (highest priority first), whether a message hands off and why; `handOff` does it through
 * the conversation's actor: the transfer to the rule's division and/or agent (conversation.transferred
 * to the new audience, so it appears in their queue live, and auto-assignment books it there),
 * a private note with the reason (note.created), and the rule's message to the customer. Every
 * id derives from the customer's message, so a replayed event repeats nothing.
 */
import { askConversation } from '../../actors/conversation/index.js';
import { AppError } from '../errors.js';
import { naturalId } from '../ids.js';
import { logger } from '../logger.js';
import type { AiAgent } from '../models/ai-agent.js';
import type { AiHandoffRule } from '../models/ai-handoff-rule.js';
import type { Conversation } from '../models/conversation.js';
import { asksForHuman, matchingKeyword, negativity } from './ai-text-signals.js';
import { applyAssignmentDecisions } from './conversations.js';
import { sendOutbound } from './outbound.js';

/** What the rules read of a message. */
export interface HandoffSignals {
  text: string;
  /** The message came outside the hours of the agent's covering assignment. */
  offHours: boolean;
  /** After the answer: how many answers in a row (this one included) fell below the threshold; null before answering. */
  lowConfidenceStreak: number | null;
}

/** A rule that fired, and the reason the note gives. */
export interface FiredRule {
  rule: AiHandoffRule;
  reason: string;
}

const quote = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}...` : text);

/** Why the rule fires on these signals, or null when it does not. */
function reasonFor(rule: AiHandoffRule, s: HandoffSignals): string | null {
  switch (rule.trigger) {
    case 'outside_hours':
      return s.offHours ? 'The customer wrote outside the AI agent’s hours' : null;
    case 'keyword': {
      const keyword = s.offHours ? null : matchingKeyword(s.text, rule.keywords);
      return keyword ? `The customer’s message contains "${keyword}": “${quote(s.text)}”` : null;
    }
    case 'human_request':
      return !s.offHours && asksForHuman(s.text) ? `The customer asked for a human: “${quote(s.text)}”` : null;
    case 'negative_sentiment': {
      const score = s.offHours ? 0 : negativity(s.text);
      return score >= rule.sentiment_threshold ? `The customer sounds upset (negativity ${score}, threshold ${rule.sentiment_threshold}): “${quote(s.text)}”` : null;
    }
    case 'low_confidence':
      return s.lowConfidenceStreak !== null && s.lowConfidenceStreak >= rule.low_confidence_count
        ? `${s.lowConfidenceStreak} answers in a row fell below the AI agent’s confidence threshold`
        : null;
  }
}

/**
 * The first active rule (rules come highest priority first) that fires. Before answering
 * (`lowConfidenceStreak` null) only message rules apply; after a failed answer only the
 * low-confidence ones.
 */
export function firingRule(rules: readonly AiHandoffRule[], s: HandoffSignals): FiredRule | null {
  for (const rule of rules) {
    if (!rule.is_active || (rule.trigger === 'low_confidence') !== (s.lowConfidenceStreak !== null)) continue;
    const reason = reasonFor(rule, s);
    if (reason) return { rule, reason };
  }
  return null;
}

/** Hand one conversation to humans because of one customer message. */
export interface HandOff {
  conversation: Conversation;
  agent: AiAgent;
  fired: FiredRule;
  /** Our id of the customer's message that fired the rule: every id of the handoff derives from it. */
  messageId: string;
}

/**
 * Transfers the conversation to the rule's target, notes the reason, and sends the rule's message
 * to the customer. A transfer the conversation's state refuses (it is already waiting there, or
 * it was closed meanwhile) is logged and the note still tells the humans why; a message the
 * channel refuses (its messaging window) is logged too.
 */
export async function handOff(h: HandOff): Promise<void> {
  const { conversation: c, agent, fired, messageId } = h;
  const key = (what: string) => naturalId('ai-handoff', c.tenant_id, messageId, what);
  try {
    const { decisions } = await askConversation(c._id, 'transfer', {
      transferId: key('transfer'),
      toAgentId: fired.rule.to_agent_id,
      toDivisionId: fired.rule.to_division_id,
      reason: `AI agent "${agent.name}" handed off: ${fired.reason}`,
      transferredBy: agent._id,
    });
    await applyAssignmentDecisions(decisions);
  } catch (err) {
    if (!(err instanceof AppError) || err.status !== 422) throw err;
    logger.info({ conversation: c._id, rule: fired.rule._id, reason: err.message }, 'AI handoff: the transfer changed nothing');
  }
  await askConversation(c._id, 'note_create', {
    noteId: key('note'),
    authorId: agent._id,
    body: `Handed off by AI agent "${agent.name}" (rule "${fired.rule.name}"): ${fired.reason}`,
    mentions: fired.rule.to_agent_id ? [fired.rule.to_agent_id] : [],
  });
  if (!fired.rule.handoff_message) return;
  try {
    await sendOutbound({
      tenantId: c.tenant_id,
      conversationId: c._id,
      idempotencyKey: `ai-handoff:${messageId}`,
      sender: { type: 'ai', id: agent._id },
      content: { type: 'text', text: fired.rule.handoff_message },
      annotations: { ai: { ai_agent_id: agent._id, handoff_rule_id: fired.rule._id } },
    });
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    logger.info({ conversation: c._id, reason: err.message }, 'AI handoff message not sent');
  }
}
