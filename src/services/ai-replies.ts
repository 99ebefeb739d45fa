/**
 * AI agents answering customers (the AI-replies listener's work, src/events/listeners/ai-replies.ts).
 * On a customer's message: skip a conversation humans hold (assigned, taken over, transferred by
 * a person, an agent has replied, or handed off before); choose the agent (services/ai-routing.ts);
 * hand off when a rule fires on the message; else answer from the agent's knowledge
 * (services/ai-responder.ts) and send the answer like an agent's reply, through the conversation's
 * actor and the channel (sender `ai`, the agent's id), its confidence and sources in the message's
 * `content.ai` and so in message.created; an answer below the threshold sends nothing and may
 * hand off after N in a row. The messaging window holds (WhatsApp's 24 hours): a message the
 * listener reaches too late is not answered.
 *
 * Each event is handled at least once: the reply, transfer and note have ids derived from the
 * customer's message, usage counts by the event's seq, and the conversation's AI state is
 * written last with that seq, so a replay after a crash finishes what was left and repeats nothing.
 */
import { DateTime } from 'luxon';
import { isInsideCustomerServiceWindow } from '../../channels/whatsapp/index.js';
import type { ChannelName } from '../../channels/types.js';
import { AppError } from '../errors.js';
import type { DomainEvent } from '../events/types.js';
import { logger } from '../logger.js';
import type { AiAgent } from '../models/ai-agent.js';
import { aiAgents } from '../models/ai-agent.js';
import { aiConversationId, aiConversations, saveAiConversation, type AiConversation } from '../models/ai-conversation.js';
import { aiHandoffRules } from '../models/ai-handoff-rule.js';
import { addUsage, type UsageCounts } from '../models/ai-usage.js';
import { conversations, type Conversation } from '../models/conversation.js';
import { messages } from '../models/message.js';
import { findTenant } from '../models/tenant.js';
import { MAX_CHILDREN } from './ai-agent-children.js';
import { firingRule, handOff, type FiredRule } from './ai-handoff.js';
import { answerCustomer, type AiAnswer, type HistoryTurn } from './ai-responder.js';
import { routeMessage } from './ai-routing.js';
import { sendOutbound } from './outbound.js';

/** What the AI reads of a presented message (message.created data). */
export interface MessageData {
  id: string;
  conversation_id: string;
  channel: ChannelName;
  direction: 'inbound' | 'outbound';
  sender_type: string;
  sender_id: string | null;
  text: string | null;
  sent_at: string;
}

// Earlier messages given to the responder as the conversation so far.
const HISTORY = 6;

/** The tenant-zone day of an instant, YYYY-MM-DD. */
export async function tenantDayOf(tenantId: string, at: Date): Promise<string> {
  const tenant = await findTenant(tenantId);
  return DateTime.fromJSDate(at, { zone: tenant?.timezone ?? 'UTC' }).toISODate() as string;
}

/** One event's counts on the agent's day of it (once per seq). */
async function count(e: DomainEvent, agentId: string, counts: Partial<UsageCounts>): Promise<void> {
  await addUsage(e.tenant_id, agentId, await tenantDayOf(e.tenant_id, new Date(e.created_at)), e.seq, counts);
}

const tokensOf = (a: AiAnswer): Partial<UsageCounts> => (a.usage ? { tokens_in: a.usage.tokens_in, tokens_out: a.usage.tokens_out } : {});

/** Humans hold it: the AI stays silent. */
const heldByHumans = (c: Conversation, state: AiConversation | null): boolean => c.assignee_id !== null || Boolean(state?.handed_off_at || state?.human_since);

/** Handles a customer's message (message.created, inbound): answer, hand off, or nothing. */
export async function answerCustomerMessage(e: DomainEvent): Promise<void> {
  const m = e.data as MessageData;
  const text = m.text?.trim();
  if (m.direction !== 'inbound' || m.sender_type !== 'contact' || !text) return;
  const c = await conversations.findOwnedOrNull(e.tenant_id, m.conversation_id);
  if (!c || (c.status !== 'open' && c.status !== 'pending')) return;
  const state = await aiConversations.findOwnedOrNull(e.tenant_id, aiConversationId(e.tenant_id, c._id));
  // Written last for this event: a state at or past its seq means it was handled whole.
  if (heldByHumans(c, state) || (state && state.last_seq >= e.seq)) return;
  const now = new Date();
  if (c.channel !== 'email' && !isInsideCustomerServiceWindow(new Date(m.sent_at), now)) return;

  const routing = await routeMessage({ tenantId: e.tenant_id, channel: c.channel, accountId: c.account_id, divisionId: c.division_id, text, now });
  if (routing.kind === 'none') return;
  const agent = routing.agent;
  const rules = await aiHandoffRules.find({ tenant_id: e.tenant_id, ai_agent_id: agent._id }, { priority: -1, created_at: 1, _id: 1 }, MAX_CHILDREN);
  const before = firingRule(rules, { text, offHours: routing.kind === 'off_hours', lowConfidenceStreak: null });
  if (before || routing.kind === 'off_hours') {
    if (before) await handOffAndRecord(e, c, agent, before, m, {});
    return;
  }

  const answer = await answerCustomer(e.tenant_id, agent._id, text, await historyOf(e.tenant_id, m));
  if (answer.answer === null) {
    const streak = (state?.low_confidence_streak ?? 0) + 1;
    const after = firingRule(rules, { text, offHours: false, lowConfidenceStreak: streak });
    if (after) return handOffAndRecord(e, c, agent, after, m, { no_answers: 1, ...tokensOf(answer) });
    await count(e, agent._id, { no_answers: 1, ...tokensOf(answer) });
    await saveAiConversation(e.tenant_id, c._id, e.seq, { ai_agent_id: agent._id, low_confidence_streak: streak });
    return;
  }
  const sent = await sendAnswer(c, agent, m, answer, routing.kind === 'answer' ? routing.routedBy?._id ?? null : null);
  await count(e, agent._id, { ...(sent ? { replies: 1 } : { no_answers: 1 }), ...tokensOf(answer) });
  await saveAiConversation(e.tenant_id, c._id, e.seq, { ai_agent_id: agent._id, low_confidence_streak: 0 });
}

/** Sends the answer as the agent's reply; false when the channel's rules refused it (closed meanwhile, window). */
async function sendAnswer(c: Conversation, agent: AiAgent, m: MessageData, answer: AiAnswer, routedBy: string | null): Promise<boolean> {
  try {
    await sendOutbound({
      tenantId: c.tenant_id,
      conversationId: c._id,
      idempotencyKey: `ai-reply:${m.id}`,
      sender: { type: 'ai', id: agent._id },
      content: { type: 'text', text: answer.answer as string },
      replyToMessageId: null,
      annotations: {
        ai: { ai_agent_id: agent._id, in_reply_to: m.id, confidence: answer.confidence, responder: answer.responder, sources: answer.sources, routed_by_rule_id: routedBy },
      },
    });
    return true;
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    logger.info({ conversation: c._id, reason: err.message }, 'AI answer not sent');
    return false;
  }
}

async function handOffAndRecord(e: DomainEvent, c: Conversation, agent: AiAgent, fired: FiredRule, m: MessageData, counts: Partial<UsageCounts>): Promise<void> {
  await handOff({ conversation: c, agent, fired, messageId: m.id });
  await count(e, agent._id, { ...counts, handoffs: 1 });
  await saveAiConversation(e.tenant_id, c._id, e.seq, { ai_agent_id: agent._id, handed_off_at: new Date(), handoff_rule_id: fired.rule._id, handoff_reason: fired.reason });
}

/** The conversation's messages before `m` (oldest first), as the responder's history. */
async function historyOf(tenantId: string, m: MessageData): Promise<HistoryTurn[]> {
  const earlier = await messages.find({ tenant_id: tenantId, conversation_id: m.conversation_id, sent_at: { $lt: new Date(m.sent_at) } }, { sent_at: -1, _id: -1 }, HISTORY);
  return earlier
    .reverse()
    .filter((x) => x.text)
    .map((x) => ({ role: x.direction === 'inbound' ? 'customer' : x.sender_type === 'ai' ? 'ai' : 'agent', text: x.text as string }));
}

/**
 * Humans took the conversation (a takeover, or a transfer or reply by a person, not by an AI
 * agent): the AI stays silent in it from this event on.
 */
export async function noteHumansTookOver(e: DomainEvent, conversationId: string, by: string | null): Promise<void> {
  if (by && (await aiAgents.findOwnedOrNull(e.tenant_id, by))) return;
  const state = await aiConversations.findOwnedOrNull(e.tenant_id, aiConversationId(e.tenant_id, conversationId));
  if (state?.human_since || state?.handed_off_at) return;
  await saveAiConversation(e.tenant_id, conversationId, e.seq, { human_since: new Date(e.created_at) });
}
