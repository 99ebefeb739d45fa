/**
 * When an AI agent hands a conversation to humans, and to whom. A rule fires on keywords, on the
 * customer asking for a human, after N answers in a row below the agent's confidence threshold, on
 * negative sentiment, or when a message arrives outside the AI's hours; it transfers the
 * conversation to a division, an agent, or an agent of a division (services/ai-handoff.ts).
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** What makes a rule fire. */
export const HANDOFF_TRIGGERS = ['keyword', 'human_request', 'low_confidence', 'negative_sentiment', 'outside_hours'] as const;

/** A rule's trigger. */
export type HandoffTrigger = (typeof HANDOFF_TRIGGERS)[number];

/** A stored handoff rule. */
export interface AiHandoffRule extends TenantDoc {
  ai_agent_id: string;
  name: string;
  trigger: HandoffTrigger;
  /** `keyword`: words or phrases, matched as whole words after normalization. */
  keywords: string[];
  /** `low_confidence`: how many answers in a row below the threshold hand off. */
  low_confidence_count: number;
  /** `negative_sentiment`: the negativity score (services/ai-text-signals.ts) that hands off. */
  sentiment_threshold: number;
  to_division_id: string | null;
  to_agent_id: string | null;
  /** Sent to the customer when the rule hands off; null sends nothing. */
  handoff_message: string | null;
  /** Rules are checked highest first. */
  priority: number;
  is_active: boolean;
}

const schema = baseSchema<AiHandoffRule>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    name: { type: String, required: true },
    trigger: { type: String, required: true, enum: HANDOFF_TRIGGERS },
    keywords: { type: [String], default: [] },
    low_confidence_count: { type: Number, required: true },
    sentiment_threshold: { type: Number, required: true },
    to_division_id: { type: String, default: null },
    to_agent_id: { type: String, default: null },
    handoff_message: { type: String, default: null },
    priority: { type: Number, required: true },
    is_active: { type: Boolean, required: true },
  },
  'ai_handoff_rules',
);
// Serves an agent's list, oldest first (the listener reads the same range and orders by priority).
schema.index({ tenant_id: 1, ai_agent_id: 1, created_at: 1, _id: 1 });

/** The ai_handoff_rules collection. */
export const AiHandoffRuleModel = model<AiHandoffRule>('AiHandoffRule', schema);

/** Tenant-scoped access to handoff rules. */
export const aiHandoffRules = tenantRepo(AiHandoffRuleModel, 'Handoff rule');
