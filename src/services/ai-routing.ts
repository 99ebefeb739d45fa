/**
 * Which AI agent answers a customer's message. The tenant's active assignments are tried highest
 * priority first (ties: the older one): the first whose channels, accounts and divisions cover the
 * conversation and whose hours hold now, with an active agent, chooses it; that agent's
 * orchestration rules may then pass the message to another active agent (one hop, the highest
 * priority matching rule). When only assignments outside their hours cover the conversation,
 * their agent is named as `off_hours`, so its "outside hours" handoff rule can hand it to humans.
 */
import type { ChannelName } from '../../channels/types.js';
import { aiAgents, type AiAgent } from '../models/ai-agent.js';
import { aiAssignments, type AiAssignment } from '../models/ai-assignment.js';
import { aiOrchestrationRules, type AiOrchestrationRule } from '../models/ai-orchestration-rule.js';
import { MAX_CHILDREN } from './ai-agent-children.js';
import { intentsOf, matchingKeyword } from './ai-text-signals.js';
import { checkWorkingHours } from './working-hours.js';

/** What the routing reads of the message and its conversation. */
export interface RoutingInput {
  tenantId: string;
  channel: ChannelName;
  accountId: string | null;
  divisionId: string | null;
  text: string;
  now: Date;
}

/** The routing's answer. */
export type Routing =
  | { kind: 'answer'; agent: AiAgent; assignment: AiAssignment; routedBy: AiOrchestrationRule | null }
  | { kind: 'off_hours'; agent: AiAgent; assignment: AiAssignment }
  | { kind: 'none' };

// Assignments read per message: the tenant's active ones (a tenant has a handful of AI agents).
const MAX_ASSIGNMENTS = 500;

/** An AI agent that may answer now. */
const answering = (a: AiAgent | undefined): a is AiAgent => a !== undefined && a.active && !a.deleted_at;

const covers = (a: AiAssignment, m: RoutingInput): boolean =>
  (a.channels.length === 0 || a.channels.includes(m.channel)) &&
  (a.account_ids.length === 0 || (m.accountId !== null && a.account_ids.includes(m.accountId))) &&
  (a.division_ids.length === 0 || (m.divisionId !== null && a.division_ids.includes(m.divisionId)));

/** True when the rule's conditions (each one given) all hold for the message. */
export function orchestrationMatches(rule: Pick<AiOrchestrationRule, 'keywords' | 'channels' | 'intents'>, m: Pick<RoutingInput, 'channel' | 'text'>): boolean {
  if (rule.channels.length && !rule.channels.includes(m.channel)) return false;
  if (rule.keywords.length && !matchingKeyword(m.text, rule.keywords)) return false;
  if (rule.intents.length) {
    const intents = intentsOf(m.text);
    if (!rule.intents.some((i) => intents.includes(i))) return false;
  }
  return true;
}

/** Chooses the AI agent for a message (or none). */
export async function routeMessage(m: RoutingInput): Promise<Routing> {
  const assignments = (await aiAssignments.find({ tenant_id: m.tenantId, is_active: true }, { priority: -1, created_at: 1, _id: 1 }, MAX_ASSIGNMENTS)).filter((a) => covers(a, m));
  if (assignments.length === 0) return { kind: 'none' };
  const agents = new Map((await aiAgents.findMany(m.tenantId, assignments.map((a) => a.ai_agent_id))).map((a) => [a._id, a]));
  let open: boolean | undefined;
  const isOpen = async () => (open ??= (await checkWorkingHours({ principal: null, tenant: m.tenantId, ...(m.divisionId ? { divisionId: m.divisionId } : {}), now: m.now })).isOpen);
  let offHours: Routing | null = null;
  for (const assignment of assignments) {
    const agent = agents.get(assignment.ai_agent_id);
    if (!answering(agent)) continue;
    const inHours = assignment.hours === 'always' || (assignment.hours === 'working_hours') === (await isOpen());
    if (!inHours) {
      offHours ??= { kind: 'off_hours', agent, assignment };
      continue;
    }
    return { kind: 'answer', assignment, ...(await orchestrate(agent, m)) };
  }
  return offHours ?? { kind: 'none' };
}

/** The agent that answers after the chosen agent's orchestration rules, and the rule that routed it. */
async function orchestrate(agent: AiAgent, m: RoutingInput): Promise<{ agent: AiAgent; routedBy: AiOrchestrationRule | null }> {
  const rules = await aiOrchestrationRules.find({ tenant_id: m.tenantId, ai_agent_id: agent._id }, { priority: -1, created_at: 1, _id: 1 }, MAX_CHILDREN);
  for (const rule of rules) {
    if (!rule.is_active || !orchestrationMatches(rule, m)) continue;
    const target = await aiAgents.findOwnedOrNull(m.tenantId, rule.target_ai_agent_id);
    if (answering(target ?? undefined)) return { agent: target as AiAgent, routedBy: rule };
  }
  return { agent, routedBy: null };
}
