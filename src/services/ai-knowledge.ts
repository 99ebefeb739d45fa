/**
 * An AI agent's knowledge sources and Q&A pairs. A source is stored `pending` and processed in
 * the background of the process that took the request: `processing`, its text read
 * (services/ai-knowledge-text.ts) and cut into chunks written under the source's generation,
 * then `ready` with its chunk count, or `failed` with the reason. Reprocessing starts a new
 * generation: the old chunks answer until the new ones are ready, and a run a newer generation
 * overtook writes nothing that answers. Every change bumps the agent's knowledge version, so
 * each process's search index is rebuilt before its next answer; a deleted source's chunks and
 * pairs stop answering at once.
 */
import { BodyFieldError, NotFoundError, StateError } from '../errors.js';
import { newId } from '../ids.js';
import { logger } from '../logger.js';
import {
  bumpKnowledgeVersion,
  insertChunks,
  knowledgeQna,
  knowledgeSources,
  nextSourceGeneration,
  removeChunks,
  setSourceAtGeneration,
  type KnowledgeChunk,
  type KnowledgeQna,
  type KnowledgeSource,
  type SourceKind,
  type SourceStatus,
} from '../models/knowledge.js';
import { media } from '../models/media.js';
import type { Page } from '../models/repo.js';
import { liveAiAgent } from './ai-agent-children.js';
import { chunkText, sourceFileType, SourceReadError, sourceText } from './ai-knowledge-text.js';
import type { Acting } from './agents.js';

/** Most sources one AI agent may have. */
export const MAX_SOURCES = 200;
/** Most Q&A pairs under one source. */
export const MAX_QNA_PER_SOURCE = 2000;

/** Adding a source. */
export interface CreateSource extends Acting {
  aiAgentId: string;
  kind: SourceKind;
  title: string;
  /** kind text */
  text?: string | null | undefined;
  /** kind url */
  url?: string | null | undefined;
  /** kind file: an uploaded media id */
  mediaId?: string | null | undefined;
}

/** The agent's sources, newest first. */
export async function listSources(q: Acting & { aiAgentId: string; status?: SourceStatus | undefined; page: number; limit: number }): Promise<Page<KnowledgeSource>> {
  await liveAiAgent(q.tenantId, q.aiAgentId);
  const filter = { tenant_id: q.tenantId, ai_agent_id: q.aiAgentId, ...(q.status ? { status: q.status } : {}) };
  return knowledgeSources.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** The agent's source `id`, or 404 (another agent's too). */
export async function findSource(tenantId: string, aiAgentId: string, id: string): Promise<KnowledgeSource> {
  await liveAiAgent(tenantId, aiAgentId);
  const s = await knowledgeSources.findOwnedOrNull(tenantId, id);
  if (!s || s.ai_agent_id !== aiAgentId) throw notFoundSource();
  return s;
}

const notFoundSource = () => NotFoundError('Knowledge source');

/** Adds a source and starts processing it. */
export async function createSource(cmd: CreateSource): Promise<KnowledgeSource> {
  await liveAiAgent(cmd.tenantId, cmd.aiAgentId);
  if (cmd.kind === 'text' && !cmd.text?.trim()) throw BodyFieldError('text', 'is required for a text source');
  if (cmd.kind === 'url' && !cmd.url) throw BodyFieldError('url', 'is required for a url source');
  if (cmd.kind === 'file') {
    if (!cmd.mediaId) throw BodyFieldError('media_id', 'is required for a file source (upload it through POST /api/media first)');
    const file = await media.findOwnedOrNull(cmd.tenantId, cmd.mediaId);
    if (!file) throw BodyFieldError('media_id', 'no such media in this organization', { value: cmd.mediaId });
    if (!sourceFileType(file.content_type)) {
      throw BodyFieldError('media_id', 'must be a PDF, DOCX, TXT or CSV file', { value: file.content_type });
    }
  }
  if ((await knowledgeSources.count({ tenant_id: cmd.tenantId, ai_agent_id: cmd.aiAgentId })) >= MAX_SOURCES) {
    throw StateError(`An AI agent has at most ${MAX_SOURCES} knowledge sources; delete one first`);
  }
  const source = await knowledgeSources.insert({
    _id: newId(),
    tenant_id: cmd.tenantId,
    ai_agent_id: cmd.aiAgentId,
    kind: cmd.kind,
    title: cmd.title,
    text: cmd.kind === 'text' ? (cmd.text as string) : null,
    url: cmd.kind === 'url' ? (cmd.url as string) : null,
    media_id: cmd.kind === 'file' ? (cmd.mediaId as string) : null,
    status: 'pending',
    status_reason: null,
    chunk_count: 0,
    char_count: 0,
    generation: 1,
    ready_generation: null,
    processed_at: null,
    created_by: cmd.principal.userId ?? null,
  });
  startProcessing(source);
  return source;
}

/** Reads a source again (a page that changed, a file that failed): a new generation, pending. */
export async function reprocessSource(cmd: Acting & { aiAgentId: string; id: string }): Promise<KnowledgeSource> {
  await findSource(cmd.tenantId, cmd.aiAgentId, cmd.id);
  const next = await nextSourceGeneration(cmd.tenantId, cmd.id);
  if (!next) throw notFoundSource();
  startProcessing(next);
  return next;
}

/** Deletes a source with its chunks and Q&A pairs; they stop answering at once. */
export async function deleteSource(cmd: Acting & { aiAgentId: string; id: string }): Promise<KnowledgeSource> {
  const s = await findSource(cmd.tenantId, cmd.aiAgentId, cmd.id);
  await knowledgeSources.remove(cmd.tenantId, s._id);
  await bumpKnowledgeVersion(cmd.tenantId, cmd.aiAgentId);
  await Promise.all([removeChunks(cmd.tenantId, s._id), knowledgeQna.removeMany({ tenant_id: cmd.tenantId, source_id: s._id })]);
  return s;
}

/** Removes everything an AI agent knows (the agent is being deleted). */
export async function removeAgentKnowledge(tenantId: string, aiAgentId: string): Promise<void> {
  const sources = await knowledgeSources.find({ tenant_id: tenantId, ai_agent_id: aiAgentId });
  await knowledgeSources.removeMany({ tenant_id: tenantId, ai_agent_id: aiAgentId });
  await bumpKnowledgeVersion(tenantId, aiAgentId);
  for (const s of sources) await removeChunks(tenantId, s._id);
  await knowledgeQna.removeMany({ tenant_id: tenantId, ai_agent_id: aiAgentId });
}

// Runs under way in this process, so a test or shutdown can wait for them.
const running = new Set<Promise<void>>();

/** Resolves when every processing run this process started has finished. */
export async function processingSettled(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running]);
}

function startProcessing(s: KnowledgeSource): void {
  const run = processSource(s.tenant_id, s._id, s.generation).catch((err) => logger.error({ err, sourceId: s._id }, 'knowledge source processing failed'));
  running.add(run);
  void run.finally(() => running.delete(run));
}

/** Processes one generation of a source: reads, chunks and stores it, or records why not. */
export async function processSource(tenantId: string, sourceId: string, generation: number): Promise<void> {
  const s = await knowledgeSources.findOwnedOrNull(tenantId, sourceId);
  if (!s || s.generation !== generation) return;
  if (!(await setSourceAtGeneration(tenantId, sourceId, generation, { status: 'processing' }))) return;
  let text: string;
  try {
    text = await sourceText(s);
  } catch (err) {
    const reason = err instanceof SourceReadError ? err.message : `the source could not be read: ${(err as Error).message}`;
    if (await setSourceAtGeneration(tenantId, sourceId, generation, { status: 'failed', status_reason: reason, ready_generation: null, chunk_count: 0, processed_at: new Date() })) {
      await bumpKnowledgeVersion(tenantId, s.ai_agent_id);
      await removeChunks(tenantId, sourceId);
    }
    return;
  }
  const now = new Date();
  const chunks: KnowledgeChunk[] = chunkText(text).map((t, position) => ({
    _id: newId(),
    tenant_id: tenantId,
    ai_agent_id: s.ai_agent_id,
    source_id: sourceId,
    generation,
    position,
    title: s.title,
    text: t,
    created_at: now,
    updated_at: now,
  }));
  await insertChunks(chunks);
  const ready = await setSourceAtGeneration(tenantId, sourceId, generation, {
    status: 'ready',
    status_reason: null,
    ready_generation: generation,
    chunk_count: chunks.length,
    char_count: text.length,
    processed_at: new Date(),
  });
  // Overtaken (reprocessed or deleted meanwhile): these chunks answer nothing; drop them.
  if (!ready) {
    const current = await knowledgeSources.findOwnedOrNull(tenantId, sourceId);
    await removeChunks(tenantId, sourceId, current?.ready_generation ?? null);
    return;
  }
  await bumpKnowledgeVersion(tenantId, s.ai_agent_id);
  await removeChunks(tenantId, sourceId, generation);
}

/** The Q&A pairs of a source, newest first. */
export async function listQna(q: Acting & { aiAgentId: string; sourceId: string; page: number; limit: number }): Promise<Page<KnowledgeQna>> {
  await findSource(q.tenantId, q.aiAgentId, q.sourceId);
  return knowledgeQna.page({ tenant_id: q.tenantId, source_id: q.sourceId }, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** Adding a Q&A pair. */
export interface CreateQna extends Acting {
  aiAgentId: string;
  sourceId: string;
  question: string;
  answer: string;
  alternatives: string[];
}

/** Adds a Q&A pair under a source; it answers from the next message on. */
export async function createQna(cmd: CreateQna): Promise<KnowledgeQna> {
  await findSource(cmd.tenantId, cmd.aiAgentId, cmd.sourceId);
  if ((await knowledgeQna.count({ tenant_id: cmd.tenantId, source_id: cmd.sourceId })) >= MAX_QNA_PER_SOURCE) {
    throw StateError(`A knowledge source has at most ${MAX_QNA_PER_SOURCE} Q&A pairs; add another source`);
  }
  const pair = await knowledgeQna.insert({
    _id: newId(),
    tenant_id: cmd.tenantId,
    ai_agent_id: cmd.aiAgentId,
    source_id: cmd.sourceId,
    question: cmd.question,
    answer: cmd.answer,
    alternatives: cmd.alternatives,
    created_by: cmd.principal.userId ?? null,
  });
  await bumpKnowledgeVersion(cmd.tenantId, cmd.aiAgentId);
  return pair;
}

/** Deletes a Q&A pair of a source. */
export async function deleteQna(cmd: Acting & { aiAgentId: string; sourceId: string; id: string }): Promise<KnowledgeQna> {
  await findSource(cmd.tenantId, cmd.aiAgentId, cmd.sourceId);
  const pair = await knowledgeQna.findOwnedOrNull(cmd.tenantId, cmd.id);
  if (!pair || pair.source_id !== cmd.sourceId) throw NotFoundError('Q&A pair');
  await knowledgeQna.remove(cmd.tenantId, pair._id);
  await bumpKnowledgeVersion(cmd.tenantId, cmd.aiAgentId);
  return pair;
}
