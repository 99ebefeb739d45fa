/**
 * AI Agents: the agents themselves, their knowledge (sources, Q&A pairs), their products, and a
 * test message. Assignments, handoff and orchestration rules, evaluations and usage are in
 * ai-agent-operations.ts, mounted before this group.
 */
import {
  AiAgentBody,
  AiProductBody,
  AiTestAnswerBody,
  KnowledgeQnaBody,
  KnowledgeSourceBody,
  ProductImportBody,
  presentAiAgent,
  presentAiProduct,
  presentAiTestAnswer,
  presentKnowledgeQna,
  presentKnowledgeSource,
  presentProductImport,
} from '../../presenters/ai-agent.js';
import { presentPage } from '../../presenters/page.js';
import { createAiAgent, deleteAiAgent, getAiAgent, listAiAgents, testAiAgent, toggleAiAgent, updateAiAgent } from '../../services/ai-agents.js';
import { createQna, createSource, deleteQna, deleteSource, listQna, listSources, reprocessSource } from '../../services/ai-knowledge.js';
import { createProduct, csvRows, deleteProduct, importProducts, listProducts, updateProduct } from '../../services/ai-products.js';
import { acting } from '../../services/agents.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody, PageQuery } from '../schemas/common.js';
import {
  AiAgentPage,
  BulkProductsBody,
  CreateAiAgentBody,
  CreateProductBody,
  CreateQnaBody,
  CreateSourceBody,
  ListAiAgentsQuery,
  ListSourcesQuery,
  ProductPage,
  ProductParams,
  QnaPage,
  QnaParams,
  SourcePage,
  SourceParams,
  TestMessageBody,
  UpdateAiAgentBody,
  UpdateProductBody,
} from './ai-agents.schema.js';

const NOT_FOUND = 'Another tenant’s or a deleted AI agent (or a child of another AI agent) answers 404.';

/** The body's agent fields under the service's names. */
const agentFields = (b: { confidence_threshold?: number | undefined } & Record<string, unknown>) => {
  const { confidence_threshold: confidenceThreshold, ...rest } = b;
  return { ...rest, ...(confidenceThreshold !== undefined ? { confidenceThreshold } : {}) };
};

/** The AI Agents group. */
export const aiAgentRoutes: RouteGroup = {
  group: 'AI Agents',
  routes: [
    route({
      method: 'get',
      path: '/api/ai-agents',
      summary: 'List all AI agents',
      description: 'Newest first; `active` filters by state. Deleted agents are not listed.',
      access: 'ai_agents.view',
      query: ListAiAgentsQuery,
      response: AiAgentPage,
      handler: async ({ query, principal }) => presentPage(await listAiAgents({ ...acting(principal), ...query }), presentAiAgent),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents',
      summary: 'Create a new AI agent',
      description: 'The built-in retrieval responder answers by default; an `openai` responder needs base_url and model (and usually api_key, stored encrypted and never shown).',
      access: 'ai_agents.manage',
      body: CreateAiAgentBody,
      response: AiAgentBody,
      status: 201,
      audit: { action: 'ai_agent.created', resource: 'ai_agent', target: ({ result }) => result.id },
      handler: async ({ body, principal }) => presentAiAgent(await createAiAgent({ ...acting(principal), ...agentFields(body), name: body.name })),
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}',
      summary: 'Get an AI agent by ID',
      description: NOT_FOUND,
      access: 'ai_agents.view',
      params: IdParams,
      response: AiAgentBody,
      handler: async ({ params, principal }) => presentAiAgent(await getAiAgent({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'put',
      path: '/api/ai-agents/{id}',
      summary: 'Update an AI agent',
      description: `The fields given change; in \`responder\`, the fields given change and an absent api_key keeps the stored one. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: UpdateAiAgentBody,
      response: AiAgentBody,
      audit: { action: 'ai_agent.updated', resource: 'ai_agent' },
      handler: async ({ params, body, principal }) => presentAiAgent(await updateAiAgent({ ...acting(principal), id: params.id, ...agentFields(body) })),
    }),
    route({
      method: 'delete',
      path: '/api/ai-agents/{id}',
      summary: 'Delete an AI agent',
      description: `It stops answering at once; its knowledge sources, Q&A pairs and products are removed. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      response: MessageBody,
      audit: { action: 'ai_agent.deleted', resource: 'ai_agent' },
      handler: async ({ params, principal }) => {
        await deleteAiAgent({ ...acting(principal), id: params.id });
        return { message: 'AI agent deleted' };
      },
    }),
    route({
      method: 'put',
      path: '/api/ai-agents/{id}/toggle',
      summary: 'Toggle AI agent active state',
      description: `Switches an active agent off and an inactive one on; answers the agent. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      response: AiAgentBody,
      audit: { action: 'ai_agent.toggled', resource: 'ai_agent' },
      handler: async ({ params, principal }) => presentAiAgent(await toggleAiAgent({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}/knowledge-sources',
      summary: 'List knowledge sources for an AI agent',
      description: `Newest first, each with its processing status and chunk count. ${NOT_FOUND}`,
      access: 'ai_agents.view',
      params: IdParams,
      query: ListSourcesQuery,
      response: SourcePage,
      handler: async ({ params, query, principal }) => presentPage(await listSources({ ...acting(principal), aiAgentId: params.id, ...query }), presentKnowledgeSource),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/knowledge-sources',
      summary: 'Add a knowledge source',
      description:
        'Stored `pending` and processed in the background (`processing`, then `ready` with its chunk count or `failed` with status_reason): a url is fetched once through the outbound guard (5 MB, 10 s, no redirects; HTML becomes text); a file is an uploaded media id (PDF, DOCX, TXT or CSV). ' +
        `Q&A pairs can be added under any source. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: CreateSourceBody,
      response: KnowledgeSourceBody,
      status: 201,
      errors: { 422: 'The AI agent already has 200 knowledge sources' },
      audit: { action: 'knowledge_source.created', resource: 'knowledge_source', target: ({ result }) => result.id },
      handler: async ({ params, body, principal }) =>
        presentKnowledgeSource(await createSource({ ...acting(principal), aiAgentId: params.id, kind: body.kind, title: body.title, text: body.text, url: body.url, mediaId: body.media_id })),
    }),
    route({
      method: 'delete',
      path: '/api/ai-agents/{id}/knowledge-sources/{sourceId}',
      summary: 'Delete a knowledge source',
      description: `Its chunks and Q&A pairs are removed and stop answering at once. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: SourceParams,
      response: MessageBody,
      audit: { action: 'knowledge_source.deleted', resource: 'knowledge_source', target: ({ params }) => params.sourceId ?? null },
      handler: async ({ params, principal }) => {
        await deleteSource({ ...acting(principal), aiAgentId: params.id, id: params.sourceId });
        return { message: 'Knowledge source deleted' };
      },
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/knowledge-sources/{sourceId}/reprocess',
      summary: 'Reprocess a knowledge source',
      description: `Reads the source again (a url is fetched again): pending, then processing, then ready or failed. Its current chunks answer until the new ones are ready. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: SourceParams,
      response: KnowledgeSourceBody,
      status: 202,
      audit: { action: 'knowledge_source.reprocessed', resource: 'knowledge_source', target: ({ params }) => params.sourceId ?? null },
      handler: async ({ params, principal }) => presentKnowledgeSource(await reprocessSource({ ...acting(principal), aiAgentId: params.id, id: params.sourceId })),
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}/knowledge-sources/{sourceId}/qna',
      summary: 'List QnA pairs for a knowledge source',
      description: `Newest first. ${NOT_FOUND}`,
      access: 'ai_agents.view',
      params: SourceParams,
      query: PageQuery,
      response: QnaPage,
      handler: async ({ params, query, principal }) => presentPage(await listQna({ ...acting(principal), aiAgentId: params.id, sourceId: params.sourceId, ...query }), presentKnowledgeQna),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/knowledge-sources/{sourceId}/qna',
      summary: 'Add a QnA pair',
      description: `The pair answers from the next message on; \`alternatives\` are other phrasings of the question that should find it. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: SourceParams,
      body: CreateQnaBody,
      response: KnowledgeQnaBody,
      status: 201,
      errors: { 422: 'The source already has 2000 Q&A pairs' },
      audit: { action: 'knowledge_qna.created', resource: 'knowledge_qna', target: ({ result }) => result.id },
      handler: async ({ params, body, principal }) => presentKnowledgeQna(await createQna({ ...acting(principal), aiAgentId: params.id, sourceId: params.sourceId, ...body })),
    }),
    route({
      method: 'delete',
      path: '/api/ai-agents/{id}/knowledge-sources/{sourceId}/qna/{qnaId}',
      summary: 'Delete a QnA pair',
      description: NOT_FOUND,
      access: 'ai_agents.manage',
      params: QnaParams,
      response: MessageBody,
      audit: { action: 'knowledge_qna.deleted', resource: 'knowledge_qna', target: ({ params }) => params.qnaId ?? null },
      handler: async ({ params, principal }) => {
        await deleteQna({ ...acting(principal), aiAgentId: params.id, sourceId: params.sourceId, id: params.qnaId });
        return { message: 'Q&A pair deleted' };
      },
    }),
    route({
      method: 'get',
      path: '/api/ai-agents/{id}/products',
      summary: 'List products for an AI agent',
      description: `By name. ${NOT_FOUND}`,
      access: 'ai_agents.view',
      params: IdParams,
      query: PageQuery,
      response: ProductPage,
      handler: async ({ params, query, principal }) => presentPage(await listProducts({ ...acting(principal), aiAgentId: params.id, ...query }), presentAiProduct),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/products',
      summary: 'Create a product',
      description: `Prices are integer minor units of the currency (IDR 15000 = Rp15.000). A SKU names one product of the AI agent. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: CreateProductBody,
      response: AiProductBody,
      status: 201,
      errors: { 409: 'Another product of the AI agent has this SKU' },
      audit: { action: 'ai_product.created', resource: 'ai_product', target: ({ result }) => result.id },
      handler: async ({ params, body, principal }) => presentAiProduct(await createProduct({ ...acting(principal), aiAgentId: params.id, product: body })),
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/products/bulk',
      summary: 'Bulk import products',
      description:
        'Either `products` (JSON, as POST /products takes them) or `csv` (header row: name, sku, price, currency, stock, description, variants). Every row is checked first: any problem answers 400 with details ' +
        `[{row, field, message}] for every row, and nothing is imported. Otherwise a row whose SKU the agent has updates that product, the others are created. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: BulkProductsBody,
      response: ProductImportBody,
      audit: { action: 'ai_product.imported', resource: 'ai_product', target: ({ params }) => params.id ?? null },
      handler: async ({ params, body, principal }) =>
        presentProductImport(await importProducts({ ...acting(principal), aiAgentId: params.id, rows: 'csv' in body ? csvRows(body.csv) : body.products })),
    }),
    route({
      method: 'put',
      path: '/api/ai-agents/{id}/products/{productId}',
      summary: 'Update a product',
      description: `The fields given change. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: ProductParams,
      body: UpdateProductBody,
      response: AiProductBody,
      errors: { 409: 'Another product of the AI agent has this SKU' },
      audit: { action: 'ai_product.updated', resource: 'ai_product', target: ({ params }) => params.productId ?? null },
      handler: async ({ params, body, principal }) => presentAiProduct(await updateProduct({ ...acting(principal), aiAgentId: params.id, id: params.productId, set: body })),
    }),
    route({
      method: 'delete',
      path: '/api/ai-agents/{id}/products/{productId}',
      summary: 'Delete a product',
      description: NOT_FOUND,
      access: 'ai_agents.manage',
      params: ProductParams,
      response: MessageBody,
      audit: { action: 'ai_product.deleted', resource: 'ai_product', target: ({ params }) => params.productId ?? null },
      handler: async ({ params, principal }) => {
        await deleteProduct({ ...acting(principal), aiAgentId: params.id, id: params.productId });
        return { message: 'Product deleted' };
      },
    }),
    route({
      method: 'post',
      path: '/api/ai-agents/{id}/test',
      summary: 'Send a test message to an AI agent',
      description: `Answers a sample message as the AI agent would (active or not), with its confidence, threshold and sources; answer null means it would not answer. Nothing is recorded or sent. ${NOT_FOUND}`,
      access: 'ai_agents.manage',
      params: IdParams,
      body: TestMessageBody,
      response: AiTestAnswerBody,
      errors: { 502: 'The AI agent’s model endpoint refused or did not answer (its message says why)' },
      audit: 'none',
      handler: async ({ params, body, principal }) => presentAiTestAnswer(await testAiAgent({ ...acting(principal), id: params.id, message: body.message, history: body.history })),
    }),
  ],
};
