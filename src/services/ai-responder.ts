/**
 * Answers a customer's message from an AI agent's knowledge. Two responders:
 *
 * - retrieval (the default, no network): the best Q&A pair's answer, or the best sentences of a
 *   passage, or, for a question about a product's price, stock or variants, an answer made from
 *   the product's fields; with its sources and confidence (services/ai-retrieval.ts). Below the
 *   agent's threshold there is no answer.
 * - openai: the same retrieval first; when it reaches the threshold, an OpenAI-compatible
 *   endpoint (POST {base_url}/chat/completions, non-streaming) is asked with the agent's
 *   instructions, the retrieved passages as context and the conversation so far, and its reply
 *   is the answer, with the token usage it reports. Nothing retrieved, nothing asked: the model
 *   answers from the tenant's knowledge or not at all.
 *
 * Answering changes nothing; callers record usage and send the reply.
 */
import { AppError, NotFoundError } from '../errors.js';
import { aiAgentKeyContext, aiAgents, type AiAgent } from '../models/ai-agent.js';
import type { AiProduct } from '../models/ai-product.js';
import { decryptSecret } from '../crypto/secrets.js';
import { formatMoney } from './ai-money.js';
import { knowledgeIndex, type Hit, type KnowledgeIndex } from './ai-retrieval.js';
import { contentWords } from './ai-terms.js';
import { GuardedRequestError, guardedRequest } from './ai-http.js';

/** An answer, or none, and what it stands on. */
export interface AiAnswer {
  /** Null: nothing reached the agent's threshold. */
  answer: string | null;
  /** 0..1. */
  confidence: number;
  sources: { kind: 'qna' | 'chunk' | 'product'; id: string; title: string; score: number }[];
  /** Tokens a model responder used; null for the retrieval responder. */
  usage: { tokens_in: number; tokens_out: number } | null;
  responder: 'retrieval' | 'openai';
}

/** One earlier message of the conversation. */
export interface HistoryTurn {
  role: 'customer' | 'agent' | 'ai';
  text: string;
}

/** The responder failed to answer (the model endpoint refused or did not answer): a 502 naming why. */
export const ResponderError = (message: string) => new AppError(502, 'ai_responder_failed', message);

// Words asking about a product rather than naming it.
const PRICE_WORDS = new Set(['harga', 'harganya', 'price', 'prices', 'cost', 'costs', 'berapaan', 'biaya', 'murah', 'mahal']);
const STOCK_WORDS = new Set(['stok', 'stock', 'stocks', 'ready', 'tersedia', 'available', 'availability', 'habis', 'sisa', 'ready stock', 'instock']);
const VARIANT_WORDS = new Set(['varian', 'variant', 'variants', 'ukuran', 'size', 'sizes', 'warna', 'color', 'colors', 'colour', 'colours', 'tipe', 'type', 'pilihan', 'options']);
const PRODUCT_ASKING = new Set([...PRICE_WORDS, ...STOCK_WORDS, ...VARIANT_WORDS]);

// Words that mark a message as English for an agent answering in the customer's language.
const ENGLISH_MARKS = new Set(['the', 'is', 'are', 'do', 'does', 'you', 'how', 'what', 'can', 'price', 'stock', 'available', 'much', 'have', 'my', 'i', 'please', 'when', 'where']);
const INDONESIAN_MARKS = new Set(['apa', 'berapa', 'brp', 'harga', 'stok', 'ada', 'bisa', 'yang', 'ga', 'gak', 'tidak', 'kak', 'min', 'dong', 'nya', 'ini', 'itu', 'saya', 'kapan', 'dimana', 'gimana', 'mau']);

/** The language to answer `text` in. */
export function answerLanguage(agent: Pick<AiAgent, 'language'>, text: string): 'id' | 'en' {
  if (agent.language !== 'auto') return agent.language;
  const words = text.toLowerCase().split(/[^a-z]+/);
  const en = words.filter((w) => ENGLISH_MARKS.has(w)).length;
  const id = words.filter((w) => INDONESIAN_MARKS.has(w)).length;
  return en > id ? 'en' : 'id';
}

/** The customer's message and, when it is short, the one before it: "yg merah?" after "ada kaos polos?". */
function questionOf(text: string, history: HistoryTurn[]): string {
  const previous = [...history].reverse().find((t) => t.role === 'customer');
  return previous && contentWords(text).length <= 2 ? `${previous.text} ${text}` : text;
}

/** The product fields the customer asked about, in their language. */
export function productAnswer(p: AiProduct, text: string, lang: 'id' | 'en'): string {
  const words = new Set(contentWords(text).concat(text.toLowerCase().split(/[^a-z]+/)));
  const asks = (set: Set<string>) => [...set].some((w) => words.has(w));
  const price = asks(PRICE_WORDS);
  const stock = asks(STOCK_WORDS);
  const variants = asks(VARIANT_WORDS);
  const all = !price && !stock && !variants;
  const en = lang === 'en';
  const stockText = (n: number | null) => (n === null ? (en ? 'available' : 'tersedia') : n > 0 ? (en ? `${n} in stock` : `stok ${n}`) : en ? 'out of stock' : 'stok habis');
  const parts: string[] = [];
  if (price || all) parts.push(en ? `${p.name} costs ${formatMoney(p.price, p.currency, lang)}.` : `Harga ${p.name} ${formatMoney(p.price, p.currency, lang)}.`);
  if (stock || all) parts.push(en ? `Stock: ${stockText(p.stock)}.` : `Stok: ${stockText(p.stock)}.`);
  if (p.variants.length > 0 && (variants || all || stock)) {
    const list = p.variants
      .map((v) => {
        const extra = [v.price !== null && v.price !== p.price ? formatMoney(v.price, p.currency, lang) : null, v.stock !== null ? stockText(v.stock) : null].filter(Boolean);
        return extra.length > 0 ? `${v.name} (${extra.join(', ')})` : v.name;
      })
      .join(', ');
    parts.push(en ? `Variants: ${list}.` : `Varian: ${list}.`);
  } else if (variants) {
    parts.push(en ? 'It comes in one variant only.' : 'Produk ini hanya ada satu varian.');
  }
  return parts.join(' ');
}

// The most characters of a passage given as an answer.
const PASSAGE_MAX = 600;

/** The sentences of a passage that cover the question best (at most PASSAGE_MAX characters, in order). */
export function bestSentences(passage: string, text: string): string {
  const sentences = passage.split(/(?<=[.!?])\s+|\n+/).map((s) => s.trim()).filter(Boolean);
  if (passage.length <= PASSAGE_MAX || sentences.length <= 1) return passage.slice(0, PASSAGE_MAX).trim();
  const wanted = new Set(contentWords(text));
  const scored = sentences.map((s, i) => ({ i, s, n: contentWords(s).filter((w) => wanted.has(w) || [...wanted].some((q) => q.length >= 4 && w.startsWith(q.slice(0, 4)))).length }));
  const best = [...scored].sort((a, b) => b.n - a.n || a.i - b.i)[0] as (typeof scored)[number];
  let out = best.s;
  for (let j = best.i + 1; j < sentences.length && out.length + (sentences[j] as string).length + 1 <= PASSAGE_MAX; j++) out += ` ${sentences[j]}`;
  return out.slice(0, PASSAGE_MAX);
}

/** What retrieval found for a message: the best hit to answer from, and the sources to show. */
export interface Retrieval {
  best: Hit | null;
  hits: Hit[];
  productQuestion: boolean;
}

/** Retrieves from the agent's knowledge for `text`. */
export async function retrieveFor(agent: AiAgent, text: string): Promise<Retrieval> {
  return retrieveFrom(await knowledgeIndex(agent.tenant_id, agent._id), text);
}

/** Retrieves from an index for `text`: product questions score products without their asking words. */
export function retrieveFrom(index: KnowledgeIndex, text: string): Retrieval {
  const words = new Set(contentWords(text).concat(text.toLowerCase().split(/[^a-z]+/)));
  const productQuestion = [...PRODUCT_ASKING].some((w) => words.has(w));
  const general = index.retrieve(text, 5);
  let hits = general;
  if (productQuestion) {
    // The product is named by the words around "harga"/"stok": score without them.
    const products = index.retrieve(text, 5, PRODUCT_ASKING).filter((h) => h.kind === 'product');
    hits = [...products, ...general.filter((h) => h.kind !== 'product')].sort((a, b) => b.score - a.score);
  }
  // A Q&A pair says what the tenant wants said: it wins over a passage of about the same score.
  const ranked = [...hits].sort((a, b) => weight(b) - weight(a));
  return { best: ranked[0] ?? null, hits: ranked, productQuestion };
}

const weight = (h: Hit) => h.score + (h.kind === 'qna' ? 0.05 : 0);

const sourcesOf = (hits: Hit[]) => hits.slice(0, 3).map((h) => ({ kind: h.kind, id: h.id, title: h.title, score: h.score }));

/** The retrieval responder's answer to `text`: null below the agent's threshold. */
export function composeAnswer(agent: Pick<AiAgent, 'confidence_threshold' | 'language'>, r: Retrieval, text: string): string | null {
  const best = r.best;
  if (!best || best.score < agent.confidence_threshold) return null;
  if (best.kind === 'product' && best.product) return productAnswer(best.product, text, answerLanguage(agent, text));
  if (best.kind === 'qna') return best.text;
  return bestSentences(best.text, text);
}

/** Answers `text` as the tenant's AI agent; the answer is null below its threshold. */
export async function answerCustomer(tenantId: string, aiAgentId: string, text: string, history: HistoryTurn[] = []): Promise<AiAnswer> {
  const agent = await aiAgents.findOwnedOrNull(tenantId, aiAgentId);
  if (!agent || agent.deleted_at) throw NotFoundError('AI agent');
  return answerAs(agent, text, history);
}

/** Answers `text` as `agent`. */
export async function answerAs(agent: AiAgent, text: string, history: HistoryTurn[] = []): Promise<AiAnswer> {
  const question = questionOf(text, history);
  const r = await retrieveFor(agent, question);
  const confidence = r.best?.score ?? 0;
  const sources = sourcesOf(r.hits);
  const composed = composeAnswer(agent, r, question);
  if (agent.responder.kind !== 'openai') return { answer: composed, confidence, sources, usage: null, responder: 'retrieval' };
  if (composed === null) return { answer: null, confidence, sources, usage: null, responder: 'openai' };
  const reply = await askChatModel(agent, text, history, r, question);
  return { answer: reply.text, confidence, sources, usage: reply.usage, responder: 'openai' };
}

// Attempts of a chat completion: the first and two retries of a 429, a 5xx or no answer.
const ATTEMPTS = 3;
// The longest wait between attempts, whatever Retry-After asks.
const MAX_BACKOFF_MS = 2000;
// The most bytes of a chat completion read.
const COMPLETION_MAX_BYTES = 1 << 20;

/** The retrieved context as the model is given it. */
function contextOf(agent: AiAgent, r: Retrieval, question: string): string {
  const lang = answerLanguage(agent, question);
  return r.hits
    .filter((h) => h.score >= agent.confidence_threshold * 0.5)
    .slice(0, 5)
    .map((h, i) => {
      const body = h.kind === 'qna' ? `Q: ${h.title}\nA: ${h.text}` : h.kind === 'product' && h.product ? `${h.title}: ${productAnswer(h.product, '', lang)} ${h.text}` : bestSentences(h.text, question);
      return `[${i + 1}] (${h.kind}) ${body}`;
    })
    .join('\n\n');
}

/** The model's error message from an OpenAI-style error body, or the status. */
function errorMessage(status: number, body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown } | string };
    const message = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message;
    if (typeof message === 'string' && message) return `HTTP ${status}: ${message.slice(0, 300)}`;
  } catch {
    // Not JSON: the status says enough.
  }
  return `HTTP ${status}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks the agent's chat endpoint; ResponderError when it does not answer. */
async function askChatModel(agent: AiAgent, text: string, history: HistoryTurn[], r: Retrieval, question: string): Promise<{ text: string; usage: { tokens_in: number; tokens_out: number } }> {
  const { base_url: baseUrl, model, api_key_encrypted: encrypted, timeout_ms: timeoutMs } = agent.responder;
  if (!baseUrl || !model) throw ResponderError('The AI agent’s model responder has no base_url or model');
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/chat/completions`);
  const lang = answerLanguage(agent, text);
  const system = [
    agent.instructions || 'You are a customer service assistant.',
    `Answer in ${lang === 'en' ? 'English' : 'Indonesian (Bahasa Indonesia)'}, briefly, only from the context below. If the context does not answer the question, say you will pass it to a colleague.`,
    `Context:\n${contextOf(agent, r, question)}`,
  ].join('\n\n');
  const messages = [
    { role: 'system', content: system },
    ...history.map((t) => ({ role: t.role === 'customer' ? 'user' : 'assistant', content: t.text })),
    { role: 'user', content: text },
  ];
  const body = JSON.stringify({ model, messages, stream: false, temperature: 0.2 });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (encrypted) headers.authorization = `Bearer ${decryptSecret(encrypted, { context: aiAgentKeyContext(agent._id) })}`;
  let lastError = 'no attempt made';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let retryAfterMs = 250 * 2 ** (attempt - 1);
    try {
      const res = await guardedRequest(url, { method: 'POST', headers, body, timeoutMs, maxBytes: COMPLETION_MAX_BYTES });
      if (res.status >= 200 && res.status < 300) return parseCompletion(res.body);
      lastError = errorMessage(res.status, res.body);
      // A 4xx other than 429 (a wrong key, an unknown model) will not change by asking again.
      if (res.status !== 429 && res.status < 500) break;
      const retryAfter = Number(res.headers['retry-after']);
      if (Number.isFinite(retryAfter) && retryAfter >= 0) retryAfterMs = retryAfter * 1000;
    } catch (err) {
      if (!(err instanceof GuardedRequestError)) throw err;
      lastError = err.message;
      if (err.reason === 'too_large') break;
    }
    if (attempt < ATTEMPTS) await sleep(Math.min(retryAfterMs, MAX_BACKOFF_MS));
  }
  throw ResponderError(`The AI agent’s model endpoint did not answer: ${lastError}`);
}

/** The reply text and usage of a chat completion body. */
function parseCompletion(body: Buffer): { text: string; usage: { tokens_in: number; tokens_out: number } } {
  let parsed: { choices?: { message?: { content?: unknown } }[]; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw ResponderError('The AI agent’s model endpoint answered something that is not JSON');
  }
  const content = parsed.choices?.[0]?.message?.content;
  if (typeof content !== 'string' || !content.trim()) throw ResponderError('The AI agent’s model endpoint answered no message content');
  const count = (n: unknown) => (typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0);
  return { text: content.trim(), usage: { tokens_in: count(parsed.usage?.prompt_tokens), tokens_out: count(parsed.usage?.completion_tokens) } };
}
