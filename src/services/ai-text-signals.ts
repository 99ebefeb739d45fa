/**
 * What the AI's rules read from a customer's message, without a model: the customer asking for
 * a human, keywords, negative sentiment and a coarse intent label. Customers write Indonesian and
 * English, mixed and informal ("mau ngomong sama orang", "bisa minta CS manusia", "talk to a
 * human pls"), so text is first normalized: lower case, accents and punctuation dropped, letters
 * repeated for emphasis squeezed ("tolonggg"), and common chat spellings mapped to one word
 * ("gk", "ga", "nggak" -> tidak; "sm", "ama" -> sama; "org" -> orang).
 */

/** Chat spellings -> the word the lexicons use. */
const SLANG: Record<string, string> = {
  gk: 'tidak', ga: 'tidak', gak: 'tidak', nggak: 'tidak', ngga: 'tidak', enggak: 'tidak', engga: 'tidak', tdk: 'tidak', kagak: 'tidak', gaada: 'tidak ada',
  sm: 'sama', ama: 'sama', dgn: 'dengan', dg: 'dengan',
  org: 'orang', mnt: 'minta', mw: 'mau', mo: 'mau', pgn: 'pengen', pengin: 'pengen', ingin: 'pengen',
  bs: 'bisa', bsa: 'bisa', tlg: 'tolong', tolongin: 'tolong', plis: 'please', pls: 'please', plz: 'please',
  ngmg: 'ngomong', ngobrol: 'ngomong', bicara: 'ngomong', berbicara: 'ngomong', omong: 'ngomong', ngomongin: 'ngomong',
  kesel: 'kesal', bgt: 'banget', bngt: 'banget', lemot: 'lambat', lelet: 'lambat',
  u: 'you', ur: 'your', r: 'are', im: 'i am', wanna: 'want to', gonna: 'going to', cant: 'cannot', dont: 'do not', doesnt: 'does not', isnt: 'is not', wont: 'will not',
  hrg: 'harga', brp: 'berapa', brapa: 'berapa', ongkir: 'ongkos kirim', trims: 'terima kasih', makasih: 'terima kasih', thx: 'thanks', tq: 'thanks', ty: 'thanks',
};

/** Lower case, no accents, no punctuation, emphasis squeezed, slang mapped; words joined by single spaces. */
export function normalizeText(text: string): string {
  const plain = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    // "tolonggggg", "halooo": three or more of a letter are emphasis, never spelling.
    .replace(/([a-z])\1{2,}/g, '$1');
  return plain
    .split(' ')
    .filter(Boolean)
    .map((w) => SLANG[w] ?? w)
    .join(' ');
}

/** The normalized words of a text. */
export const wordsOf = (text: string): string[] => normalizeText(text).split(' ').filter(Boolean);

/** True when `phrase` (normalized the same way) occurs in the text as whole words. */
export function containsPhrase(text: string, phrase: string): boolean {
  const needle = normalizeText(phrase);
  if (!needle) return false;
  return ` ${normalizeText(text)} `.includes(` ${needle} `);
}

/** The first of `keywords` the text contains as whole words, or null. */
export const matchingKeyword = (text: string, keywords: readonly string[]): string | null => keywords.find((k) => containsPhrase(text, k)) ?? null;

// Who a customer asks for when they want a person.
const HUMAN_TARGETS = new Set(['orang', 'manusia', 'admin', 'cs', 'operator', 'petugas', 'agen', 'agent', 'human', 'person', 'someone', 'somebody', 'representative', 'rep', 'staff', 'staf', 'karyawan', 'pegawai', 'supervisor', 'manager', 'manajer']);
// Verbs of talking to, or being put through to, someone.
const CONTACT_VERBS = new Set(['ngomong', 'chat', 'chatting', 'hubungi', 'hubungkan', 'dihubungkan', 'sambung', 'sambungkan', 'disambungkan', 'telepon', 'telpon', 'nelpon', 'talk', 'speak', 'connect', 'contact', 'reach', 'call']);
// Asking verbs that name the target right after them ("minta CS", "need an agent").
const ASKING_VERBS = new Set(['minta', 'mau', 'pengen', 'butuh', 'perlu', 'cari', 'panggil', 'panggilkan', 'need', 'want', 'get', 'give', 'request']);
// "Not a bot", "real person", "live agent", "CS manusia": a person by contrast with the bot.
const HUMAN_PHRASES = ['bukan bot', 'bukan robot', 'bukan mesin', 'tidak mau bot', 'tidak mau sama bot', 'not a bot', 'no bot', 'no more bot', 'not a robot', 'real person', 'real human', 'actual person', 'live agent', 'live chat agent', 'live person', 'human please', 'human agent', 'transfer me to', 'orang asli', 'orang beneran', 'manusia asli', 'cs manusia', 'admin manusia', 'customer service', 'customer support', 'customer care'];
// Words skipped between the verb and who is asked for ("talk to a real human", "ngomong sama orang").
const FILLER = new Set(['to', 'with', 'a', 'an', 'the', 'your', 'one', 'of', 'real', 'live', 'actual', 'sama', 'dengan', 'ke', 'kepada', 'ama', 'sm', 'langsung', 'aja', 'saja', 'dong', 'ya', 'yang', 'please', 'me', 'i', 'can', 'your', 'sebentar', 'salah', 'satu', 'seorang']);

/**
 * True when the customer asks for a human. A contact verb followed, within a few filler words, by
 * a person ("mau ngomong sama orang", "talk to a human", "hubungkan ke admin"); an asking verb
 * right before a staff word ("minta CS", "need an agent"; not "orang", so "mau pesan untuk 2
 * orang" is an order, not a request); or a phrase setting a person against the bot.
 */
export function asksForHuman(text: string): boolean {
  const normalized = normalizeText(text);
  if (HUMAN_PHRASES.some((p) => ` ${normalized} `.includes(` ${p} `))) return true;
  const words = normalized.split(' ');
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const contact = CONTACT_VERBS.has(w);
    if (!contact && !ASKING_VERBS.has(w)) continue;
    for (let j = i + 1, skipped = 0; j < words.length && skipped <= 3; j++) {
      const next = words[j] as string;
      if (HUMAN_TARGETS.has(next) && (contact || next !== 'orang')) return true;
      if (!FILLER.has(next)) break;
      skipped++;
    }
  }
  return false;
}

// Negative words, weighted: 2 for insults, fraud and outrage, 1 for displeasure.
const NEGATIVE: Record<string, number> = {
  kecewa: 1, mengecewakan: 2, marah: 1, kesal: 1, jengkel: 1, sebel: 1, jelek: 1, buruk: 1, parah: 1, payah: 1, lambat: 1, bohong: 2, pembohong: 2, penipu: 2, tipu: 2, nipu: 2, penipuan: 2, rugi: 1, dirugikan: 2,
  brengsek: 2, bodoh: 2, goblok: 2, tolol: 2, anjing: 2, sialan: 2, bangsat: 2, bajingan: 2, komplain: 1, keluhan: 1, lapor: 1, laporkan: 1, ancam: 2, kapok: 2, zonk: 1, rusak: 1, cacat: 1, hilang: 1, telat: 1, terlambat: 1,
  angry: 1, terrible: 2, awful: 2, worst: 2, horrible: 2, disappointed: 1, disappointing: 1, useless: 2, scam: 2, fraud: 2, ridiculous: 2, unacceptable: 2, hate: 2, furious: 2, pathetic: 2, stupid: 2, annoyed: 1, annoying: 1, bad: 1, broken: 1, complaint: 1, lawsuit: 2, sue: 2, liar: 2, late: 1, slow: 1,
};
const NEGATIVE_PHRASES: Record<string, number> = { 'tidak puas': 2, 'tidak becus': 2, 'tidak jelas': 1, 'tidak sampai': 1, 'tidak datang': 1, 'tidak profesional': 2, 'not happy': 2, 'fed up': 2, 'not satisfied': 2, 'waste of': 2, 'sick of': 2 };
// Positive words cancel displeasure ("terima kasih, cepat sekali").
const POSITIVE: Record<string, number> = { bagus: 1, mantap: 1, mantul: 1, puas: 1, cepat: 1, ramah: 1, keren: 1, suka: 1, senang: 1, thanks: 1, great: 1, good: 1, love: 1, awesome: 1, excellent: 1, happy: 1, helpful: 1, nice: 1 };
// A negation flips the word after it ("tidak buruk", "not bad", "ga puas").
const NEGATIONS = new Set(['tidak', 'bukan', 'belum', 'not', 'no', 'never', 'kurang']);

/**
 * How negative a message is: the weights of its negative words and phrases, less its positive
 * ones, a negation flipping the word after it; shouting (mostly capitals, "!!!") adds one. Zero or
 * less reads as not negative.
 */
export function negativity(text: string): number {
  const normalized = normalizeText(text);
  const words = normalized.split(' ').filter(Boolean);
  let score = 0;
  for (const [phrase, weight] of Object.entries(NEGATIVE_PHRASES)) if (` ${normalized} `.includes(` ${phrase} `)) score += weight;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const negated = i > 0 && NEGATIONS.has(words[i - 1] as string);
    const neg = NEGATIVE[w] ?? 0;
    const pos = POSITIVE[w] ?? 0;
    // A negated word of a phrase above is counted by the phrase already.
    if (negated && pos && NEGATIVE_PHRASES[`${words[i - 1]} ${w}`] !== undefined) continue;
    score += negated ? pos - neg : neg - pos;
  }
  const letters = text.replace(/[^A-Za-z]/g, '');
  const shouting = /!{2,}/.test(text) || (letters.length >= 8 && letters.replace(/[^A-Z]/g, '').length / letters.length > 0.7);
  return score > 0 && shouting ? score + 1 : score;
}

/** The intent labels orchestration rules route by. */
export const INTENT_LABELS = ['greeting', 'pricing', 'stock', 'order_status', 'shipping', 'payment', 'refund', 'complaint', 'product_info', 'human_request'] as const;

/** An intent label. */
export type IntentLabel = (typeof INTENT_LABELS)[number];

// The words (or phrases) that mark each intent, both languages.
const INTENT_WORDS: Record<Exclude<IntentLabel, 'human_request' | 'complaint'>, string[]> = {
  greeting: ['halo', 'hai', 'hi', 'hello', 'hey', 'pagi', 'siang', 'sore', 'malam', 'assalamualaikum', 'permisi', 'good morning', 'good afternoon', 'good evening'],
  pricing: ['harga', 'berapa', 'price', 'cost', 'how much', 'diskon', 'discount', 'promo', 'murah', 'mahal', 'biaya', 'tarif'],
  stock: ['stok', 'stock', 'ready', 'tersedia', 'available', 'availability', 'habis', 'sold out', 'kosong', 'ada tidak'],
  order_status: ['pesanan', 'order', 'resi', 'tracking', 'track', 'status pesanan', 'sudah dikirim', 'belum sampai', 'where is my', 'invoice'],
  shipping: ['kirim', 'pengiriman', 'ongkos kirim', 'kurir', 'jne', 'jnt', 'sicepat', 'gosend', 'grab', 'shipping', 'delivery', 'deliver', 'courier', 'ship'],
  payment: ['bayar', 'pembayaran', 'transfer', 'rekening', 'va', 'virtual account', 'qris', 'cod', 'ovo', 'gopay', 'dana', 'payment', 'pay', 'credit card', 'kartu kredit', 'cicilan', 'installment'],
  refund: ['refund', 'retur', 'return', 'pengembalian', 'uang kembali', 'tukar', 'exchange', 'money back', 'cancel', 'batal', 'pembatalan'],
  product_info: ['ukuran', 'size', 'warna', 'color', 'colour', 'bahan', 'material', 'spesifikasi', 'spec', 'specs', 'varian', 'variant', 'garansi', 'warranty', 'fitur', 'feature'],
};

/** The intent labels a message carries (several may apply; none for small talk). */
export function intentsOf(text: string): IntentLabel[] {
  const labels: IntentLabel[] = [];
  for (const [label, words] of Object.entries(INTENT_WORDS)) if (words.some((w) => containsPhrase(text, w))) labels.push(label as IntentLabel);
  if (negativity(text) >= 2) labels.push('complaint');
  if (asksForHuman(text)) labels.push('human_request');
  return labels;
}
