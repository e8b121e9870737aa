/**
 * Candidate pairs by the pigeonhole principle: split the 64 bits into
 * maxDistance+1 bands; two fingerprints at Hamming distance <= maxDistance
 * agree exactly on at least one band. Documents are sorted by band key
 * (typed-array sort, no hash maps), and only documents sharing a key are
 * compared, so the work follows the number of near pairs, not n².
 */
import { combine, hamming64 } from './hash.ts';
import { forEachSharedKey } from './sorted-runs.ts';

export interface BandLayout {
  starts: number[];
  widths: number[];
}

export function bandLayout(maxDistance: number): BandLayout {
  const k = Math.max(1, Math.min(64, Math.floor(maxDistance) + 1));
  const base = Math.floor(64 / k);
  const extra = 64 % k;
  const starts: number[] = [];
  const widths: number[] = [];
  let at = 0;
  for (let b = 0; b < k; b++) {
    const w = base + (b < extra ? 1 : 0);
    starts.push(at);
    widths.push(w);
    at += w;
  }
  return { starts, widths };
}

/** Bits [start, start+width) of the 64-bit value (hi, lo); bit 0 is lo's lowest. */
export function bandKey(hi: number, lo: number, start: number, width: number): number {
  if (width > 32) return combine(hi, lo);
  let v: number;
  if (start >= 32) v = hi >>> (start - 32);
  else if (start + width <= 32) v = lo >>> start;
  else v = (lo >>> start) | (hi << (32 - start));
  return width === 32 ? v >>> 0 : (v & ((1 << width) - 1)) >>> 0;
}

/**
 * Calls onPair(a, b, distance) once for every pair of docs (a < b as doc
 * indices) that shares a band and lies within maxDistance.
 *
 * docs: the doc indices taking part; fp: 2 words per doc index (hi, lo).
 * A bucket larger than bucketCap (a template repeated thousands of times)
 * is sorted by full fingerprint and each doc is only compared with its next
 * bucketCap neighbours, which keeps the worst case linear.
 */
export function bandCandidates(
  docs: Int32Array,
  fp: Uint32Array,
  maxDistance: number,
  onPair: (a: number, b: number, distance: number) => void,
  bucketCap = 64,
  /**
   * Told of every bucket of two or more docs (bucket: reused, read it at once; id: band * 2^32 + key;
   * window: 0, or the cap when each doc meets only its next cap-1 neighbours in bucket order).
   * Which pairs of a windowed bucket meet depends on every doc in it, not on the pair alone.
   */
  onBucket?: (bucket: readonly number[], id: number, window: number) => void,
): void {
  const r = docs.length;
  if (r < 2) return;
  const { starts, widths } = bandLayout(maxDistance);
  let posBits = 1;
  while (1 << posBits < r) posBits++;
  const scale = 2 ** posBits;
  // Key and position share one float64 (53 bits); very large inputs give up low key bits.
  const keyShift = Math.max(0, 32 + posBits - 53);
  const packed = new Float64Array(r);
  const bucket: number[] = [];

  const sharedEarlier = (a: number, b: number, band: number): boolean => {
    for (let e = 0; e < band; e++) {
      if (bandKey(fp[2 * a]!, fp[2 * a + 1]!, starts[e]!, widths[e]!) === bandKey(fp[2 * b]!, fp[2 * b + 1]!, starts[e]!, widths[e]!)) return true;
    }
    return false;
  };
  const consider = (x: number, y: number, band: number): void => {
    const a = x < y ? x : y;
    const b = x < y ? y : x;
    const d = hamming64(fp[2 * a]!, fp[2 * a + 1]!, fp[2 * b]!, fp[2 * b + 1]!);
    if (d <= maxDistance && !sharedEarlier(a, b, band)) onPair(a, b, d);
  };

  for (let band = 0; band < starts.length; band++) {
    const start = starts[band]!;
    const width = widths[band]!;
    for (let p = 0; p < r; p++) {
      const doc = docs[p]!;
      const key = bandKey(fp[2 * doc]!, fp[2 * doc + 1]!, start, width) >>> keyShift;
      packed[p] = key * scale + p;
    }
    packed.sort();
    forEachSharedKey(packed, scale, (key, s, e) => {
      bucket.length = 0;
      for (let q = s; q < e; q++) bucket.push(docs[packed[q]! - key * scale]!);
      if (bucket.length > bucketCap) {
        bucket.sort((x, y) => fp[2 * x]! - fp[2 * y]! || fp[2 * x + 1]! - fp[2 * y + 1]!);
      }
      const window = bucket.length > bucketCap ? bucketCap : bucket.length;
      onBucket?.(bucket, band * 2 ** 32 + key, bucket.length > bucketCap ? bucketCap : 0);
      for (let i = 0; i < bucket.length; i++) {
        const end = Math.min(bucket.length, i + window);
        for (let j = i + 1; j < end; j++) consider(bucket[i]!, bucket[j]!, band);
      }
    });
  }
}
