/**
 * Orchestration rules of an AI agent: which of its messages another AI agent answers, by
 * keywords, channels and intent labels. The target must be another live AI agent of the tenant
 * (400 naming target_ai_agent_id); a rule needs at least one condition, so none routes every
 * message by accident. Routing itself is in services/ai-routing.ts.
 */
import { v7 as orderedId } from 'uuid';
import type { ChannelName } from '../../channels/types.js';
import { BodyFieldError } from '../errors.js';
import { aiOrchestrationRules, type AiOrchestrationRule } from '../models/ai-orchestration-rule.js';
import { agentChildren, checkTargetAiAgent } from './ai-agent-children.js';
import type { IntentLabel } from './ai-text-signals.js';
import type { Acting } from './agents.js';

const children = agentChildren(aiOrchestrationRules, 'Orchestration rule', true);

/** On one AI agent's orchestration rules. */
export interface OnOrchestrationRules extends Acting {
  aiAgentId: string;
}

/** The fields of a rule a caller sets (absent in an update: unchanged). */
export interface OrchestrationRuleFields {
  name: string;
  keywords: string[];
  channels: ChannelName[];
  intents: IntentLabel[];
  targetAiAgentId: string;
  priority: number;
  isActive: boolean;
}

/** An agent's rules, in the order they are tried (highest priority first). */
export const listOrchestrationRules = (q: OnOrchestrationRules): Promise<AiOrchestrationRule[]> => children.all(q.tenantId, q.aiAgentId, { priority: -1, created_at: 1, _id: 1 });

const toStored = (f: Partial<OrchestrationRuleFields>): Partial<AiOrchestrationRule> => ({
  ...(f.name !== undefined ? { name: f.name } : {}),
  ...(f.keywords !== undefined ? { keywords: [...new Set(f.keywords.map((k) => k.trim()).filter(Boolean))] } : {}),
  ...(f.channels !== undefined ? { channels: [...new Set(f.channels)] } : {}),
  ...(f.intents !== undefined ? { intents: [...new Set(f.intents)] } : {}),
  ...(f.targetAiAgentId !== undefined ? { target_ai_agent_id: f.targetAiAgentId } : {}),
  ...(f.priority !== undefined ? { priority: f.priority } : {}),
  ...(f.isActive !== undefined ? { is_active: f.isActive } : {}),
});

function checkConditions(rule: Pick<AiOrchestrationRule, 'keywords' | 'channels' | 'intents'>): void {
  if (!rule.keywords.length && !rule.channels.length && !rule.intents.length) {
    throw BodyFieldError('keywords', 'give at least one condition: keywords, channels or intents');
  }
}

/** Creates a rule of a live AI agent. */
export async function createOrchestrationRule(cmd: OnOrchestrationRules & Pick<OrchestrationRuleFields, 'name' | 'targetAiAgentId'> & Partial<OrchestrationRuleFields>): Promise<AiOrchestrationRule> {
  const doc = { _id: orderedId(), tenant_id: cmd.tenantId, ai_agent_id: cmd.aiAgentId, ...toStored({ keywords: [], channels: [], intents: [], priority: 0, isActive: true, ...cmd }) } as AiOrchestrationRule;
  checkConditions(doc);
  await checkTargetAiAgent(cmd.tenantId, 'target_ai_agent_id', doc.target_ai_agent_id, cmd.aiAgentId);
  return children.create(doc);
}

/** Changes the given fields of a rule; the rule after the change is checked whole. */
export async function updateOrchestrationRule(cmd: OnOrchestrationRules & Partial<OrchestrationRuleFields> & { id: string }): Promise<AiOrchestrationRule> {
  const current = await children.find(cmd.tenantId, cmd.aiAgentId, cmd.id);
  const set = toStored(cmd);
  checkConditions({ ...current, ...set });
  if (set.target_ai_agent_id) await checkTargetAiAgent(cmd.tenantId, 'target_ai_agent_id', set.target_ai_agent_id, cmd.aiAgentId);
  return children.update(cmd.tenantId, cmd.aiAgentId, cmd.id, set);
}

/** Deletes a rule; answers it as it was. */
export const deleteOrchestrationRule = (cmd: OnOrchestrationRules & { id: string }): Promise<AiOrchestrationRule> => children.remove(cmd.tenantId, cmd.aiAgentId, cmd.id);
