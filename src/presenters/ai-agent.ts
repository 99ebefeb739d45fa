/** How AI agents, their knowledge sources, Q&A pairs and products leave the API. The API key never does. */
import { z } from 'zod';
import { AI_LANGUAGES, RESPONDER_KINDS, type AiAgent } from '../models/ai-agent.js';
import type { AiProduct } from '../models/ai-product.js';
import { SOURCE_KINDS, SOURCE_STATUSES, type KnowledgeQna, type KnowledgeSource } from '../models/knowledge.js';
import type { ImportResult } from '../services/ai-products.js';
import type { TestAnswer } from '../services/ai-agents.js';
import { iso } from './page.js';

const stamps = { created_at: z.iso.datetime(), updated_at: z.iso.datetime() };
const stampsOf = (d: { created_at: Date; updated_at: Date }) => ({ created_at: iso(d.created_at) as string, updated_at: iso(d.updated_at) as string });

/** The AI agent JSON shape. */
export const AiAgentBody = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  active: z.boolean(),
  instructions: z.string().describe('The system prompt a model responder is given'),
  language: z.enum(AI_LANGUAGES).describe('id, en, or auto (the customer’s)'),
  confidence_threshold: z.number().describe('0..1: below it the AI agent gives no answer'),
  responder: z.object({
    kind: z.enum(RESPONDER_KINDS).describe('retrieval: built in, answers from the knowledge itself; openai: an OpenAI-compatible chat endpoint answers from the retrieved knowledge'),
    base_url: z.string().nullable(),
    model: z.string().nullable(),
    has_api_key: z.boolean().describe('Whether a key is stored (it is never shown)'),
    timeout_ms: z.number().int(),
  }),
  ...stamps,
});

/** Shapes an AI agent. */
export const presentAiAgent = (a: AiAgent): z.infer<typeof AiAgentBody> => ({
  id: a._id,
  name: a.name,
  description: a.description,
  active: a.active,
  instructions: a.instructions,
  language: a.language,
  confidence_threshold: a.confidence_threshold,
  responder: { kind: a.responder.kind, base_url: a.responder.base_url, model: a.responder.model, has_api_key: a.responder.api_key_encrypted !== null, timeout_ms: a.responder.timeout_ms },
  ...stampsOf(a),
});

/** The knowledge source JSON shape. */
export const KnowledgeSourceBody = z.object({
  id: z.uuid(),
  ai_agent_id: z.uuid(),
  kind: z.enum(SOURCE_KINDS),
  title: z.string(),
  text: z.string().nullable().describe('kind text'),
  url: z.string().nullable().describe('kind url'),
  media_id: z.uuid().nullable().describe('kind file'),
  status: z.enum(SOURCE_STATUSES).describe('pending, processing, ready, or failed (see status_reason)'),
  status_reason: z.string().nullable(),
  chunk_count: z.number().int(),
  char_count: z.number().int(),
  processed_at: z.iso.datetime().nullable(),
  ...stamps,
});

/** Shapes a knowledge source. */
export const presentKnowledgeSource = (s: KnowledgeSource): z.infer<typeof KnowledgeSourceBody> => ({
  id: s._id,
  ai_agent_id: s.ai_agent_id,
  kind: s.kind,
  title: s.title,
  text: s.text,
  url: s.url,
  media_id: s.media_id,
  status: s.status,
  status_reason: s.status_reason,
  chunk_count: s.chunk_count,
  char_count: s.char_count,
  processed_at: iso(s.processed_at),
  ...stampsOf(s),
});

/** The Q&A pair JSON shape. */
export const KnowledgeQnaBody = z.object({
  id: z.uuid(),
  source_id: z.uuid(),
  question: z.string(),
  answer: z.string(),
  alternatives: z.array(z.string()),
  ...stamps,
});

/** Shapes a Q&A pair. */
export const presentKnowledgeQna = (q: KnowledgeQna): z.infer<typeof KnowledgeQnaBody> => ({
  id: q._id,
  source_id: q.source_id,
  question: q.question,
  answer: q.answer,
  alternatives: q.alternatives,
  ...stampsOf(q),
});

const Minor = z.number().int().describe('Integer minor units of currency');

/** The product JSON shape. */
export const AiProductBody = z.object({
  id: z.uuid(),
  ai_agent_id: z.uuid(),
  name: z.string(),
  sku: z.string().nullable(),
  description: z.string(),
  price: Minor,
  currency: z.string().describe('ISO 4217'),
  stock: z.number().int().nullable().describe('null: not tracked'),
  variants: z.array(z.object({ name: z.string(), sku: z.string().nullable(), price: Minor.nullable(), stock: z.number().int().nullable() })),
  ...stamps,
});

/** Shapes a product. */
export const presentAiProduct = (p: AiProduct): z.infer<typeof AiProductBody> => ({
  id: p._id,
  ai_agent_id: p.ai_agent_id,
  name: p.name,
  sku: p.sku,
  description: p.description,
  price: p.price,
  currency: p.currency,
  stock: p.stock,
  variants: p.variants.map((v) => ({ name: v.name, sku: v.sku ?? null, price: v.price ?? null, stock: v.stock ?? null })),
  ...stampsOf(p),
});

/** A bulk import's outcome. */
export const ProductImportBody = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  rows: z.array(z.object({ row: z.number().int(), id: z.uuid(), sku: z.string().nullable(), action: z.enum(['created', 'updated']) })),
});

/** Shapes an import's outcome. */
export const presentProductImport = (r: ImportResult): z.infer<typeof ProductImportBody> => ({ created: r.created, updated: r.updated, rows: r.rows });

/** A test message's answer. */
export const AiTestAnswerBody = z.object({
  answer: z.string().nullable().describe('null: nothing reached the confidence threshold (the AI agent would not answer)'),
  confidence: z.number(),
  threshold: z.number(),
  language: z.enum(['id', 'en']),
  responder: z.enum(RESPONDER_KINDS),
  sources: z.array(z.object({ kind: z.enum(['qna', 'chunk', 'product']), id: z.uuid(), title: z.string(), score: z.number() })),
  usage: z.object({ tokens_in: z.number().int(), tokens_out: z.number().int() }).nullable(),
});

/** Shapes a test answer. */
export const presentAiTestAnswer = (a: TestAnswer): z.infer<typeof AiTestAnswerBody> => ({
  answer: a.answer,
  confidence: a.confidence,
  threshold: a.threshold,
  language: a.language,
  responder: a.responder,
  sources: a.sources,
  usage: a.usage,
});
