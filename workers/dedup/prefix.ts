/**
 * Candidate pairs for texts too short to fingerprint reliably: on a stem of
 * a dozen shingles one edited character moves many SimHash bits, so bands
 * would miss them. Prefix filtering (AllPairs) is exact instead: order every
 * set by global shingle rarity; two sets with Jaccard >= t must share a
 * shingle among their first |x| - ceil(t|x|) + 1.
 */

/**
 * sets[p] is the sorted shingle set of docs[p]. Calls onPair(a, b) for doc
 * pairs whose sizes allow Jaccard >= minSim and whose prefixes meet. A
 * posting list longer than bucketCap is only scanned for its newest entries.
 */
export function prefixCandidates(
  docs: Int32Array,
  sets: Uint32Array[],
  minSim: number,
  onPair: (a: number, b: number) => void,
  bucketCap = 64,
): void {
  const r = docs.length;
  if (r < 2) return;
  const t = Math.max(0, Math.min(1, minSim));
  const freq = new Map<number, number>();
  for (const s of sets) for (const v of s) freq.set(v, (freq.get(v) ?? 0) + 1);

  const order = Array.from({ length: r }, (_, p) => p);
  order.sort((x, y) => sets[x]!.length - sets[y]!.length);
  const index = new Map<number, number[]>();
  const seen = new Int32Array(r).fill(-1);

  for (const p of order) {
    const set = sets[p]!;
    const size = set.length;
    if (size === 0) continue;
    const rare = Array.from(set);
    rare.sort((x, y) => freq.get(x)! - freq.get(y)! || x - y);
    const prefix = Math.max(1, Math.min(size, size - Math.ceil(t * size - 1e-9) + 1));
    const minSize = t * size - 1e-9;
    for (let k = 0; k < prefix; k++) {
      const postings = index.get(rare[k]!);
      if (postings === undefined) continue;
      for (let q = Math.max(0, postings.length - bucketCap); q < postings.length; q++) {
        const other = postings[q]!;
        if (seen[other] === p || sets[other]!.length < minSize) continue;
        seen[other] = p;
        const a = docs[p]!;
        const b = docs[other]!;
        onPair(a < b ? a : b, a < b ? b : a);
      }
    }
    for (let k = 0; k < prefix; k++) {
      const v = rare[k]!;
      const postings = index.get(v);
      if (postings === undefined) index.set(v, [p]);
      else postings.push(p);
    }
  }
}
