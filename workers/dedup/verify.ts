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

/** Levenshtein similarity 1 - d/maxLen, on char codes, O(n·m) with one row. */
export function editSimilarity(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0 && m === 0) return 1;
  if (n === 0 || m === 0) return 0;
  const row = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) row[j] = j;
  for (let i = 1; i <= n; i++) {
    let diag = row[0]!;
    row[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= m; j++) {
      const up = row[j]!;
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + cost);
      diag = up;
    }
  }
  return 1 - row[m]! / Math.max(n, m);
}

/** Options longer than this are compared on their ends only: a typo test, not an alignment. */
const OPTION_CLIP = 96;
const clip = (s: string) => (s.length <= OPTION_CLIP ? s : s.slice(0, OPTION_CLIP / 2) + s.slice(-OPTION_CLIP / 2));

/**
 * True when the option lists match up: every option of the shorter list
 * (both lists when they are equally long) has a close partner on the other
 * side. One replaced option makes another question; a typo in an option,
 * or a passage whose option blocks were cut differently, does not.
 */
export function optionsAgree(a: readonly string[], b: readonly string[], minSimilarity = 0.7): boolean {
  if (a.length === 0 || b.length === 0) return true;
  if (a.length <= b.length && !allMatched(a, b, minSimilarity)) return false;
  if (b.length <= a.length && !allMatched(b, a, minSimilarity)) return false;
  return true;
}

function allMatched(few: readonly string[], many: readonly string[], minSimilarity: number): boolean {
  // Most duplicates repeat their options verbatim: only the rest pay for an edit distance.
  const verbatim = new Set(many);
  for (const o of few) {
    if (verbatim.has(o)) continue;
    const x = clip(o);
    let found = false;
    for (const p of many) {
      if (p === o || editSimilarity(x, clip(p)) >= minSimilarity) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}
