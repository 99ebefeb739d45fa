/**
 * What the AI remembers about one conversation: which agent answered last, how many answers in a
 * row fell below its threshold, and whether the conversation left the AI (handed off by a rule,
 * or humans took it). `_id` = naturalId('ai-conversation', tenant, conversation). Written only
 * by the AI-replies listener, one tenant's events at a time in seq order, after the event's
 * effects; `last_seq` keeps a replayed event from counting twice.
 */
import { model } from 'mongoose';
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** A stored AI state of a conversation. */
export interface AiConversation extends TenantDoc {
  conversation_id: string;
  /** The agent that handled the last message; null before any. */
  ai_agent_id: string | null;
  /** Answers in a row below the threshold. */
  low_confidence_streak: number;
  /** When a handoff rule gave it to humans; the AI is silent after. */
  handed_off_at: Date | null;
  handoff_rule_id: string | null;
  handoff_reason: string | null;
  /** When humans took it (a takeover, a person's transfer or reply); the AI is silent after. */
  human_since: Date | null;
  last_seq: number;
}

const schema = baseSchema<AiConversation>(
  {
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    ai_agent_id: { type: String, default: null },
    low_confidence_streak: { type: Number, default: 0 },
    handed_off_at: { type: Date, default: null },
    handoff_rule_id: { type: String, default: null },
    handoff_reason: { type: String, default: null },
    human_since: { type: Date, default: null },
    last_seq: { type: Number, required: true },
  },
  'ai_conversations',
);

/** The ai_conversations collection (read by `_id` only). */
export const AiConversationModel = model<AiConversation>('AiConversation', schema);

/** Tenant-scoped access to AI conversation states. */
export const aiConversations = tenantRepo(AiConversationModel, 'AI conversation state');

/** The `_id` of a conversation's AI state. */
export const aiConversationId = (tenantId: string, conversationId: string) => naturalId('ai-conversation', tenantId, conversationId);

/** Writes what event `seq` changed, unless a later (or the same) event already wrote. */
export async function saveAiConversation(tenantId: string, conversationId: string, seq: number, set: Partial<Omit<AiConversation, '_id' | 'tenant_id' | 'conversation_id' | 'last_seq'>>): Promise<void> {
  const now = new Date();
  try {
    await collectionOf(AiConversationModel).updateOne(
      { _id: aiConversationId(tenantId, conversationId), last_seq: { $lt: seq } },
      { $set: { ...set, last_seq: seq, updated_at: now }, $setOnInsert: { tenant_id: tenantId, conversation_id: conversationId, created_at: now, ...defaultsBesides(set) } },
      { upsert: true },
    );
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

const DEFAULTS = { ai_agent_id: null, low_confidence_streak: 0, handed_off_at: null, handoff_rule_id: null, handoff_reason: null, human_since: null };

/** The defaults of the fields `set` leaves out (a field may not be in both $set and $setOnInsert). */
const defaultsBesides = (set: object) => Object.fromEntries(Object.entries(DEFAULTS).filter(([k]) => !(k in set)));
