/** Schemas of the AI agents, their knowledge sources, Q&A pairs, products and test messages. */
import { z } from 'zod';
import { AI_LANGUAGES, RESPONDER_KINDS } from '../../models/ai-agent.js';
import { SOURCE_KINDS, SOURCE_STATUSES } from '../../models/knowledge.js';
import { AiAgentBody, AiProductBody, KnowledgeQnaBody, KnowledgeSourceBody } from '../../presenters/ai-agent.js';
import { MAX_IMPORT_ROWS, ProductFields, ProductInput } from '../../services/ai-products.js';
import { BoolQuery, Id, PageQuery, pageOf } from '../schemas/common.js';

/** `/{id}/knowledge-sources/{sourceId}` */
export const SourceParams = z.strictObject({ id: Id, sourceId: Id });
/** `/{id}/knowledge-sources/{sourceId}/qna/{qnaId}` */
export const QnaParams = z.strictObject({ id: Id, sourceId: Id, qnaId: Id });
/** `/{id}/products/{productId}` */
export const ProductParams = z.strictObject({ id: Id, productId: Id });

const atLeastOne = (o: object) => Object.keys(o).length > 0;
const EMPTY = { message: 'give at least one field to change' };

const HttpUrl = z
  .url({ message: 'must be a URL' })
  .max(2000)
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http or https URL');

const Responder = z.strictObject({
  kind: z.enum(RESPONDER_KINDS).describe('retrieval (default, built in, no network) or openai (an OpenAI-compatible chat-completions endpoint)'),
  base_url: HttpUrl.nullable().describe('openai: the API root the path /chat/completions is added to, e.g. https://api.openai.com/v1'),
  model: z.string().trim().min(1).max(200).nullable(),
  api_key: z.string().min(1).max(500).nullable().describe('Write only: stored encrypted, never shown; null removes it; absent keeps it'),
  timeout_ms: z.number().int().min(1000).max(120_000).describe('Per request to the endpoint (default 15000)'),
});

const agentFields = {
  name: z.string().trim().min(1, 'must not be empty').max(120),
  description: z.string().max(2000),
  active: z.boolean(),
  instructions: z.string().max(20_000).describe('The system prompt a model responder is given'),
  language: z.enum(AI_LANGUAGES).describe('id, en, or auto (answer in the customer’s language)'),
  confidence_threshold: z.number().min(0).max(1).describe('0..1: below it the AI agent gives no answer (default 0.35)'),
  responder: Responder.partial(),
};

/** POST /api/ai-agents */
export const CreateAiAgentBody = z.strictObject({ ...agentFields, name: agentFields.name }).partial().required({ name: true });

/** PUT /api/ai-agents/{id}: the fields given change. */
export const UpdateAiAgentBody = z.strictObject(agentFields).partial().refine(atLeastOne, EMPTY);

/** GET /api/ai-agents */
export const ListAiAgentsQuery = PageQuery.extend({ active: BoolQuery.optional() });

/** POST /api/ai-agents/{id}/knowledge-sources */
export const CreateSourceBody = z.strictObject({
  kind: z.enum(SOURCE_KINDS).describe('text (give text), url (give url: fetched once), file (give media_id of an uploaded PDF, DOCX, TXT or CSV)'),
  title: z.string().trim().min(1, 'must not be empty').max(200),
  text: z.string().max(2_000_000).optional(),
  url: HttpUrl.optional(),
  media_id: Id.optional(),
});

/** GET /api/ai-agents/{id}/knowledge-sources */
export const ListSourcesQuery = PageQuery.extend({ status: z.enum(SOURCE_STATUSES).optional() });

/** POST /api/ai-agents/{id}/knowledge-sources/{sourceId}/qna */
export const CreateQnaBody = z.strictObject({
  question: z.string().trim().min(1, 'must not be empty').max(1000),
  answer: z.string().trim().min(1, 'must not be empty').max(5000),
  alternatives: z.array(z.string().trim().min(1, 'must not be empty').max(1000)).max(20).default([]).describe('Other phrasings of the question'),
});

/** POST /api/ai-agents/{id}/products */
export const CreateProductBody = ProductInput;

/** PUT /api/ai-agents/{id}/products/{productId}: the fields given change. */
export const UpdateProductBody = z.strictObject(ProductFields).partial().refine(atLeastOne, EMPTY);

/** POST /api/ai-agents/{id}/products/bulk */
export const BulkProductsBody = z.union([
  z.strictObject({ products: z.array(z.unknown()).min(1, 'must hold at least one product').max(MAX_IMPORT_ROWS).describe('Products as POST /products takes them') }),
  z.strictObject({ csv: z.string().min(1, 'must not be empty').max(5 * 1024 * 1024).describe('A CSV with a header row: name, sku, price (integer minor units), currency, stock, description, variants ("name[:price[:stock]]" joined by "|")') }),
], { message: 'give either products (a JSON array) or csv (the CSV text)' });

/** POST /api/ai-agents/{id}/test */
export const TestMessageBody = z.strictObject({
  message: z.string().trim().min(1, 'must not be empty').max(4000),
  history: z
    .array(z.strictObject({ role: z.enum(['customer', 'agent', 'ai']), text: z.string().max(4000) }))
    .max(20)
    .default([])
    .describe('The conversation so far, oldest first'),
});

export const AiAgentPage = pageOf(AiAgentBody);
export const SourcePage = pageOf(KnowledgeSourceBody);
export const QnaPage = pageOf(KnowledgeQnaBody);
export const ProductPage = pageOf(AiProductBody);
