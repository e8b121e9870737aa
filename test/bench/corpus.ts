/**
 * Bench texts: the GAOKAO-Bench questions when ../shared/data is present,
 * scaled up with generated variants; otherwise a synthetic stand-in so the
 * bench still runs (and says so).
 */
import { loadGaokao, prng } from '../engine/evalset.ts';
import { changeNumber, latexSynonyms, renumber, respace, smallEdit, toFullWidth, toHtml } from '../engine/variants.ts';

export interface BenchQuestion {
  type_name: string;
  subject_name: string;
  channel_code: string;
  content: string;
}

export interface Corpus {
  source: 'gaokao-bench' | 'synthetic';
  base: BenchQuestion[];
}

const SYLLABLES = '已知函数集合数列概率向量椭圆双曲线抛物线三角形面积体积方程不等式导数极值单调区间最大值最小值实数取值范围下列说法正确的是细胞生物化学反应溶液物质历史政治经济文化地理气候';

function synthetic(n: number): BenchQuestion[] {
  const rand = prng(1);
  const out: BenchQuestion[] = [];
  for (let i = 0; i < n; i++) {
    let s = `${1 + (i % 20)}. `;
    const len = 60 + Math.floor(rand() * 240);
    for (let k = 0; k < len; k++) {
      s += rand() < 0.08 ? `$x^{${Math.floor(rand() * 9)}}+${Math.floor(rand() * 99)}$` : SYLLABLES[Math.floor(rand() * SYLLABLES.length)]!;
    }
    out.push({ type_name: '单选题', subject_name: '数学', channel_code: `synthetic-${i % 4}`, content: s });
  }
  return out;
}

export function loadCorpus(): Corpus {
  const rows = loadGaokao();
  if (rows === null) return { source: 'synthetic', base: synthetic(3000) };
  return { source: 'gaokao-bench', base: rows.map(({ type_name, subject_name, channel_code, content }) => ({ type_name, subject_name, channel_code, content })) };
}

/**
 * Question i of a scaled bank: the base set first, then generated variants
 * of it (formatting variants, small edits, changed numbers, stacked), so the
 * scaled bank keeps a realistic duplicate structure instead of n copies.
 * Deterministic per i, so a million questions never need to sit in memory.
 */
export function questionAt(base: BenchQuestion[], i: number): BenchQuestion {
  const b = base[i % base.length]!;
  if (i < base.length) return b;
  const rand = prng(i * 2654435761);
  const kinds = [
    (s: string) => toHtml(s, rand), toFullWidth, (s: string) => renumber(s, rand), latexSynonyms,
    (s: string) => respace(s, rand), (s: string) => smallEdit(s, rand) ?? s, (s: string) => changeNumber(s, rand) ?? s,
  ];
  let content = b.content;
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) content = kinds[Math.floor(rand() * kinds.length)]!(content);
  // Most of a grown bank is new questions, not near copies.
  if (rand() < 0.7) content = `${content}\n(${i})`;
  return { ...b, content };
}

export function scaleCorpus(base: BenchQuestion[], n: number): BenchQuestion[] {
  return Array.from({ length: n }, (_, i) => questionAt(base, i));
}
