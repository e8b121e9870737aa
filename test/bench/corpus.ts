/**
 * Texts for tests and benchmarks. Tests read the GAOKAO-Bench subset committed under
 * test/fixtures/gaokao (1,194 questions); benchmarks take the full set from
 * ../shared/data/gaokao-bench when a checkout has it beside the project, else the same
 * fixture, and print which one they used. Either is scaled up with generated variants.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadGaokao, prng } from '../engine/evalset.ts';
import { changeNumber, latexSynonyms, renumber, respace, smallEdit, toFullWidth, toHtml } from '../engine/variants.ts';

export interface BenchQuestion {
  type_name: string;
  subject_name: string;
  channel_code: string;
  content: string;
}

export interface Corpus {
  /** `gaokao-bench`: the full set from ../shared/data; `gaokao-fixture`: the committed subset. */
  source: 'gaokao-bench' | 'gaokao-fixture';
  path: string;
  base: BenchQuestion[];
}

export const FIXTURE_GAOKAO = fileURLToPath(new URL('../fixtures/gaokao/questions.ndjson', import.meta.url));
/** Outside the repository, so only benchmarks look there, and only when it is present. */
export const SHARED_GAOKAO = fileURLToPath(new URL('../../../shared/data/gaokao-bench/questions.ndjson', import.meta.url));

function corpusFrom(source: Corpus['source'], path: string): Corpus {
  const rows = loadGaokao(path);
  if (rows === null) throw new Error(`${path} is missing`);
  return { source, path, base: rows.map(({ type_name, subject_name, channel_code, content }) => ({ type_name, subject_name, channel_code, content })) };
}

/** The committed fixture: what every test reads. */
export function loadCorpus(): Corpus {
  return corpusFrom('gaokao-fixture', FIXTURE_GAOKAO);
}

/** Benchmarks: the full GAOKAO-Bench set when ../shared/data has it, else the fixture. */
export function loadBenchCorpus(): Corpus {
  return existsSync(SHARED_GAOKAO) ? corpusFrom('gaokao-bench', SHARED_GAOKAO) : loadCorpus();
}

/**
 * A different question of the same shape: every Chinese character and
 * lower-case Latin letter shifted by an amount fixed per seed (digits,
 * option labels, LaTeX commands and layout kept). Two ciphers with different seeds share almost no shingle.
 */
export function cipher(content: string, seed: number): string {
  const cjkShift = 1 + (seed % 20900);
  const latinShift = 1 + (seed % 25);
  let out = '';
  for (let k = 0; k < content.length; k++) {
    const c = content.charCodeAt(k);
    if (c === 92 /* \\ */) {
      // A LaTeX command stays a command.
      let e = k + 1;
      while (e < content.length && /[a-zA-Z]/.test(content[e]!)) e++;
      out += content.slice(k, e);
      k = e - 1;
      continue;
    }
    // 分 and 题 stay: score notes and question numbers must still look like ones.
    if (c >= 0x4e00 && c <= 0x9fa5 && c !== 0x5206 && c !== 0x9898) out += String.fromCharCode(0x4e00 + ((c - 0x4e00 + cjkShift) % 20902));
    else if (c >= 97 && c <= 122) out += String.fromCharCode(97 + ((c - 97 + latinShift) % 26));
    else out += content[k];
  }
  return out;
}

/**
 * Question i of a scaled bank: the base set first; after it 70% new
 * questions (a cipher of a base question: same shape, different text) and
 * 30% near copies of a recent question (formatting variants, small edits,
 * changed numbers, stacked). Duplicates stay local, so cluster sizes do not
 * grow with the bank, as in a real one. Deterministic per i, so a million
 * questions never need to sit in memory.
 */
export function questionAt(base: BenchQuestion[], i: number): BenchQuestion {
  if (i < base.length) return base[i]!;
  const rand = prng(i * 2654435761);
  if (rand() < 0.7) {
    const b = base[i % base.length]!;
    return skewed({ ...b, content: cipher(b.content, i) });
  }
  return skewed(nearCopy(questionAt(base, Math.max(0, i - 1 - Math.floor(rand() * 50))), rand));
}

/**
 * A real bank's skew: most single-choice questions arrive through one channel, so at
 * 1,000,000 questions (单选题, 数学 / 政治 / 历史, default) hold 153k, 114k and 102k
 * questions, while the other ~200 groups keep the GAOKAO paper channels (hundreds to 24k).
 */
function skewed(q: BenchQuestion): BenchQuestion {
  return q.type_name === '单选题' ? { ...q, channel_code: 'default' } : q;
}

/** A reformatted and lightly edited copy: what a user pastes when the bank already has it. */
export function nearCopy(source: BenchQuestion, rand: () => number): BenchQuestion {
  const kinds = [
    (s: string) => toHtml(s, rand), toFullWidth, (s: string) => renumber(s, rand), latexSynonyms,
    (s: string) => respace(s, rand), (s: string) => smallEdit(s, rand) ?? s, (s: string) => changeNumber(s, rand) ?? s,
  ];
  let content = source.content;
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) content = kinds[Math.floor(rand() * kinds.length)]!(content);
  return { ...source, content };
}

export function scaleCorpus(base: BenchQuestion[], n: number): BenchQuestion[] {
  return Array.from({ length: n }, (_, i) => questionAt(base, i));
}
