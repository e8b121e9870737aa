/**
 * Candidates for texts too short for SimHash bands. On a question of a few
 * hundred shingles one edited character moves 4-6 of the 64 bits, so
 * max_distance 3 would miss it (see test/bench/short-edit.ts). Instead each
 * text offers its SKETCH_KEYS smallest shingle hashes (a bottom-k sketch);
 * two texts with Jaccard J share the smallest hash of their union with
 * probability J, so a pair at J >= 0.8 misses all keys with probability
 * around 0.2^k. The keys depend on the text alone, so they can be cached
 * with the fingerprint. The verify stage decides every candidate.
 */

import { KeySet } from './key-set.ts';
import { forEachSharedKey } from './sorted-runs.ts';

export const SKETCH_KEYS = 8;
/** Marks an unused key slot of a text with fewer shingles than SKETCH_KEYS. */
export const NO_KEY = 0xffffffff;

/**
 * Writes the SKETCH_KEYS smallest distinct values of shingles[0..n) to
 * out[at..], ascending, NO_KEY-padded. One pass, no sort: most values lose
 * to the current largest key at the first comparison.
 */
export function sketchKeys(shingles: Uint32Array, n: number, out: Uint32Array, at: number): void {
  const end = at + SKETCH_KEYS;
  out.fill(NO_KEY, at, end);
  for (let i = 0; i < n; i++) {
    const v = shingles[i]!;
    if (v >= out[end - 1]!) continue;
    let j = end - 1;
    while (j > at && out[j - 1]! > v) j--;
    if (j > at && out[j - 1] === v) continue;
    out.copyWithin(j + 1, j, end - 1);
    out[j] = v;
  }
}

/**
 * Calls onPair(a, b) (a < b, doc indices) once for every pair of docs that
 * share a sketch key. Doc d's keys are prints[d*stride+offset ..+SKETCH_KEYS).
 * All keys go into one sorted array, so keys in different slots still
 * meet; a pair sharing several keys is reported under its smallest only.
 * A key shared by more than bucketCap docs (a stock phrase) only pairs each
 * doc with its next bucketCap neighbours in `order` (by fingerprint, so
 * near texts tend to sit together); a real duplicate also shares rarer keys.
 *
 * Returns a function reporting the pairs held back under `later` (nothing without it).
 */
export function sketchCandidates(
  docs: Int32Array,
  prints: Uint32Array,
  stride: number,
  offset: number,
  /** Two words (high, low) per doc index giving the order of a windowed bucket (a fingerprint); null: doc order. */
  order: Uint32Array | null,
  onPair: (a: number, b: number) => void,
  bucketCap = 16,
  /** A cheap test run before the once-per-pair bookkeeping; false drops the pair. */
  accept: (a: number, b: number) => boolean = () => true,
  /**
   * Told of every bucket of two or more docs (bucket: reused, read it at once; id: the key;
   * window: 0, or the cap when each doc meets only its next cap-1 neighbours in bucket order).
   * Which pairs of a windowed bucket meet depends on every doc in it, not on the pair alone.
   */
  onBucket?: (bucket: readonly number[], id: number, window: number) => void,
  /**
   * Pairs that may wait (a re-run's pairs of unchanged docs, see engine.ts): during the search,
   * after onBucket, only pairs with a doc `now` approves are reported; the returned function
   * later reports the held pairs with a doc `involving` approves then (a pair may come twice).
   */
  later?: {
    now: (doc: number) => boolean;
    /**
     * Searches now only the buckets holding a doc `changed` approves or keyed by one of `keys`
     * (onBucket hears of those alone); the returned function finds the other buckets of the docs
     * it is asked about itself. For a re-run: a bucket of unchanged docs alone has no pair to
     * decide now, and sorting every key of a big group for the few that have was most of its search.
     */
    only?: { changed: (doc: number) => boolean; keys: Iterable<number> };
  },
): (involving: (doc: number) => boolean, onPair: (a: number, b: number) => void) => void {
  const r = docs.length;
  if (r < 2) return () => {};
  let posBits = 1;
  while (1 << posBits < r) posBits++;
  const scale = 2 ** posBits;
  // Key and position share one float64; very large inputs give up low key bits.
  const keyShift = Math.max(0, 32 + posBits - 53);
  // Docs ranked by `order` once; a key's docs then come out of the key sort in rank order,
  // so no bucket is sorted on its own (thousands of crowded buckets a group, by comparator).
  const ranks = rankDocs(docs, order, posBits);
  const ranked = ranks.ranked;
  /** Every (key, rank) of the docs, or of the keys in `wanted` only, sorted. */
  const sortedKeys = (wanted: KeySet | null): Float64Array => {
    // The docs in their own order (their prints read in sequence), each key with its doc's rank.
    const rankAt = ranks.rankAt();
    let out = new Float64Array(wanted === null ? r * SKETCH_KEYS : 1024);
    let m = 0;
    for (let p = 0; p < r; p++) {
      const at = docs[p]! * stride + offset;
      for (let k = 0; k < SKETCH_KEYS; k++) {
        const key = prints[at + k]!;
        if (key === NO_KEY) break;
        if (wanted !== null && !wanted.has(key >>> keyShift)) continue;
        if (m === out.length) {
          const grown = new Float64Array(2 * m);
          grown.set(out);
          out = grown;
        }
        out[m++] = (key >>> keyShift) * scale + rankAt[p]!;
      }
    }
    return out.subarray(0, m).sort();
  };
  /** The keys of the docs `pick` approves and `extra`, less those in `except`; null when that leaves none. */
  const keysOf = (pick: (doc: number) => boolean, extra: Iterable<number>, except: KeySet | null): KeySet | null => {
    const picked: number[] = [];
    for (let p = 0; p < r; p++) if (pick(docs[p]!)) picked.push(docs[p]!);
    const extraKeys = Array.from(extra);
    const set = new KeySet(picked.length * SKETCH_KEYS + extraKeys.length);
    let any = extraKeys.length > 0;
    for (const key of extraKeys) set.add(key >>> keyShift);
    for (const doc of picked) {
      const at = doc * stride + offset;
      for (let k = 0; k < SKETCH_KEYS && prints[at + k] !== NO_KEY; k++) {
        const key = prints[at + k]! >>> keyShift;
        if (except !== null && except.has(key)) continue;
        set.add(key);
        any = true;
      }
    }
    return any ? set : null;
  };
  const only = later?.only;
  const searched = only === undefined ? null : keysOf(only.changed, only.keys, null);
  const keys = only !== undefined && searched === null ? new Float64Array(0) : sortedKeys(searched);
  const bucket: number[] = [];
  /** The bucket of sorted[s..e), in the order its pairs are taken. */
  const fill = (sorted: Float64Array, s: number, e: number, key: number) => {
    bucket.length = 0;
    for (let q = s; q < e; q++) bucket.push(ranked[sorted[q]! - key * scale]!);
  };
  const pair = (a: number, b: number, key: number, report: (a: number, b: number) => void) => {
    if (a === b || !accept(a, b)) return;
    const first = firstSharedKey(prints, a * stride + offset, b * stride + offset);
    if (first >>> keyShift === key) report(a < b ? a : b, a < b ? b : a);
  };
  /** The bucket's pairs (docs at most window-1 apart), or only those with a doc `involving` approves. */
  const pairs = (key: number, report: (a: number, b: number) => void, involving?: (doc: number) => boolean) => {
    const n = bucket.length;
    const window = Math.min(n, bucketCap);
    if (involving === undefined) {
      for (let i = 0; i < n; i++) {
        const end = Math.min(n, i + window);
        for (let j = i + 1; j < end; j++) pair(bucket[i]!, bucket[j]!, key, report);
      }
      return;
    }
    for (let p = 0; p < n; p++) {
      if (!involving(bucket[p]!)) continue;
      const end = Math.min(n, p + window);
      // A pair of two approved docs is taken from the first of them only.
      for (let q = Math.max(0, p - window + 1); q < p; q++) if (!involving(bucket[q]!)) pair(bucket[q]!, bucket[p]!, key, report);
      for (let q = p + 1; q < end; q++) pair(bucket[p]!, bucket[q]!, key, report);
    }
  };
  // Postponed buckets as (start, end) in keys.
  const held: number[] = [];
  forEachSharedKey(keys, scale, (key, s, e) => {
    fill(keys, s, e, key);
    onBucket?.(bucket, key, bucket.length > bucketCap ? bucketCap : 0);
    if (later === undefined) pairs(key, onPair);
    else {
      // Now, the pairs with a doc that decides now; the others wait with their bucket.
      pairs(key, onPair, later.now);
      held.push(s, e);
    }
  });
  return (involving, report) => {
    for (let k = 0; k < held.length; k += 2) {
      const start = held[k]!;
      const end = held[k + 1]!;
      const key = Math.floor(keys[start]! / scale);
      let any = false;
      for (let q = start; q < end && !any; q++) any = involving(ranked[keys[q]! - key * scale]!);
      if (!any) continue;
      fill(keys, start, end, key);
      pairs(key, report, involving);
    }
    if (only === undefined) return;
    // The buckets of the docs asked about that the search skipped.
    const skipped = keysOf(involving, [], searched);
    if (skipped === null) return;
    const more = sortedKeys(skipped);
    forEachSharedKey(more, scale, (key, s, e) => {
      fill(more, s, e, key);
      pairs(key, report, involving);
    });
  };
}

/**
 * The docs in (order high word, low word, position in docs) order: one typed-array sort of
 * (high word, position), then the rare runs of equal high words by their low words.
 * ranked: the docs by rank; rankAt(): the rank of each position in docs.
 */
function rankDocs(docs: Int32Array, order: Uint32Array | null, posBits: number): { ranked: Int32Array; rankAt: () => Int32Array } {
  const r = docs.length;
  if (order === null) {
    const identity = Int32Array.from(docs, (_, p) => p);
    return { ranked: docs, rankAt: () => identity };
  }
  const scale = 2 ** posBits;
  // The high word and the position share one float64: past 2^21 docs it gives up low bits (the runs below restore the order).
  const shift = Math.max(0, 32 + posBits - 53);
  const byHigh = new Float64Array(r);
  for (let p = 0; p < r; p++) byHigh[p] = (order[2 * docs[p]!]! >>> shift) * scale + p;
  byHigh.sort();
  const positions = new Int32Array(r);
  for (let k = 0; k < r; k++) positions[k] = byHigh[k]! % scale;
  forEachSharedKey(byHigh, scale, (_high, s, e) => {
    const run = Array.from(positions.subarray(s, e));
    run.sort((x, y) => order[2 * docs[x]!]! - order[2 * docs[y]!]! || order[2 * docs[x]! + 1]! - order[2 * docs[y]! + 1]! || x - y);
    positions.set(run, s);
  });
  const ranked = new Int32Array(r);
  for (let k = 0; k < r; k++) ranked[k] = docs[positions[k]!]!;
  let at: Int32Array | undefined;
  const rankAt = () => {
    if (at === undefined) {
      at = new Int32Array(r);
      for (let k = 0; k < r; k++) at[positions[k]!] = k;
    }
    return at;
  };
  return { ranked, rankAt };
}

/**
 * Of the SKETCH_KEYS smallest hashes of A∪B (exactly computable from the
 * two sketches), how many lie in both A and B: an unbiased count of
 * SKETCH_KEYS·Jaccard. Lets the engine drop most false candidates before
 * it touches any text.
 */
export function sharedInUnionSketch(p: Uint32Array, a: number, b: number): number {
  return sharedInUnionSketchOf(p, a, p, b);
}

/** sharedInUnionSketch for two sketches held in different arrays: p's at a, q's at b. */
export function sharedInUnionSketchOf(p: Uint32Array, a: number, q: Uint32Array, b: number): number {
  let i = 0;
  let j = 0;
  let taken = 0;
  let shared = 0;
  while (taken < SKETCH_KEYS) {
    const x = i < SKETCH_KEYS ? p[a + i]! : NO_KEY;
    const y = j < SKETCH_KEYS ? q[b + j]! : NO_KEY;
    if (x === NO_KEY && y === NO_KEY) break;
    if (x === y) {
      shared++;
      i++;
      j++;
    } else if (x < y) {
      i++;
    } else {
      j++;
    }
    taken++;
  }
  return shared;
}

/**
 * Fewest shared keys a pair at Jaccard >= minSimilarity shows, allowing a
 * miss rate near 1e-3 (binomial lower tail): 3 of 8 at 0.8.
 */
export function minSharedKeys(minSimilarity: number): number {
  return Math.max(1, Math.floor(SKETCH_KEYS * minSimilarity * 0.5));
}

/**
 * A SimHash distance no pair at Jaccard >= minSimilarity plausibly exceeds
 * (mean + 5 sd of the bit-flip count at that similarity), for texts too
 * short for bands: a coarse filter, not a decision.
 */
export function looseDistance(minSimilarity: number): number {
  const cos = (2 * minSimilarity) / (1 + minSimilarity);
  const p = Math.acos(Math.max(-1, Math.min(1, cos))) / Math.PI;
  return Math.ceil(64 * p + 5 * Math.sqrt(64 * p * (1 - p)));
}

/** The smallest key two sketches share (NO_KEY if none). */
export function firstSharedKey(p: Uint32Array, a: number, b: number): number {
  let i = 0;
  let j = 0;
  while (i < SKETCH_KEYS && j < SKETCH_KEYS) {
    const x = p[a + i]!;
    const y = p[b + j]!;
    if (x === NO_KEY || y === NO_KEY) break;
    if (x === y) return x;
    if (x < y) i++;
    else j++;
  }
  return NO_KEY;
}
