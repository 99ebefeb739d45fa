/**
 * What the AI agent's own settings (assignments, handoff rules, orchestration rules,
 * evaluations) share: each belongs to one AI agent of the tenant, so every call first finds that
 * agent (404 for another tenant's, or a deleted one) and a child of another agent answers 404 as
 * if it did not exist. Also the checks of what the settings point at (accounts, divisions,
 * agents, AI agents), 400 naming the field.
 */
import { BodyFieldError, NotFoundError, StateError } from '../errors.js';
import { aiAgents, type AiAgent } from '../models/ai-agent.js';
import type { TenantDoc } from '../models/base.js';
import { divisions } from '../models/division.js';
import { integrationAccounts } from '../models/integration-account.js';
import type { NewDoc, Page, Scoped, Sort, TenantRepo } from '../models/repo.js';

/** The tenant's AI agent (not deleted), or 404. */
export async function liveAiAgent(tenantId: string, id: string): Promise<AiAgent> {
  const agent = await aiAgents.findOwnedOrNull(tenantId, id);
  if (!agent || agent.deleted_at) throw NotFoundError('AI agent');
  return agent;
}

/** A document that belongs to one AI agent. */
type AgentChild = TenantDoc & { ai_agent_id: string };

/** Most children one agent may have of a kind: the listener reads them all on every message. */
export const MAX_CHILDREN = 100;

/** Tenant- and agent-scoped access to one kind of an AI agent's settings. */
export interface AgentChildren<T extends AgentChild> {
  /** Every child of the agent, in `sort` order (at most MAX_CHILDREN). */
  all(tenantId: string, aiAgentId: string, sort?: Sort): Promise<T[]>;
  /** A page of the agent's children matching `filter`. */
  page(tenantId: string, aiAgentId: string, filter: Record<string, unknown>, sort: Sort, page: number, limit: number): Promise<Page<T>>;
  /** The agent's child `id`, or 404 (another agent's child too). */
  find(tenantId: string, aiAgentId: string, id: string): Promise<T>;
  /** Stores a new child of a live agent (422 past MAX_CHILDREN when `capped`). */
  create(doc: NewDoc<T>): Promise<T>;
  /** Sets fields of the agent's child. */
  update(tenantId: string, aiAgentId: string, id: string, set: Partial<T>): Promise<T>;
  /** Deletes the agent's child; answers it as it was. */
  remove(tenantId: string, aiAgentId: string, id: string): Promise<T>;
}

/** The agent-scoped access of `repo`; `capped` kinds refuse more than MAX_CHILDREN per agent. */
export function agentChildren<T extends AgentChild>(repo: TenantRepo<T>, resource: string, capped: boolean): AgentChildren<T> {
  const scope = (tenantId: string, aiAgentId: string): Scoped => ({ tenant_id: tenantId, ai_agent_id: aiAgentId });
  const find = async (tenantId: string, aiAgentId: string, id: string) => {
    await liveAiAgent(tenantId, aiAgentId);
    const doc = await repo.findOwnedOrNull(tenantId, id);
    if (!doc || doc.ai_agent_id !== aiAgentId) throw NotFoundError(resource);
    return doc;
  };
  return {
    async all(tenantId, aiAgentId, sort = { created_at: 1, _id: 1 }) {
      await liveAiAgent(tenantId, aiAgentId);
      return repo.find(scope(tenantId, aiAgentId), sort, MAX_CHILDREN);
    },
    async page(tenantId, aiAgentId, filter, sort, page, limit) {
      await liveAiAgent(tenantId, aiAgentId);
      return repo.page({ ...filter, ...scope(tenantId, aiAgentId) }, sort, page, limit);
    },
    find,
    async create(doc) {
      await liveAiAgent(doc.tenant_id, doc.ai_agent_id);
      if (capped && (await repo.count(scope(doc.tenant_id, doc.ai_agent_id))) >= MAX_CHILDREN) {
        throw StateError(`An AI agent has at most ${MAX_CHILDREN} ${resource.toLowerCase()}s; delete one first`);
      }
      return repo.insert(doc);
    },
    async update(tenantId, aiAgentId, id, set) {
      await find(tenantId, aiAgentId, id);
      return repo.update(tenantId, id, set);
    },
    async remove(tenantId, aiAgentId, id) {
      const doc = await find(tenantId, aiAgentId, id);
      await repo.remove(tenantId, id);
      return doc;
    },
  };
}

/** 400 unless every id is one of the tenant's integration accounts. */
export async function checkAccounts(tenantId: string, field: string, ids: readonly string[]): Promise<void> {
  const found = new Set((await integrationAccounts.findMany(tenantId, [...ids])).map((a) => a._id));
  const missing = ids.find((id) => !found.has(id));
  if (missing) throw BodyFieldError(field, 'must be ids of the organization’s integration accounts', { value: missing });
}

/** 400 unless every id is one of the tenant's divisions. */
export async function checkDivisions(tenantId: string, field: string, ids: readonly string[]): Promise<void> {
  const found = new Set((await divisions.findMany(tenantId, [...ids])).map((d) => d._id));
  const missing = ids.find((id) => !found.has(id));
  if (missing) throw BodyFieldError(field, 'must be ids of the organization’s divisions', { value: missing });
}

/** 400 unless `id` is a live AI agent of the tenant other than `self`. */
export async function checkTargetAiAgent(tenantId: string, field: string, id: string, self: string): Promise<void> {
  if (id === self) throw BodyFieldError(field, 'must be another AI agent than the one the rule belongs to');
  const agent = await aiAgents.findOwnedOrNull(tenantId, id);
  if (!agent || agent.deleted_at) throw BodyFieldError(field, 'no such AI agent in this organization', { value: id });
}
