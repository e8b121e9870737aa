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

export const SKETCH_KEYS = 8;
/** Marks an unused key slot of a text with fewer shingles than SKETCH_KEYS. */
export const NO_KEY = 0xffffffff;

/** Copies the first SKETCH_KEYS of a sorted shingle set into out[at..]. */
export function sketchKeys(sortedShingles: Uint32Array, count: number, out: Uint32Array, at: number): void {
  for (let k = 0; k < SKETCH_KEYS; k++) out[at + k] = k < count ? sortedShingles[k]! : NO_KEY;
}

/**
 * Calls onPair(a, b) (a < b, doc indices) for docs sharing a sketch key.
 * keyOf(doc, k) reads key k of a doc. All keys go into one sorted array,
 * so a pair whose keys sit in different slots still meets. A key shared by
 * more than bucketCap docs (a stock phrase) only pairs each doc with its
 * next bucketCap neighbours in `order` (close fingerprints sort together).
 */
export function sketchCandidates(
  docs: Int32Array,
  keyOf: (doc: number, k: number) => number,
  order: (x: number, y: number) => number,
  onPair: (a: number, b: number) => void,
  bucketCap = 64,
): void {
  const r = docs.length;
  if (r < 2) return;
  let posBits = 1;
  while (1 << posBits < r) posBits++;
  const scale = 2 ** posBits;
  const keyShift = Math.max(0, 32 + posBits - 53);
  const packed = new Float64Array(r * SKETCH_KEYS);
  let m = 0;
  for (let p = 0; p < r; p++) {
    for (let k = 0; k < SKETCH_KEYS; k++) {
      const key = keyOf(docs[p]!, k);
      if (key === NO_KEY) break;
      packed[m++] = (key >>> keyShift) * scale + p;
    }
  }
  const keys = packed.subarray(0, m);
  keys.sort();
  const bucket: number[] = [];
  let s = 0;
  while (s < m) {
    const key = Math.floor(keys[s]! / scale);
    let e = s + 1;
    while (e < m && Math.floor(keys[e]! / scale) === key) e++;
    if (e - s > 1) {
      bucket.length = 0;
      for (let q = s; q < e; q++) bucket.push(docs[keys[q]! - key * scale]!);
      if (bucket.length > bucketCap) bucket.sort(order);
      const window = Math.min(bucket.length, bucketCap);
      for (let i = 0; i < bucket.length; i++) {
        const end = Math.min(bucket.length, i + window);
        for (let j = i + 1; j < end; j++) {
          const a = bucket[i]!;
          const b = bucket[j]!;
          if (a !== b) onPair(a < b ? a : b, a < b ? b : a);
        }
      }
    }
    s = e;
  }
}
