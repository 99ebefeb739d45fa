/**
 * AI agents of a tenant: a named assistant with its instructions (the system prompt), the
 * language it answers in, the confidence below which it gives no answer, and the responder that
 * composes answers (the built-in retrieval responder, or an OpenAI-compatible chat endpoint whose
 * key is stored encrypted under the `ai-agent:<id>:api_key` context and never presented back).
 * Deleting marks `deleted_at` (its knowledge is removed; usage and evaluations keep the id).
 */
import { model, Schema } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** Languages an AI agent answers in; `auto` follows the customer's. */
export const AI_LANGUAGES = ['id', 'en', 'auto'] as const;
export type AiLanguage = (typeof AI_LANGUAGES)[number];

/** Who composes an answer. */
export const RESPONDER_KINDS = ['retrieval', 'openai'] as const;
export type ResponderKind = (typeof RESPONDER_KINDS)[number];

/** How an AI agent composes answers. */
export interface ResponderSettings {
  kind: ResponderKind;
  /** The OpenAI-compatible API root (…/v1); null for retrieval. */
  base_url: string | null;
  model: string | null;
  /** encryptSecret(key, { context: aiAgentKeyContext(id) }); null when none. */
  api_key_encrypted: string | null;
  /** Per request to the chat endpoint. */
  timeout_ms: number;
}

/** A stored AI agent. */
export interface AiAgent extends TenantDoc {
  name: string;
  description: string;
  active: boolean;
  /** The system prompt a model responder is given. */
  instructions: string;
  language: AiLanguage;
  /** 0..1: answers scoring below it are "no answer". */
  confidence_threshold: number;
  responder: ResponderSettings;
  deleted_at: Date | null;
}

/** The encryption context binding an agent's API key to it. */
export const aiAgentKeyContext = (id: string): string => `ai-agent:${id}:api_key`;

const responderSchema = new Schema<ResponderSettings>(
  {
    kind: { type: String, required: true, default: 'retrieval' },
    base_url: { type: String, default: null },
    model: { type: String, default: null },
    api_key_encrypted: { type: String, default: null },
    timeout_ms: { type: Number, default: 15000 },
  },
  { _id: false },
);

const schema = baseSchema<AiAgent>(
  {
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    active: { type: Boolean, default: true },
    instructions: { type: String, default: '' },
    language: { type: String, default: 'auto' },
    confidence_threshold: { type: Number, default: 0.35 },
    responder: { type: responderSchema, required: true },
    deleted_at: { type: Date, default: null },
  },
  'ai_agents',
);
// The list (live agents, newest first).
schema.index({ tenant_id: 1, deleted_at: 1, created_at: -1, _id: -1 });

/** The ai_agents collection. */
export const AiAgentModel = model<AiAgent>('AiAgent', schema);

/** Tenant-scoped access to AI agents. */
export const aiAgents = tenantRepo(AiAgentModel, 'AI agent');

/** Sets `active` to `to` while it is `from`; the agent as stored then, or null when it was not `from`. */
export async function setAiAgentActive(tenantId: string, id: string, from: boolean, to: boolean): Promise<AiAgent | null> {
  return (await collectionOf(AiAgentModel).findOneAndUpdate(
    { _id: id, tenant_id: tenantId, active: from, deleted_at: null },
    { $set: { active: to, updated_at: new Date() } },
    { returnDocument: 'after' },
  )) as unknown as AiAgent | null;
}
