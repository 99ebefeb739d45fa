/**
 * AI agents: create, change, switch on and off, delete, and try one on a sample message. A
 * model responder's API key is stored encrypted (bound to the agent and field) and never shown;
 * a change that gives no key keeps the stored one, `null` removes it. Deleting marks the agent
 * deleted (its usage and evaluations keep naming it) and removes its knowledge and products.
 */
import { BodyFieldError } from '../errors.js';
import { newId } from '../ids.js';
import { encryptSecret } from '../crypto/secrets.js';
import { aiAgentKeyContext, aiAgents, setAiAgentActive, type AiAgent, type AiLanguage, type ResponderKind, type ResponderSettings } from '../models/ai-agent.js';
import type { Page } from '../models/repo.js';
import { liveAiAgent } from './ai-agent-children.js';
import { removeAgentKnowledge } from './ai-knowledge.js';
import { removeAgentProducts } from './ai-products.js';
import { answerAs, answerLanguage, type AiAnswer, type HistoryTurn } from './ai-responder.js';
import type { Acting } from './agents.js';

/** A responder as given: the key in the clear, to be encrypted. */
export interface ResponderInput {
  kind?: ResponderKind | undefined;
  base_url?: string | null | undefined;
  model?: string | null | undefined;
  /** A string sets it, null removes it, absent keeps it. */
  api_key?: string | null | undefined;
  timeout_ms?: number | undefined;
}

/** An AI agent's fields as given. */
export interface AiAgentFields {
  name?: string | undefined;
  description?: string | undefined;
  active?: boolean | undefined;
  instructions?: string | undefined;
  language?: AiLanguage | undefined;
  confidenceThreshold?: number | undefined;
  responder?: ResponderInput | undefined;
}

const DEFAULT_RESPONDER: ResponderSettings = { kind: 'retrieval', base_url: null, model: null, api_key_encrypted: null, timeout_ms: 15_000 };

/** The stored responder after applying `input` to `current`; 400 naming what a model responder lacks. */
function responderOf(agentId: string, current: ResponderSettings, input: ResponderInput | undefined): ResponderSettings {
  if (!input) return current;
  const next: ResponderSettings = {
    kind: input.kind ?? current.kind,
    base_url: input.base_url !== undefined ? input.base_url : current.base_url,
    model: input.model !== undefined ? input.model : current.model,
    api_key_encrypted:
      input.api_key === undefined ? current.api_key_encrypted : input.api_key === null ? null : encryptSecret(input.api_key, { context: aiAgentKeyContext(agentId) }),
    timeout_ms: input.timeout_ms ?? current.timeout_ms,
  };
  if (next.kind === 'openai') {
    if (!next.base_url) throw BodyFieldError('responder.base_url', 'is required for an openai responder (the API root, e.g. https://api.openai.com/v1)');
    if (!next.model) throw BodyFieldError('responder.model', 'is required for an openai responder');
  }
  return next;
}

/** The tenant's AI agents, newest first. */
export async function listAiAgents(q: Acting & { active?: boolean | undefined; page: number; limit: number }): Promise<Page<AiAgent>> {
  const filter = { tenant_id: q.tenantId, deleted_at: null, ...(q.active !== undefined ? { active: q.active } : {}) };
  return aiAgents.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** The tenant's AI agent, or 404. */
export const getAiAgent = (q: Acting & { id: string }): Promise<AiAgent> => liveAiAgent(q.tenantId, q.id);

/** Creates an AI agent. */
export async function createAiAgent(cmd: Acting & AiAgentFields & { name: string }): Promise<AiAgent> {
  const id = newId();
  return aiAgents.insert({
    _id: id,
    tenant_id: cmd.tenantId,
    name: cmd.name,
    description: cmd.description ?? '',
    active: cmd.active ?? true,
    instructions: cmd.instructions ?? '',
    language: cmd.language ?? 'auto',
    confidence_threshold: cmd.confidenceThreshold ?? 0.35,
    responder: responderOf(id, DEFAULT_RESPONDER, cmd.responder),
    deleted_at: null,
  });
}

/** Changes the fields given. */
export async function updateAiAgent(cmd: Acting & AiAgentFields & { id: string }): Promise<AiAgent> {
  const agent = await liveAiAgent(cmd.tenantId, cmd.id);
  const set: Partial<AiAgent> = {};
  if (cmd.name !== undefined) set.name = cmd.name;
  if (cmd.description !== undefined) set.description = cmd.description;
  if (cmd.active !== undefined) set.active = cmd.active;
  if (cmd.instructions !== undefined) set.instructions = cmd.instructions;
  if (cmd.language !== undefined) set.language = cmd.language;
  if (cmd.confidenceThreshold !== undefined) set.confidence_threshold = cmd.confidenceThreshold;
  if (cmd.responder !== undefined) set.responder = responderOf(agent._id, agent.responder, cmd.responder);
  return aiAgents.update(cmd.tenantId, agent._id, set);
}

/** Switches the agent on when off, off when on. */
export async function toggleAiAgent(cmd: Acting & { id: string }): Promise<AiAgent> {
  for (;;) {
    const agent = await liveAiAgent(cmd.tenantId, cmd.id);
    // Conditional on the state read: two toggles at once flip twice, not once.
    const toggled = await setAiAgentActive(cmd.tenantId, agent._id, agent.active, !agent.active);
    if (toggled) return toggled;
  }
}

/** Deletes the agent: marked deleted, its knowledge and products removed. */
export async function deleteAiAgent(cmd: Acting & { id: string }): Promise<AiAgent> {
  const agent = await liveAiAgent(cmd.tenantId, cmd.id);
  const deleted = await aiAgents.update(cmd.tenantId, agent._id, { deleted_at: new Date(), active: false });
  await removeAgentKnowledge(cmd.tenantId, agent._id);
  await removeAgentProducts(cmd.tenantId, agent._id);
  return deleted;
}

/** What a test message came to. */
export interface TestAnswer extends AiAnswer {
  threshold: number;
  language: 'id' | 'en';
}

/** Answers a sample message as the agent would (active or not); records nothing, sends nothing. */
export async function testAiAgent(cmd: Acting & { id: string; message: string; history: HistoryTurn[] }): Promise<TestAnswer> {
  const agent = await liveAiAgent(cmd.tenantId, cmd.id);
  const answer = await answerAs(agent, cmd.message, cmd.history);
  return { ...answer, threshold: agent.confidence_threshold, language: answerLanguage(agent, cmd.message) };
}
