/**
 * Orchestration rules route a message from the AI agent that its assignment chose to another AI
 * agent (a sales agent passing refund questions to the after-sales agent): by keywords, channels
 * and intent labels (services/ai-text-signals.ts). Every condition given must hold; the highest
 * `priority` matching rule of the chosen agent routes, one hop.
 */
import { model } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import type { IntentLabel } from '../services/ai-text-signals.js';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored orchestration rule. */
export interface AiOrchestrationRule extends TenantDoc {
  /** The agent whose messages the rule routes. */
  ai_agent_id: string;
  name: string;
  /** Any of these words or phrases; empty: no keyword condition. */
  keywords: string[];
  /** Any of these channels; empty: every channel. */
  channels: ChannelName[];
  /** Any of these intents; empty: no intent condition. */
  intents: IntentLabel[];
  /** The agent that answers instead. */
  target_ai_agent_id: string;
  priority: number;
  is_active: boolean;
}

const schema = baseSchema<AiOrchestrationRule>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    name: { type: String, required: true },
    keywords: { type: [String], default: [] },
    channels: { type: [String], default: [] },
    intents: { type: [String], default: [] },
    target_ai_agent_id: { type: String, required: true },
    priority: { type: Number, required: true },
    is_active: { type: Boolean, required: true },
  },
  'ai_orchestration_rules',
);
// Serves an agent's list, oldest first, which the listener also reads to route.
schema.index({ tenant_id: 1, ai_agent_id: 1, created_at: 1, _id: 1 });

/** The ai_orchestration_rules collection. */
export const AiOrchestrationRuleModel = model<AiOrchestrationRule>('AiOrchestrationRule', schema);

/** Tenant-scoped access to orchestration rules. */
export const aiOrchestrationRules = tenantRepo(AiOrchestrationRuleModel, 'Orchestration rule');
