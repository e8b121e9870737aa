/** Jaccard similarity of two sorted sets of distinct shingle hashes. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  const na = a.length;
  const nb = b.length;
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < na && j < nb) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      inter++;
      i++;
      j++;
    } else if (x < y) {
      i++;
    } else {
      j++;
    }
  }
  return inter / (na + nb - inter);
}

/**
 * Largest Jaccard two sets of these sizes can reach; lets the caller skip
 * the merge when the sizes alone rule a pair out.
 */
export function jaccardUpperBound(na: number, nb: number): number {
  if (na === 0 && nb === 0) return 1;
  return Math.min(na, nb) / Math.max(na, nb);
}
