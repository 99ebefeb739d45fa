/**
 * The built-in retrieval over an AI agent's knowledge: Q&A pairs, passages of its sources and its
 * products, in one in-memory index per tenant and agent.
 *
 * Hybrid keyword retrieval. Query words are turned into search forms (services/ai-terms.ts:
 * Indonesian and English stems, chat spellings), each resolved against the index's vocabulary,
 * exactly or within a typo or two ("surbaya" -> surabaya); the items holding those forms, ranked by
 * their summed rarity, are the candidates; each candidate is then scored by how much of the question it covers, weighted by
 * how rare each word is (a word no document has weighs most, so an unrelated question covers
 * little), and, for a Q&A pair, how much of the pair's own question the query covers. That
 * score, 0..1, is the confidence the agent's threshold is compared with.
 *
 * The index is built from MongoDB in whichever process answers and kept with the agent's
 * knowledge version (models/knowledge.ts); every change bumps the version, so the next answer
 * in any process sees a stale index and rebuilds it first: all processes answer alike, and a
 * deleted source stops answering at once.
 */
import { aiProducts, type AiProduct } from '../models/ai-product.js';
import { knowledgeChunks, knowledgeQna, knowledgeSources, knowledgeVersionOf, type KnowledgeChunk, type KnowledgeQna } from '../models/knowledge.js';
import { contentWords, documentForms, editDistance, formsOf, queryTerms, typoAllowance, type QueryTerm } from './ai-terms.js';

/** What a retrieved item is. */
export type SourceKind = 'qna' | 'chunk' | 'product';

/** One indexed item. */
interface Entry {
  kind: SourceKind;
  id: string;
  title: string;
  /** What the answer is made from: a Q&A answer, a passage. */
  text: string;
  /** Every form the item is found by. */
  forms: Set<string>;
  /** The words of its own question (Q&A) or name (product), for how much of it a query covers. */
  head: string[];
  product: AiProduct | null;
  source_id: string | null;
}

/** One scored item. */
export interface Hit {
  kind: SourceKind;
  id: string;
  title: string;
  text: string;
  score: number;
  product: AiProduct | null;
  source_id: string | null;
}

/** The search index of one agent's knowledge at one version. */
export class KnowledgeIndex {
  private readonly entries = new Map<string, Entry>();
  /** How many items hold each form. */
  private readonly df = new Map<string, number>();
  /** The vocabulary by first letter, for typo matching. */
  private readonly byInitial = new Map<string, string[]>();
  /** Which items hold each form (the inverted index). */
  private readonly postings = new Map<string, string[]>();

  constructor(
    readonly version: number,
    items: { qna: KnowledgeQna[]; chunks: KnowledgeChunk[]; products: AiProduct[] },
  ) {
    const add = (e: Entry) => {
      const key = `${e.kind}:${e.id}`;
      this.entries.set(key, e);
      for (const f of e.forms) {
        this.df.set(f, (this.df.get(f) ?? 0) + 1);
        const list = this.postings.get(f);
        if (list) list.push(key);
        else this.postings.set(f, [key]);
      }
    };
    for (const q of items.qna) {
      const question = [q.question, ...q.alternatives].join(' \n ');
      const forms = documentForms(`${question} ${q.answer}`);
      add({ kind: 'qna', id: q._id, title: q.question, text: q.answer, forms, head: contentWords(question), product: null, source_id: q.source_id });
    }
    for (const c of items.chunks) {
      add({ kind: 'chunk', id: c._id, title: c.title, text: c.text, forms: documentForms(`${c.title} ${c.text}`), head: [], product: null, source_id: c.source_id });
    }
    for (const p of items.products) {
      const words = [p.name, p.sku ?? '', p.description, ...p.variants.map((v) => v.name)].join(' ');
      add({ kind: 'product', id: p._id, title: p.name, text: p.description, forms: documentForms(words), head: contentWords(p.name), product: p, source_id: null });
    }
    for (const form of this.df.keys()) {
      const initial = form[0] as string;
      const list = this.byInitial.get(initial) ?? [];
      list.push(form);
      this.byInitial.set(initial, list);
    }
  }

  /** How many items the index holds. */
  get size(): number {
    return this.entries.size;
  }

  private idf(form: string): number {
    const n = this.entries.size;
    const df = this.df.get(form) ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** The vocabulary forms a query term stands for: its own forms, else those within its typo allowance. */
  private resolve(term: QueryTerm): { exact: string[]; fuzzy: string[] } {
    const exact = term.forms.filter((f) => this.df.has(f));
    if (exact.length > 0) return { exact, fuzzy: [] };
    const max = typoAllowance(term.word);
    if (max === 0) return { exact, fuzzy: [] };
    const fuzzy = (this.byInitial.get(term.word[0] as string) ?? []).filter((f) => editDistance(term.word, f, max) <= max);
    return { exact, fuzzy };
  }

  /**
   * The items best answering `text`, best first, each with its confidence (0..1). `exclude`
   * words (e.g. "harga", "stok") are left out of the coverage: they ask about a product, they do
   * not name it.
   */
  retrieve(text: string, limit = 5, exclude: ReadonlySet<string> = new Set()): Hit[] {
    const terms = queryTerms(text).filter((t) => !exclude.has(t.word));
    if (terms.length === 0 || this.entries.size === 0) return [];
    const unknownIdf = Math.log(1 + (this.entries.size + 0.5) / 0.5);
    const resolved = terms.map((t) => {
      const r = this.resolve(t);
      const all = [...r.exact, ...r.fuzzy];
      const weight = all.length > 0 ? Math.max(...all.map((f) => this.idf(f))) : unknownIdf;
      return { term: t, exact: r.exact, fuzzy: r.fuzzy, weight };
    });
    const searchForms = [...new Set(resolved.flatMap((r) => [...r.exact, ...r.fuzzy]))];
    if (searchForms.length === 0) return [];
    const found = this.candidates(searchForms, 50);
    const totalWeight = resolved.reduce((s, r) => s + r.weight, 0);
    // Every form the query reaches, for how much of an item's own question it covers.
    const queryForms = new Set([...terms.flatMap((t) => t.forms), ...searchForms]);
    const hits: Hit[] = [];
    for (const h of found) {
      const e = this.entries.get(h.id);
      if (!e) continue;
      let covered = 0;
      for (const r of resolved) {
        if (r.exact.some((f) => e.forms.has(f))) covered += r.weight;
        else if (r.fuzzy.some((f) => e.forms.has(f))) covered += r.weight * 0.8;
      }
      const queryCoverage = covered / totalWeight;
      let score: number;
      if (e.head.length > 0) {
        const own = e.head.filter((w) => !exclude.has(w));
        const ownCoverage = own.length === 0 ? 0 : own.filter((w) => formsOf(w).some((f) => queryForms.has(f))).length / own.length;
        score = 0.65 * queryCoverage + 0.35 * ownCoverage;
      } else {
        // A passage is longer than a question: covering the query is all it can show.
        score = 0.85 * queryCoverage;
      }
      hits.push({ kind: e.kind, id: e.id, title: e.title, text: e.text, score: Math.round(score * 1000) / 1000, product: e.product, source_id: e.source_id });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, limit);
  }

  /** The items holding any of `forms`, best first by the summed rarity of the forms they hold (BM25 without length). */
  private candidates(forms: string[], limit: number): { id: string; score: number }[] {
    const scores = new Map<string, number>();
    for (const f of forms) {
      const idf = this.idf(f);
      for (const key of this.postings.get(f) ?? []) scores.set(key, (scores.get(key) ?? 0) + idf);
    }
    return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score).slice(0, limit);
  }

  /** A plain keyword search of the same index (the words as typed: no stems, chat spellings, typos or coverage scoring): the benchmark's baseline. */
  keywordSearch(text: string, limit = 5): { id: string; score: number }[] {
    const words = [...new Set(text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean))];
    return this.candidates(words, limit);
  }
}

/** Builds the index of an agent's knowledge as stored now. */
export async function buildKnowledgeIndex(tenantId: string, aiAgentId: string): Promise<KnowledgeIndex> {
  // Read the version first: a change landing during the reads leaves this index older than the
  // counter, so the next answer rebuilds rather than keep a mix.
  const version = await knowledgeVersionOf(tenantId, aiAgentId);
  const scope = { tenant_id: tenantId, ai_agent_id: aiAgentId };
  const [sources, qna, chunks, products] = await Promise.all([
    knowledgeSources.find(scope, { _id: 1 }),
    knowledgeQna.find(scope, { _id: 1 }),
    knowledgeChunks.find(scope, { _id: 1 }),
    aiProducts.find(scope, { _id: 1 }),
  ]);
  // Only the chunks of each source's ready generation answer: a run still writing, or one a
  // reprocess or deletion overtook, leaves chunks that no source vouches for.
  const served = new Map(sources.map((s) => [s._id, s.ready_generation]));
  const live = new Set(sources.map((s) => s._id));
  return new KnowledgeIndex(version, {
    qna: qna.filter((q) => live.has(q.source_id)),
    chunks: chunks.filter((c) => served.get(c.source_id) === c.generation),
    products,
  });
}

// Indexes this process holds, by tenant and agent; a build in progress is shared.
const indexes = new Map<string, Promise<KnowledgeIndex>>();
// Agents whose index is kept at most; past it the least recently used is dropped.
const MAX_INDEXES = 200;

/** The agent's index at its current knowledge version, rebuilt when stale. */
export async function knowledgeIndex(tenantId: string, aiAgentId: string): Promise<KnowledgeIndex> {
  const key = `${tenantId}:${aiAgentId}`;
  const current = await knowledgeVersionOf(tenantId, aiAgentId);
  const held = indexes.get(key);
  if (held) {
    const index = await held.catch(() => null);
    if (index && index.version === current) {
      indexes.delete(key);
      indexes.set(key, held);
      return index;
    }
    // Another caller may have started the rebuild while this one waited.
    const latest = indexes.get(key);
    if (latest && latest !== held) return knowledgeIndex(tenantId, aiAgentId);
  }
  const building = buildKnowledgeIndex(tenantId, aiAgentId);
  indexes.delete(key);
  indexes.set(key, building);
  building.catch(() => {
    if (indexes.get(key) === building) indexes.delete(key);
  });
  while (indexes.size > MAX_INDEXES) indexes.delete(indexes.keys().next().value as string);
  return building;
}
