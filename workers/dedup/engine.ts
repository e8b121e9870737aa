/**
 * One group's dedup: normalize → exact stage → SimHash bands (or prefix
 * filter for short texts) → verify → union-find clusters.
 */
import type { Cluster, ClusterMember, GroupJob, GroupResult } from '../protocol.ts';
import { FP_WORDS, F_AGREE, F_CONTENT_A, F_CONTENT_B, F_COUNT, F_EXACT_A, F_EXACT_B, F_SIM_HI, F_SIM_LO, F_SKETCH } from './print.ts';
import { firstSharedKey, looseDistance, minSharedKeys, sharedInUnionSketch, sketchCandidates, sketchKeys } from './sketch.ts';
import { bandCandidates } from './bands.ts';
import { extract, formulaKey, shingle, shingleBuffer, shingleCopy } from './features.ts';
import { combine, hamming64, hashString64 } from './hash.ts';
import { normalize } from './normalize.ts';
import { simhash64 } from './simhash.ts';
import { UnionFind } from './union-find.ts';
import { jaccard, jaccardUpperBound, optionsAgree } from './verify.ts';

/**
 * Distinct shingles from which a text's SimHash keeps one edited character
 * within maxDistance bits in >= 95% of cases, measured on the GAOKAO data
 * by test/bench/short-edit.ts. Shorter texts are "too short to fingerprint
 * reliably": they get sketch candidates, and verify decides.
 */
export function shortShinglesFor(maxDistance: number): number {
  const table = [4096, 4096, 2048, 1024, 768, 512, 384, 256];
  return maxDistance < table.length ? table[Math.max(0, Math.floor(maxDistance))]! : 128;
}

/** Bumped whenever normalization or hashing changes, so stale cached prints never match. */
export const ALGORITHM_VERSION = 1;

const SEED_A = 0x3c6ef372 ^ ALGORITHM_VERSION;
const SEED_B = 0xa54ff53a ^ Math.imul(ALGORITHM_VERSION, 0x9e3779b1);

const scratch = new Uint32Array(4);

/** The cache key: a hash of exactly what the runner sent (content and options JSON). */
function contentHash(content: string, options: string | null, out: Uint32Array, at: number): void {
  hashString64(content, SEED_A, out, at);
  if (options !== null) {
    hashString64(options, SEED_B, scratch, 0);
    out[at] = combine(out[at]!, scratch[0]!);
    out[at + 1] = combine(out[at + 1]!, scratch[1]!);
  }
}

/**
 * Computes the print of one question into out[at..at+FP_WORDS). Returns
 * the normalized text so a caller that needs it does not redo the work.
 */
export function fingerprintQuestion(content: string, options: string | null, out: Uint32Array, at: number): string {
  const { text } = normalize(content, options);
  // SimHash and sketch need no sorted set: the unsorted shingles (with repeats) will do.
  const n = shingle(text);
  const shingles = shingleBuffer();
  contentHash(content, options, out, at + F_CONTENT_A);
  hashString64(text, SEED_A, out, at + F_EXACT_A);
  simhash64(shingles, n, out, at + F_SIM_HI);
  out[at + F_AGREE] = formulaKey();
  out[at + F_COUNT] = n;
  sketchKeys(shingles, n, out, at + F_SKETCH);
  return text;
}

/** True when the cached print at row i was made from this very content. */
function cachedPrintFits(prints: Uint32Array, at: number, content: string, options: string | null): boolean {
  contentHash(content, options, scratch, 2);
  return prints[at + F_CONTENT_A] === scratch[2] && prints[at + F_CONTENT_B] === scratch[3];
}

interface VerifyData {
  shingles: Uint32Array;
  options: string[];
}

export interface EngineResult extends GroupResult {
  prints: Uint32Array;
  fresh: Uint8Array;
}

/** Knobs for experiments (test/bench/tune.ts); production uses the defaults. */
export interface EngineTuning {
  shortShingles?: number;
  /** Filled in when given: where the time went. */
  stats?: EngineStats;
}

export interface EngineStats {
  fresh: number;
  exactMerged: number;
  candidatePairs: number;
  verifiedPairs: number;
  textsReadForVerify: number;
  ms: { prints: number; exact: number; candidates: number; clusters: number };
}

export function dedupGroup(job: GroupJob, tuning: EngineTuning = {}): EngineResult {
  const shortShingles = tuning.shortShingles ?? shortShinglesFor(job.opts.maxDistance);
  let tMark = performance.now();
  const n = job.ids.length;
  const { maxDistance, minSimilarity } = job.opts;
  const prints = new Uint32Array(n * FP_WORDS);
  const fresh = new Uint8Array(n);
  const cached = job.prints ?? null;
  for (let i = 0; i < n; i++) {
    const at = i * FP_WORDS;
    const content = job.contents[i] ?? '';
    const options = job.options[i] ?? null;
    if (cached !== null && cached.length >= at + FP_WORDS && cachedPrintFits(cached, at, content, options)) {
      prints.set(cached.subarray(at, at + FP_WORDS), at);
    } else {
      fingerprintQuestion(content, options, prints, at);
      fresh[i] = 1;
    }
  }

  // Verification needs the text itself; only candidates pay for it, and only once.
  const verifyCache = new Map<number, VerifyData>();
  const dataOf = (i: number): VerifyData => {
    let d = verifyCache.get(i);
    if (d === undefined) {
      const norm = normalize(job.contents[i] ?? '', job.options[i] ?? null);
      d = { shingles: shingleCopy(extract(norm.text)), options: norm.options === '' ? [] : norm.options.split('\n').filter((o) => o !== '') };
      verifyCache.set(i, d);
    }
    return d;
  };
  const shinglesOf = (i: number): Uint32Array => dataOf(i).shingles;

  const stats = tuning.stats;
  const lap = (): number => {
    const now = performance.now();
    const d = now - tMark;
    tMark = now;
    return d;
  };
  if (stats !== undefined) stats.ms.prints = lap();
  const uf = new UnionFind(n);
  // Exact stage: identical normalized text. The 53-bit map key is checked against all 64 bits.
  const firstByExact = new Map<number, number>();
  const reps: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * FP_WORDS;
    const a = prints[at + F_EXACT_A]!;
    const b = prints[at + F_EXACT_B]!;
    const key = a * 0x200000 + (b & 0x1fffff);
    const first = firstByExact.get(key);
    if (first !== undefined && prints[first * FP_WORDS + F_EXACT_B] === b) {
      uf.union(first, i);
    } else {
      if (first === undefined) firstByExact.set(key, i);
      reps.push(i);
    }
  }

  /** Verifies a candidate pair; true when the two now share a cluster. */
  const tryPair = (a: number, b: number): boolean => {
    if (uf.find(a) === uf.find(b)) return true;
    const pa = a * FP_WORDS;
    const pb = b * FP_WORDS;
    if (prints[pa + F_AGREE] !== prints[pb + F_AGREE]) return false;
    const da = dataOf(a);
    const db = dataOf(b);
    if (stats !== undefined) stats.verifiedPairs++;
    if (jaccardUpperBound(da.shingles.length, db.shingles.length) < minSimilarity) return false;
    if (jaccard(da.shingles, db.shingles) < minSimilarity || !optionsAgree(da.options, db.options)) return false;
    uf.union(a, b);
    return true;
  };

  const fp = new Uint32Array(2 * n);
  const longDocs: number[] = [];
  const shortDocs: number[] = [];
  // Texts near the short limit go through both paths: a short text's duplicate may be just over it.
  const shortLimit = Math.ceil(shortShingles / Math.max(0.5, minSimilarity));
  for (const i of reps) {
    fp[2 * i] = prints[i * FP_WORDS + F_SIM_HI]!;
    fp[2 * i + 1] = prints[i * FP_WORDS + F_SIM_LO]!;
    const count = prints[i * FP_WORDS + F_COUNT]!;
    if (count >= shortShingles) longDocs.push(i);
    if (count < shortLimit) shortDocs.push(i);
  }
  if (stats !== undefined) stats.ms.exact = lap();
  bandCandidates(Int32Array.from(longDocs), fp, maxDistance, (a, b) => {
    if (stats !== undefined) stats.candidatePairs++;
    tryPair(a, b);
  });
  const needShared = minSharedKeys(minSimilarity);
  const loose = looseDistance(minSimilarity);
  const keyMask = shortDocs.length >= 1 << 21 ? -1 << Math.max(0, 32 + Math.ceil(Math.log2(shortDocs.length)) - 53) : -1;
  sketchCandidates(
    Int32Array.from(shortDocs),
    (doc, k) => prints[doc * FP_WORDS + F_SKETCH + k]!,
    (x, y) => fp[2 * x]! - fp[2 * y]! || fp[2 * x + 1]! - fp[2 * y + 1]!,
    (a, b, key) => {
      if (prints[a * FP_WORDS + F_AGREE] !== prints[b * FP_WORDS + F_AGREE]) return;
      const sa = a * FP_WORDS + F_SKETCH;
      const sb = b * FP_WORDS + F_SKETCH;
      // A pair sharing several keys is met once per key; it is handled under the first only.
      if (((firstSharedKey(prints, sa, sb) & keyMask) >>> 0) !== key >>> 0) return;
      if (stats !== undefined) stats.candidatePairs++;
      // Prints first: most pairs sharing one stock phrase end here, before any text is read.
      if (sharedInUnionSketch(prints, sa, sb) < needShared) return;
      if (hamming64(fp[2 * a]!, fp[2 * a + 1]!, fp[2 * b]!, fp[2 * b + 1]!) > loose) return;
      tryPair(a, b);
    },
  );

  if (stats !== undefined) {
    stats.ms.candidates = lap();
    stats.textsReadForVerify = verifyCache.size;
  }
  const clusters = buildClusters(job, uf, prints, shinglesOf);
  if (stats !== undefined) {
    stats.ms.clusters = lap();
    stats.textsReadForVerify = verifyCache.size;
    stats.fresh = fresh.reduce((a, b) => a + b, 0);
    stats.exactMerged = n - reps.length;
  }
  return { clusters, prints, fresh };
}

function buildClusters(
  job: GroupJob,
  uf: UnionFind,
  prints: Uint32Array,
  shinglesOf: (i: number) => Uint32Array,
): Cluster[] {
  const n = job.ids.length;
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = uf.find(i);
    if (root === i && byRoot.get(i) === undefined) {
      byRoot.set(i, [i]);
      continue;
    }
    const list = byRoot.get(root);
    if (list === undefined) byRoot.set(root, [i]);
    else list.push(i);
  }
  const clusters: Cluster[] = [];
  for (const members of byRoot.values()) {
    if (members.length < 2) continue;
    // Lowest id first, whatever order the runner sent.
    members.sort((x, y) => job.ids[x]! - job.ids[y]!);
    const c = members[0]!;
    const pc = c * FP_WORDS;
    const out: ClusterMember[] = [{ questionId: job.ids[c]!, distance: 0, similarity: 1 }];
    for (let k = 1; k < members.length; k++) {
      const m = members[k]!;
      const pm = m * FP_WORDS;
      const exact = prints[pm + F_EXACT_A] === prints[pc + F_EXACT_A] && prints[pm + F_EXACT_B] === prints[pc + F_EXACT_B];
      out.push({
        questionId: job.ids[m]!,
        distance: hamming64(prints[pm + F_SIM_HI]!, prints[pm + F_SIM_LO]!, prints[pc + F_SIM_HI]!, prints[pc + F_SIM_LO]!),
        similarity: exact ? 1 : Math.round(jaccard(shinglesOf(m), shinglesOf(c)) * 10000) / 10000,
      });
    }
    clusters.push({ canonicalId: job.ids[c]!, members: out });
  }
  clusters.sort((x, y) => x.canonicalId - y.canonicalId);
  return clusters;
}
