/**
 * How far one edited character moves a 64-bit SimHash, by text length.
 * This is what decides shortShinglesFor(): below it, bands at max_distance
 * would miss too many one-character edits, so those texts use the sketch.
 *
 *   bun test/bench/short-edit.ts
 */
import { extract } from '../../workers/dedup/features.ts';
import { hamming64 } from '../../workers/dedup/hash.ts';
import { normalizeQuestion } from '../../workers/dedup/normalize.ts';
import { simhash64 } from '../../workers/dedup/simhash.ts';
import { prng } from '../engine/evalset.ts';
import { loadBenchCorpus } from './corpus.ts';

const corpus = loadBenchCorpus();
const rows = corpus.base;
console.log(`short-edit: ${rows.length} questions from ${corpus.path}`);
const rand = prng(7);
const fp = (text: string): [number, number, number] => {
  const e = extract(text);
  const out = new Uint32Array(2);
  simhash64(e.shingles, e.count, out, 0);
  return [out[0]!, out[1]!, e.count];
};
const edges = [0, 64, 128, 256, 384, 512, 768, 1024, Infinity];
const LIMITS = [0, 1, 2, 3, 4, 5, 6, 8];
// Per bucket: how many edits stayed within each limit, then the total.
const within = edges.map(() => new Array<number>(LIMITS.length + 1).fill(0));
for (const r of rows) {
  const text = normalizeQuestion(r.content, null);
  const cjk: number[] = [];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x4e00 && text.charCodeAt(i) <= 0x9fff) cjk.push(i);
  if (cjk.length === 0) continue;
  const [hi, lo, count] = fp(text);
  const bucket = edges.findIndex((e, k) => count >= e && count < edges[k + 1]!);
  for (let t = 0; t < 3; t++) {
    const at = cjk[Math.floor(rand() * cjk.length)]!;
    const [h2, l2] = fp(text.slice(0, at) + (text[at] === '的' ? '是' : '的') + text.slice(at + 1));
    const d = hamming64(hi, lo, h2, l2);
    const w = within[bucket]!;
    LIMITS.forEach((limit, k) => {
      if (d <= limit) w[k]!++;
    });
    w[LIMITS.length]!++;
  }
}
console.log(`distinct shingles   edits ${LIMITS.map((l) => `d<=${l}`.padStart(6)).join('')}`);
for (let k = 0; k + 1 < edges.length; k++) {
  const w = within[k]!;
  const all = w[LIMITS.length]!;
  if (all === 0) continue;
  const label = `[${edges[k]}, ${edges[k + 1] === Infinity ? '∞' : edges[k + 1]})`.padEnd(18);
  console.log(`${label} ${String(all).padStart(6)} ${LIMITS.map((_, j) => (w[j]! / all).toFixed(2).padStart(6)).join('')}`);
}
