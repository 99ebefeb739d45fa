/**
 * AI: answer latency of the built-in retrieval responder (retrieval with stems, typo matching
 * and coverage scoring, then the composed answer) at 1,000 and 10,000 knowledge chunks, next to
 * a plain keyword search of the same index (the words as typed, ranked by rarity, without stems, typo matching or coverage scoring). The corpus is
 * generated: shop-policy passages in Indonesian and English over a vocabulary of products,
 * cities, couriers and numbers, so passages overlap the way a real FAQ's do. Questions are built
 * from a random passage's words (some misspelt, some in chat spelling). The index is built in
 * this process from documents shaped as MongoDB holds them; its build time is printed too.
 */
import { randomUUID } from 'node:crypto';
import type { KnowledgeChunk } from '../../src/models/knowledge.js';
import { composeAnswer, retrieveFrom } from '../../src/services/ai-responder.js';
import { KnowledgeIndex } from '../../src/services/ai-retrieval.js';
import type { SummaryRow } from '../support/summary.js';
import { ms, pct } from '../support/stats.js';

const SIZES = [1_000, 10_000];
const QUESTIONS = 400;

// A seeded generator: every run measures the same corpus and questions.
function rng(seed: number) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const CITIES = ['surabaya', 'jakarta', 'bandung', 'medan', 'makassar', 'denpasar', 'semarang', 'yogyakarta', 'palembang', 'balikpapan', 'manado', 'pontianak', 'malang', 'bogor', 'batam'];
const PRODUCTS = ['kaos', 'kemeja', 'celana', 'jaket', 'sepatu', 'sandal', 'tas', 'topi', 'dompet', 'jam', 'kacamata', 'headphone', 'charger', 'powerbank', 'laptop', 'blender', 'kompor', 'panci', 'sprei', 'bantal'];
const COURIERS = ['jne', 'jnt', 'sicepat', 'anteraja', 'pos', 'gosend', 'grab', 'ninja'];
const ID_TEMPLATES = [
  (p: string, c: string, k: string, n: number) => `Pengiriman ${p} ke ${c} dengan kurir ${k} memakan waktu ${n} hari kerja dan ongkos kirim mulai Rp${n * 5}.000.`,
  (p: string, c: string, _k: string, n: number) => `Garansi ${p} berlaku ${n} bulan untuk pembelian di toko ${c}; klaim garansi wajib membawa nota asli.`,
  (p: string, _c: string, _k: string, n: number) => `Retur ${p} bisa dilakukan dalam ${n} hari setelah barang diterima selama kemasan masih utuh.`,
  (p: string, c: string, _k: string, n: number) => `Pembayaran ${p} untuk wilayah ${c} bisa COD, transfer bank, atau cicilan ${n} bulan dengan kartu kredit.`,
];
const EN_TEMPLATES = [
  (p: string, c: string, k: string, n: number) => `Shipping a ${p} to ${c} with ${k} takes ${n} business days and costs from ${n * 2} dollars.`,
  (p: string, c: string, _k: string, n: number) => `The ${p} warranty lasts ${n} months for purchases made in our ${c} store; bring the original receipt.`,
  (p: string, _c: string, _k: string, n: number) => `You can return a ${p} within ${n} days of delivery as long as the packaging is intact.`,
];

/** `count` chunks of one agent, as the chunks collection holds them. */
function corpus(count: number, random: () => number): KnowledgeChunk[] {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)] as T;
  const now = new Date();
  return Array.from({ length: count }, (_, i) => {
    const templates = random() < 0.7 ? ID_TEMPLATES : EN_TEMPLATES;
    const sentences = Array.from({ length: 3 }, () => pick(templates)(pick(PRODUCTS), pick(CITIES), pick(COURIERS), 1 + Math.floor(random() * 14)));
    return { _id: randomUUID(), tenant_id: 'bench', ai_agent_id: 'bench', source_id: `s${i % 50}`, generation: 1, position: i, title: `Kebijakan ${i}`, text: sentences.join(' '), created_at: now, updated_at: now };
  });
}

const SLANG: Record<string, string> = { berapa: 'brp', tidak: 'ga', bisa: 'bs', pengiriman: 'kirim', surabaya: 'sby', jakarta: 'jkt' };

/** A question from a chunk's words: a few content words, sometimes misspelt or in chat spelling. */
function question(chunk: KnowledgeChunk, random: () => number): string {
  const words = chunk.text.toLowerCase().replace(/[^a-z0-9 ]+/g, ' ').split(' ').filter((w) => w.length > 3);
  const start = Math.floor(random() * Math.max(1, words.length - 4));
  return words
    .slice(start, start + 4)
    .map((w) => {
      const r = random();
      if (SLANG[w] && r < 0.5) return SLANG[w];
      // A dropped letter: the commonest typo.
      if (r > 0.85 && w.length > 5) return w.slice(0, 2) + w.slice(3);
      return w;
    })
    .join(' ');
}

/** Milliseconds of each call of `run` over the questions, after a warm-up pass. */
function timeEach(questions: string[], run: (q: string) => unknown): number[] {
  for (const q of questions.slice(0, 20)) run(q);
  return questions.map((q) => {
    const t = performance.now();
    run(q);
    return performance.now() - t;
  });
}

/** Measures the AI section; pushes one summary row per size. */
export async function measureAi(ctx: { rows: (SummaryRow | (() => SummaryRow))[] }): Promise<void> {
  console.log('\nAI: built-in retrieval responder answer latency vs a plain keyword search of the same index');
  const agent = { confidence_threshold: 0.35, language: 'auto' as const };
  for (const [i, size] of SIZES.entries()) {
    const random = rng(20261201 + size);
    const chunks = corpus(size, random);
    const built = performance.now();
    const index = new KnowledgeIndex(1, { qna: [], chunks, products: [] });
    const buildMs = performance.now() - built;
    const questions = Array.from({ length: QUESTIONS }, () => question(chunks[Math.floor(random() * chunks.length)] as KnowledgeChunk, random));
    const answer = timeEach(questions, (q) => composeAnswer(agent, retrieveFrom(index, q), q));
    const answered = questions.filter((q) => composeAnswer(agent, retrieveFrom(index, q), q) !== null).length;
    const keyword = timeEach(questions, (q) => index.keywordSearch(q, 5));
    const [a50, a99, k50, k99] = [pct(answer, 0.5), pct(answer, 0.99), pct(keyword, 0.5), pct(keyword, 0.99)];
    console.log(
      `  ${size} chunks (index built in ${ms(buildMs)}): answer p50 ${ms(a50)} p99 ${ms(a99)}; keyword search p50 ${ms(k50)} p99 ${ms(k99)}; ` +
        `${answered}/${QUESTIONS} questions answered above the threshold`,
    );
    ctx.rows.push({
      rank: 90 + i,
      measure: `AI answer (built-in retrieval) at ${size.toLocaleString('en')} chunks, p50 / p99`,
      ours: `${ms(a50)} / ${ms(a99)}`,
      baseline: `plain keyword search: ${ms(k50)} / ${ms(k99)}`,
      ratio: k50 > 0 ? `${(a50 / k50).toFixed(1)}x` : '—',
      goal: 'p99 under 100 ms',
      met: a99 < 100,
    });
  }
}
