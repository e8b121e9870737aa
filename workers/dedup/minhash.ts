/**
 * A finer estimate of two texts' shingle Jaccard, read from their prints alone, so a check
 * reads back only the texts that could reach the similarity asked for.
 *
 * The sketch keys (sketch.ts) find candidates, but eight keys cannot tell a pair at Jaccard
 * 0.5 from one at 0.8: on a 1,000,000-question bank a check read and verified ~50 texts, of
 * which 1–3 were duplicates, and that was most of its CPU (docs/no-stall.md). This is a
 * one-permutation MinHash (Li, Owen and Zhang, "One Permutation Hashing", 2012): every
 * distinct shingle falls into one of MINHASH_BINS bins by its hash, and each bin keeps a
 * 4-bit code of its smallest member; 0 means the bin is empty. For a bin not empty on both
 * sides, the two codes agree when the union's smallest member there is a shared shingle
 * (probability the Jaccard, unbiased over the bins not empty in both) or by chance (1 in 15).
 * Chance agreements only raise the count, so a pair is dropped only when its agreements fall
 * below what a pair at exactly the asked similarity shows with probability 1e-4 (a binomial
 * lower tail; the bins sample without replacement, which only narrows the spread).
 *
 * A print with all zero words here (made before this existed, or a text without shingles)
 * tells nothing, and its pairs are never dropped.
 */
import { fmix32 } from './hash.ts';

export const MINHASH_BINS = 64;
/** Eight 4-bit codes a word. */
export const MINHASH_WORDS = MINHASH_BINS / 8;
/** Probability a pair at exactly the asked similarity is dropped, at most. */
const MISS_RATE = 1e-4;

const BIN_SEED = 0x6a09e667;
const CODE_SEED = 0xbb67ae85;
const EMPTY = 0xffffffff;
/** Smallest mixed hash per bin, reused (prints are made one at a time on a thread). */
const smallest = new Uint32Array(MINHASH_BINS);

/** Writes the MinHash of shingles[0..n) (repeats allowed) to out[at..at+MINHASH_WORDS). */
export function minhashOf(shingles: Uint32Array, n: number, out: Uint32Array, at: number): void {
  smallest.fill(EMPTY);
  for (let i = 0; i < n; i++) {
    // A bijection of the shingle hash: distinct shingles never tie. Its top 6 bits pick the bin.
    const m = fmix32((shingles[i]! ^ BIN_SEED) >>> 0);
    const bin = m >>> 26;
    if (m < smallest[bin]!) smallest[bin] = m;
  }
  out.fill(0, at, at + MINHASH_WORDS);
  for (let bin = 0; bin < MINHASH_BINS; bin++) {
    const m = smallest[bin]!;
    if (m === EMPTY) continue;
    const code = 1 + (fmix32((m ^ CODE_SEED) >>> 0) % 15);
    const word = at + (bin >>> 3);
    out[word] = out[word]! | (code << (4 * (bin & 7)));
  }
}

/** How many of x's eight nibbles are zero. */
function zeroNibbles(x: number): number {
  let t = x | (x >>> 1);
  t |= t >>> 2;
  t &= 0x11111111;
  // Sums the eight indicator bits into the top nibble (at most 8: no carry).
  return 8 - (Math.imul(t, 0x11111111) >>> 28);
}

/**
 * For each count of bins compared (0..MINHASH_BINS), the fewest agreements a pair at the
 * similarity shows but with probability MISS_RATE: fewer, and the pair is dropped.
 */
export type MinhashFloor = Uint8Array;

/** The floor for minSimilarity (binomial lower tail, computed exactly). */
export function minhashFloor(minSimilarity: number): MinhashFloor {
  const floor = new Uint8Array(MINHASH_BINS + 1);
  const p = Math.min(1, Math.max(0, minSimilarity));
  for (let bins = 1; bins <= MINHASH_BINS; bins++) {
    // P(X = k) for X ~ Binomial(bins, p), summed from k = 0 while it stays within MISS_RATE.
    let below = 0;
    let t = 0;
    for (let k = 0; k <= bins; k++) {
      const pk = binomial(bins, k) * p ** k * (1 - p) ** (bins - k);
      if (below + pk > MISS_RATE) break;
      below += pk;
      t = k + 1;
    }
    floor[bins] = t;
  }
  return floor;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * False when the two prints' MinHashes (p's at a, q's at b) show the pair cannot plausibly
 * reach the similarity of `floor`; true when it may, or when either print tells nothing.
 */
export function mayReach(p: Uint32Array, a: number, q: Uint32Array, b: number, floor: MinhashFloor): boolean {
  let anyP = 0;
  let anyQ = 0;
  let agree = 0;
  let bothEmpty = 0;
  for (let w = 0; w < MINHASH_WORDS; w++) {
    const x = p[a + w]!;
    const y = q[b + w]!;
    anyP |= x;
    anyQ |= y;
    agree += zeroNibbles(x ^ y);
    bothEmpty += zeroNibbles(x | y);
  }
  if (anyP === 0 || anyQ === 0) return true;
  // Two empty bins agree too, but compare nothing.
  return agree - bothEmpty >= floor[MINHASH_BINS - bothEmpty]!;
}
