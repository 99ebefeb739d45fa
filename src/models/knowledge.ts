/**
 * An AI agent's knowledge: sources (text, a URL fetched once, an uploaded file), the chunks a
 * source's text is cut into, Q&A pairs kept under a source, and a version counter per agent.
 *
 * Every process answering customers keeps its own search index of an agent's knowledge, built
 * from these collections; any change here bumps the agent's `knowledge_versions` counter, and an
 * index whose version differs is rebuilt, so all processes answer the same without messaging.
 * Chunks and Q&A pairs carry `ai_agent_id` so the rebuild reads them by one index.
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

export const SOURCE_KINDS = ['text', 'url', 'file'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const SOURCE_STATUSES = ['pending', 'processing', 'ready', 'failed'] as const;
export type SourceStatus = (typeof SOURCE_STATUSES)[number];

/** A knowledge source of an AI agent. */
export interface KnowledgeSource extends TenantDoc {
  ai_agent_id: string;
  kind: SourceKind;
  title: string;
  /** The text itself (kind text). */
  text: string | null;
  /** The page (kind url). */
  url: string | null;
  /** The uploaded media (kind file). */
  media_id: string | null;
  status: SourceStatus;
  /** Why it failed; null otherwise. */
  status_reason: string | null;
  chunk_count: number;
  /** Characters of text read in the last processing. */
  char_count: number;
  /** Bumped by each (re)process request: a processing run of an older generation writes nothing. */
  generation: number;
  /** The generation whose chunks answer; null while none does (never processed, or failed). */
  ready_generation: number | null;
  processed_at: Date | null;
  created_by: string | null;
}

const sourceSchema = baseSchema<KnowledgeSource>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    kind: { type: String, required: true },
    title: { type: String, required: true },
    text: { type: String, default: null },
    url: { type: String, default: null },
    media_id: { type: String, default: null },
    status: { type: String, required: true },
    status_reason: { type: String, default: null },
    chunk_count: { type: Number, default: 0 },
    char_count: { type: Number, default: 0 },
    generation: { type: Number, default: 1 },
    ready_generation: { type: Number, default: null },
    processed_at: { type: Date, default: null },
    created_by: { type: String, default: null },
  },
  'knowledge_sources',
);
sourceSchema.index({ tenant_id: 1, ai_agent_id: 1, created_at: -1, _id: -1 });

export const KnowledgeSourceModel = model<KnowledgeSource>('KnowledgeSource', sourceSchema);
export const knowledgeSources = tenantRepo(KnowledgeSourceModel, 'Knowledge source');

/** A passage of a source's text. */
export interface KnowledgeChunk extends TenantDoc {
  ai_agent_id: string;
  source_id: string;
  /** The source generation that wrote it. */
  generation: number;
  /** Position in the source. */
  position: number;
  title: string;
  text: string;
}

const chunkSchema = baseSchema<KnowledgeChunk>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    source_id: { type: String, required: true },
    generation: { type: Number, required: true },
    position: { type: Number, required: true },
    title: { type: String, default: '' },
    text: { type: String, required: true },
  },
  'knowledge_chunks',
);
// The index rebuild (an agent's chunks) and a source's replacement/deletion.
chunkSchema.index({ tenant_id: 1, ai_agent_id: 1, _id: 1 });
chunkSchema.index({ tenant_id: 1, source_id: 1, generation: 1 });

export const KnowledgeChunkModel = model<KnowledgeChunk>('KnowledgeChunk', chunkSchema);
export const knowledgeChunks = tenantRepo(KnowledgeChunkModel, 'Knowledge chunk');

/** A question and its answer, under a source. */
export interface KnowledgeQna extends TenantDoc {
  ai_agent_id: string;
  source_id: string;
  question: string;
  answer: string;
  /** Other phrasings of the question that should find it. */
  alternatives: string[];
  created_by: string | null;
}

const qnaSchema = baseSchema<KnowledgeQna>(
  {
    tenant_id: { type: String, required: true },
    ai_agent_id: { type: String, required: true },
    source_id: { type: String, required: true },
    question: { type: String, required: true },
    answer: { type: String, required: true },
    alternatives: { type: [String], default: [] },
    created_by: { type: String, default: null },
  },
  'knowledge_qna',
);
qnaSchema.index({ tenant_id: 1, ai_agent_id: 1, _id: 1 });
qnaSchema.index({ tenant_id: 1, source_id: 1, created_at: -1, _id: -1 });

export const KnowledgeQnaModel = model<KnowledgeQna>('KnowledgeQna', qnaSchema);
export const knowledgeQna = tenantRepo(KnowledgeQnaModel, 'Q&A pair');

/** The knowledge version of one AI agent: `_id` is the agent's id. */
export interface KnowledgeVersion extends TenantDoc {
  version: number;
}

const versionSchema = baseSchema<KnowledgeVersion>(
  {
    tenant_id: { type: String, required: true },
    version: { type: Number, required: true, default: 0 },
  },
  'knowledge_versions',
);

export const KnowledgeVersionModel = model<KnowledgeVersion>('KnowledgeVersion', versionSchema);

/** Marks an agent's knowledge changed: every process's index of it is stale from now on. */
export async function bumpKnowledgeVersion(tenantId: string, aiAgentId: string): Promise<void> {
  await collectionOf(KnowledgeVersionModel).updateOne(
    { _id: aiAgentId as never, tenant_id: tenantId },
    { $inc: { version: 1 }, $set: { updated_at: new Date() }, $setOnInsert: { created_at: new Date() } },
    { upsert: true },
  );
}

/** The agent's current knowledge version (0 when it never changed). */
export async function knowledgeVersionOf(tenantId: string, aiAgentId: string): Promise<number> {
  const doc = (await collectionOf(KnowledgeVersionModel).findOne({ _id: aiAgentId as never, tenant_id: tenantId })) as unknown as KnowledgeVersion | null;
  return doc?.version ?? 0;
}

/** Stores a source generation's chunks in one write. */
export async function insertChunks(chunks: KnowledgeChunk[]): Promise<void> {
  if (chunks.length > 0) await collectionOf(KnowledgeChunkModel).insertMany(chunks as never[], { ordered: false });
}

/** Deletes a source's chunks, all of them or all but one generation's. */
export async function removeChunks(tenantId: string, sourceId: string, keepGeneration: number | null = null): Promise<void> {
  const filter: Record<string, unknown> = { tenant_id: tenantId, source_id: sourceId };
  if (keepGeneration !== null) filter.generation = { $ne: keepGeneration };
  await KnowledgeChunkModel.deleteMany(filter).exec();
}

/**
 * Sets fields of a source only while it is at `generation` (a reprocess since then, or a
 * deletion, makes the older run's result void); false when it no longer is.
 */
export async function setSourceAtGeneration(tenantId: string, sourceId: string, generation: number, set: Partial<KnowledgeSource>): Promise<boolean> {
  const res = await collectionOf(KnowledgeSourceModel).updateOne({ _id: sourceId, tenant_id: tenantId, generation }, { $set: { ...set, updated_at: new Date() } });
  return res.matchedCount === 1;
}

/** Starts a new generation of a source (reprocess): pending again; answers the source as it is now, or null when gone. */
export async function nextSourceGeneration(tenantId: string, sourceId: string): Promise<KnowledgeSource | null> {
  return (await collectionOf(KnowledgeSourceModel).findOneAndUpdate(
    { _id: sourceId, tenant_id: tenantId },
    { $inc: { generation: 1 }, $set: { status: 'pending', status_reason: null, updated_at: new Date() } },
    { returnDocument: 'after' },
  )) as unknown as KnowledgeSource | null;
}
