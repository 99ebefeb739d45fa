/**
 * Search terms of Indonesian and English text, mixed and informal as customers write it. Words
 * are normalized as the AI's rules read them (services/ai-text-signals.ts: case, punctuation,
 * emphasis, chat spellings), a few more chat spellings are mapped, stop words dropped, and each
 * word becomes a small set of forms: the word, its Indonesian stem(s) and its English stem. A
 * query word matches a document when their sets share a form, so "pengiriman", "dikirim" and
 * "kirim" meet, and so do "returns" and "return", without guessing the language of each word.
 *
 * The Indonesian stemmer is ours (affix stripping after Nazief and Adriani, without a root
 * dictionary): a prefix whose first root letter melted away (meny-/peny- s, mem-/pem- p,
 * men-/pen- t, meng-/peng- k) gives both readings, "pengiriman" -> irim and kirim, and the set
 * keeps them all rather than guess.
 */
import { stemmer as englishStem } from '@orama/stemmers/english';
import { normalizeText } from './ai-text-signals.js';

// Chat spellings the rules' normalizer leaves as they are.
const MORE_SLANG: Record<string, string> = {
  yg: 'yang', utk: 'untuk', untk: 'untuk', gmn: 'bagaimana', gimana: 'bagaimana', gmna: 'bagaimana', dmn: 'dimana', kpn: 'kapan', knp: 'kenapa', kenapa: 'mengapa',
  sy: 'saya', aq: 'aku', gw: 'saya', gue: 'saya', sdh: 'sudah', udh: 'sudah', udah: 'sudah', blm: 'belum', blum: 'belum', krn: 'karena', jg: 'juga', lg: 'lagi',
  tf: 'transfer', trf: 'transfer', rek: 'rekening', no: 'nomor', jkt: 'jakarta', sby: 'surabaya', bdg: 'bandung', pesen: 'pesan', psn: 'pesan', brg: 'barang',
  bener: 'benar', emg: 'memang', bnyk: 'banyak', dikit: 'sedikit', bayarnya: 'bayar', kak: '', kakak: '', min: '', gan: '', sis: '', bro: '', bang: '', mas: '', mba: '', mbak: '',
  pengen: 'ingin', pake: 'pakai', sampe: 'sampai', dateng: 'datang', nyicil: 'cicil', balikin: 'kembalikan', ship: 'shipping', shipment: 'shipping', deliver: 'delivery', pls: 'please',
};

// Words that carry no meaning a passage could match on (question words included: every question has one).
const STOP_WORDS = new Set(
  (
    'yang dan di ke dari ini itu apa apakah adakah ada saya aku kamu anda kami kita dong ya yah nih sih deh kah lah pun aja saja juga ' +
    'dengan untuk pada atau tapi tetapi kalau kalo jika bila sudah belum akan lagi nya mau ingin bisa boleh tolong please halo hai hi hello ' +
    'tidak enggak berapa bagaimana kapan dimana mana siapa mengapa kenapa gimana gitu begitu sama oleh karena jadi masih banget sekali ' +
    'the a an is are was were be been do does did can could would should will shall i you we they he she it me my your our their ' +
    'what how when where who why which much many to of for in on at by with from about as and or but if so this that these those there ' +
    'have has had any some get got thanks thank terima kasih ok oke okay'
  ).split(' '),
);

const VOWEL = /^[aiueo]/;

/** Indonesian readings of a word: itself and every stem its affixes allow (at least 3 letters). */
export function indonesianStems(word: string): string[] {
  const out = new Set<string>([word]);
  const keep = (w: string) => {
    if (w.length >= 3) out.add(w);
  };
  let w = word.replace(/(lah|kah|tah|pun)$/, '');
  if (w.length >= 5) w = w.replace(/(ku|mu|nya)$/, '');
  keep(w);
  const suffixless = [w];
  for (const s of ['kan', 'an', 'i']) if (w.endsWith(s) && w.length - s.length >= 3) suffixless.push(w.slice(0, -s.length));
  // Chat Indonesian's -in for -kan ("batalin", "gantiin").
  if (w.endsWith('in') && w.length >= 6) suffixless.push(w.slice(0, -2));
  for (const base of suffixless) {
    keep(base);
    for (const root of stripPrefixes(base)) keep(root);
  }
  return [...out];
}

/** The roots left after the derivational prefixes, both readings where a root letter melted into one. */
function stripPrefixes(word: string, depth = 0): string[] {
  if (depth > 1 || word.length < 5) return [];
  const roots: string[] = [];
  const melted: [string, string][] = [
    ['meny', 's'], ['peny', 's'], ['meng', 'k'], ['peng', 'k'], ['mem', 'p'], ['pem', 'p'], ['men', 't'], ['pen', 't'],
  ];
  for (const [prefix, letter] of melted) {
    if (!word.startsWith(prefix)) continue;
    const rest = word.slice(prefix.length);
    if (VOWEL.test(rest)) roots.push(rest, letter + rest);
    else roots.push(rest);
    break;
  }
  for (const prefix of ['ber', 'ter', 'per', 'be', 'te', 'me', 'pe', 'di', 'ke', 'se']) {
    if (word.startsWith(prefix) && word.length - prefix.length >= 3) {
      roots.push(word.slice(prefix.length));
      break;
    }
  }
  return roots.flatMap((r) => [r, ...stripPrefixes(r, depth + 1)]).filter((r) => r.length >= 3);
}

/** The meaningful words of a text, normalized, in order. */
export function contentWords(text: string): string[] {
  return normalizeText(text)
    .split(' ')
    .flatMap((w) => (w in MORE_SLANG ? (MORE_SLANG[w] as string).split(' ') : [w]))
    .filter((w) => w.length > 0 && !STOP_WORDS.has(w));
}

/** Every form a word is searched by: itself, its Indonesian stems and its English stem. */
export function formsOf(word: string): string[] {
  if (/^\d+$/.test(word)) return [word];
  const forms = new Set(indonesianStems(word));
  forms.add(englishStem(word));
  return [...forms];
}

/** One query word with the forms it matches by. */
export interface QueryTerm {
  word: string;
  forms: string[];
}

/** The query terms of a text (each distinct word once). */
export function queryTerms(text: string): QueryTerm[] {
  const seen = new Set<string>();
  const terms: QueryTerm[] = [];
  for (const word of contentWords(text)) {
    if (seen.has(word)) continue;
    seen.add(word);
    terms.push({ word, forms: formsOf(word) });
  }
  return terms;
}

/** Every form of every word of a text, for indexing (a set: a form counts once per document). */
export function documentForms(text: string): Set<string> {
  const forms = new Set<string>();
  for (const word of contentWords(text)) for (const f of formsOf(word)) forms.add(f);
  return forms;
}

/** Levenshtein distance, given up past `max` (answers max + 1 then). */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length] as number;
}

/** How many typos a word of this length may carry and still match: none below 4 letters. */
export const typoAllowance = (word: string): number => (word.length >= 8 ? 2 : word.length >= 4 ? 1 : 0);
