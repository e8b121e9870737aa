import { describe, expect, it } from 'bun:test';
import { printOf } from '../../src/dedup/check.ts';
import { textData } from '../../workers/dedup/compare.ts';
import { mayReach, minhashFloor, minhashOf, MINHASH_WORDS } from '../../workers/dedup/minhash.ts';
import { F_MINHASH } from '../../workers/dedup/print.ts';
import { jaccard, jaccardUpperBound } from '../../workers/dedup/verify.ts';
import { seededRandom } from '../../src/sample/generate.ts';
import { buildEvalSet, loadGaokao } from './evalset.ts';

/** Reproducible 32-bit shingle hashes. */
function randomWords(seed: number): () => number {
  const rand = seededRandom(seed);
  return () => Math.floor(rand() * 2 ** 32);
}

/** Two shingle sets of `union` distinct hashes whose Jaccard is `similarity` (rounded to whole shingles). */
function pairAt(similarity: number, union: number, next: () => number): [Uint32Array, Uint32Array] {
  const shared = Math.round(similarity * union);
  const onlyA = Math.floor((union - shared) / 2);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < shared; i++) {
    const v = next();
    a.push(v);
    b.push(v);
  }
  for (let i = 0; i < onlyA; i++) a.push(next());
  for (let i = 0; i < union - shared - onlyA; i++) b.push(next());
  return [Uint32Array.from(a), Uint32Array.from(b)];
}

/** Whether the MinHashes of a and b leave the pair to verification at `floor`. */
function kept(a: Uint32Array, b: Uint32Array, floor: Uint8Array): boolean {
  const words = new Uint32Array(2 * MINHASH_WORDS);
  minhashOf(a, a.length, words, 0);
  minhashOf(b, b.length, words, MINHASH_WORDS);
  return mayReach(words, 0, words, MINHASH_WORDS, floor);
}

describe('MinHash', () => {
  it('depends on the set of shingles alone: not on their order or repeats', () => {
    const next = randomWords(7);
    const set = Uint32Array.from({ length: 300 }, next);
    const shuffled = Uint32Array.from([...set].reverse().concat([...set].slice(0, 50)));
    const [x, y] = [new Uint32Array(MINHASH_WORDS), new Uint32Array(MINHASH_WORDS)];
    minhashOf(set, set.length, x, 0);
    minhashOf(shuffled, shuffled.length, y, 0);
    expect(Array.from(y)).toEqual(Array.from(x));
    // A text with shingles fills bins; none leaves every word zero (a print that tells nothing).
    expect(x.some((w) => w !== 0)).toBe(true);
    minhashOf(set, 0, y, 0);
    expect(Array.from(y)).toEqual(Array(MINHASH_WORDS).fill(0));
  });

  it('keeps pairs at exactly the asked similarity, short texts and long, and drops far ones', () => {
    const next = randomWords(2026);
    for (const similarity of [0.8, 0.9]) {
      const floor = minhashFloor(similarity);
      for (const union of [12, 40, 150, 600]) {
        let dropped = 0;
        for (let t = 0; t < 5000; t++) if (!kept(...pairAt(similarity, union, next), floor)) dropped++;
        // At most 1e-4 by construction; 0 of 150,000 in docs/no-stall.md.
        expect(dropped).toBeLessThanOrEqual(2);
      }
    }
    const floor = minhashFloor(0.8);
    for (const union of [150, 600]) {
      let keptFar = 0;
      for (let t = 0; t < 2000; t++) if (kept(...pairAt(0.4, union, next), floor)) keptFar++;
      expect(keptFar).toBeLessThan(40);
    }
  });

  it('drops nothing when either print has no MinHash (stored before it existed)', () => {
    const [a, b] = pairAt(0.1, 300, randomWords(3));
    const words = new Uint32Array(2 * MINHASH_WORDS);
    minhashOf(a, a.length, words, 0);
    const floor = minhashFloor(0.8);
    expect(mayReach(words, 0, words, MINHASH_WORDS, floor)).toBe(true);
    minhashOf(b, b.length, words, MINHASH_WORDS);
    expect(mayReach(words, 0, words, MINHASH_WORDS, floor)).toBe(false);
  });

  const rows = loadGaokao();
  it.skipIf(rows === null)('never drops a duplicate pair of the GAOKAO evaluation set, and drops the pairs of its questions far apart', () => {
    const set = buildEvalSet(rows!);
    const questions = set.questions;
    const prints = questions.map((q) => printOf(q.content, q.options));
    const shingles = questions.map((q) => textData(q.content, q.options).shingles);
    const floor = minhashFloor(0.8);
    const reaches = (a: number, b: number) => mayReach(prints[a]!, F_MINHASH, prints[b]!, F_MINHASH, floor);
    // Every labelled duplicate (natural ones and generated variants) at Jaccard 0.8 or more: kept.
    let near = 0;
    for (const { a, b } of set.positives) {
      const [x, y] = [a - 1, b - 1];
      if (jaccard(shingles[x]!, shingles[y]!) < 0.8) continue;
      near++;
      if (!reaches(x, y)) throw new Error(`duplicate pair ${a}, ${b} dropped`);
    }
    expect(near).toBeGreaterThan(5_000);
    // Every pair of original questions of one group: kept at 0.8 or more, nearly all dropped below 0.4.
    let far = 0;
    let farDropped = 0;
    const originals = questions.flatMap((q, i) => (q.kind === 'original' ? [i] : []));
    for (let x = 0; x < originals.length; x++) {
      for (let y = x + 1; y < originals.length; y++) {
        const [a, b] = [originals[x]!, originals[y]!];
        if (questions[a]!.group !== questions[b]!.group) continue;
        const similarity = jaccard(shingles[a]!, shingles[b]!);
        if (similarity >= 0.8 && !reaches(a, b)) throw new Error(`pair ${a}, ${b} at ${similarity} dropped`);
        if (similarity < 0.4) {
          far++;
          if (!reaches(a, b)) farDropped++;
        }
      }
    }
    expect(far).toBeGreaterThan(10_000);
    // The point of the MinHash.
    expect(farDropped / far).toBeGreaterThan(0.95);
  }, 30_000);
});
