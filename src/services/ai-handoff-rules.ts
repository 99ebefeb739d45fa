/**
 * Handoff rules of an AI agent: when it gives a conversation to humans and to whom. A rule names
 * a division, an agent, or an agent of a division, checked as a transfer checks its target
 * (services/transfers.ts: 400 naming to_division_id or to_agent_id); a keyword rule needs
 * keywords. Which rule fires on a message is decided in services/ai-handoff.ts.
 */
import { v7 as orderedId } from 'uuid';
import { BodyFieldError } from '../errors.js';
import { aiHandoffRules, type AiHandoffRule, type HandoffTrigger } from '../models/ai-handoff-rule.js';
import { agentChildren } from './ai-agent-children.js';
import type { Acting } from './agents.js';
import { checkAgent, checkDivision } from './transfers.js';

const children = agentChildren(aiHandoffRules, 'Handoff rule', true);

/** On one AI agent's handoff rules. */
export interface OnHandoffRules extends Acting {
  aiAgentId: string;
}

/** The fields of a rule a caller sets (absent in an update: unchanged). */
export interface HandoffRuleFields {
  name: string;
  trigger: HandoffTrigger;
  keywords: string[];
  lowConfidenceCount: number;
  sentimentThreshold: number;
  toDivisionId: string | null;
  toAgentId: string | null;
  handoffMessage: string | null;
  priority: number;
  isActive: boolean;
}

/** Defaults of a new rule's optional fields. */
export const HANDOFF_DEFAULTS = { keywords: [] as string[], lowConfidenceCount: 2, sentimentThreshold: 2, toDivisionId: null, toAgentId: null, handoffMessage: null, priority: 0, isActive: true };

/** An agent's rules, in the order they are checked (highest priority first). */
export const listHandoffRules = (q: OnHandoffRules): Promise<AiHandoffRule[]> => children.all(q.tenantId, q.aiAgentId, { priority: -1, created_at: 1, _id: 1 });

const toStored = (f: Partial<HandoffRuleFields>): Partial<AiHandoffRule> => {
  const set: Partial<AiHandoffRule> = {};
  if (f.name !== undefined) set.name = f.name;
  if (f.trigger !== undefined) set.trigger = f.trigger;
  if (f.keywords !== undefined) set.keywords = [...new Set(f.keywords.map((k) => k.trim()).filter(Boolean))];
  if (f.lowConfidenceCount !== undefined) set.low_confidence_count = f.lowConfidenceCount;
  if (f.sentimentThreshold !== undefined) set.sentiment_threshold = f.sentimentThreshold;
  if (f.toDivisionId !== undefined) set.to_division_id = f.toDivisionId;
  if (f.toAgentId !== undefined) set.to_agent_id = f.toAgentId;
  if (f.handoffMessage !== undefined) set.handoff_message = f.handoffMessage;
  if (f.priority !== undefined) set.priority = f.priority;
  if (f.isActive !== undefined) set.is_active = f.isActive;
  return set;
};

/** The whole rule as it would be stored: a target, keywords for a keyword rule, targets that can receive conversations. */
async function checkRule(tenantId: string, rule: Pick<AiHandoffRule, 'trigger' | 'keywords' | 'to_division_id' | 'to_agent_id'>): Promise<void> {
  if (!rule.to_division_id && !rule.to_agent_id) throw BodyFieldError('to_division_id', 'give to_division_id, to_agent_id or both: where the conversation goes');
  if (rule.trigger === 'keyword' && rule.keywords.length === 0) throw BodyFieldError('keywords', 'a keyword rule needs at least one keyword');
  if (rule.to_division_id) await checkDivision(tenantId, rule.to_division_id);
  if (rule.to_agent_id) await checkAgent(tenantId, rule.to_agent_id, rule.to_division_id);
}

/** Creates a rule of a live AI agent. */
export async function createHandoffRule(cmd: OnHandoffRules & Pick<HandoffRuleFields, 'name' | 'trigger'> & Partial<HandoffRuleFields>): Promise<AiHandoffRule> {
  const doc = { _id: orderedId(), tenant_id: cmd.tenantId, ai_agent_id: cmd.aiAgentId, ...toStored({ ...HANDOFF_DEFAULTS, ...cmd }) } as AiHandoffRule;
  await checkRule(cmd.tenantId, doc);
  return children.create(doc);
}

/** Changes the given fields of a rule; the rule after the change is checked whole. */
export async function updateHandoffRule(cmd: OnHandoffRules & Partial<HandoffRuleFields> & { id: string }): Promise<AiHandoffRule> {
  const current = await children.find(cmd.tenantId, cmd.aiAgentId, cmd.id);
  const set = toStored(cmd);
  await checkRule(cmd.tenantId, { ...current, ...set });
  return children.update(cmd.tenantId, cmd.aiAgentId, cmd.id, set);
}

/** Deletes a rule; answers it as it was. */
export const deleteHandoffRule = (cmd: OnHandoffRules & { id: string }): Promise<AiHandoffRule> => children.remove(cmd.tenantId, cmd.aiAgentId, cmd.id);
