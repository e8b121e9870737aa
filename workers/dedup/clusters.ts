/** Union-find sets → the result's clusters, canonical (lowest id) first. */
import type { Cluster, ClusterMember } from '../protocol.ts';
import { hamming64 } from './hash.ts';
import { F_SIM_HI, F_SIM_LO, FP_WORDS } from './print.ts';
import type { UnionFind } from './union-find.ts';
import { jaccard } from './verify.ts';

/**
 * rep[i] is the first row with the same normalized text as row i (the
 * exact stage's representative): similarity is computed between reps, so a
 * member whose own text was never sent is still covered.
 */
export function buildClusters(
  ids: Float64Array,
  uf: UnionFind,
  prints: Uint32Array,
  rep: Int32Array,
  shinglesOf: (i: number) => Uint32Array,
  /**
   * What the previous run knew (reuse.ts), so no text is read for it: every member's similarity
   * when the rows are a cluster kept whole, else one member's similarity to the canonical when
   * both are unchanged and that was its canonical then.
   */
  previous?: {
    similarities: (members: readonly number[]) => number[] | undefined;
    similarity: (member: number, canonical: number) => number | undefined;
  },
): Cluster[] {
  // Rows by root in typed arrays (a counting sort), not a list per row: most rows are alone,
  // and a re-run goes through every row of the group.
  const n = ids.length;
  const root = new Int32Array(n);
  const size = new Int32Array(n);
  for (let i = 0; i < n; i++) size[(root[i] = uf.find(i))]!++;
  const start = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) start[r + 1] = start[r]! + (size[r]! >= 2 ? size[r]! : 0);
  const rows = new Int32Array(start[n]!);
  const filled = start.slice(0, n);
  for (let i = 0; i < n; i++) if (size[root[i]!]! >= 2) rows[filled[root[i]!]!++] = i;
  const clusters: Cluster[] = [];
  for (let r = 0; r < n; r++) {
    if (size[r]! < 2) continue;
    const members: number[] = [];
    for (let k = start[r]!; k < start[r + 1]!; k++) members.push(rows[k]!);
    // Lowest id first, whatever order the runner sent (rows ascend: already so when ids do).
    if (!ascendingIds(ids, members)) members.sort((x, y) => ids[x]! - ids[y]!);
    const c = members[0]!;
    const pc = c * FP_WORDS;
    const known = previous?.similarities(members);
    const out: ClusterMember[] = [{ questionId: ids[c]!, distance: 0, similarity: 1 }];
    for (let k = 1; k < members.length; k++) {
      const m = members[k]!;
      const pm = m * FP_WORDS;
      const same = rep[m] === rep[c];
      out.push({
        questionId: ids[m]!,
        distance: hamming64(prints[pm + F_SIM_HI]!, prints[pm + F_SIM_LO]!, prints[pc + F_SIM_HI]!, prints[pc + F_SIM_LO]!),
        similarity: known?.[k] ?? (same ? 1 : (previous?.similarity(m, c) ?? Math.round(jaccard(shinglesOf(rep[m]!), shinglesOf(rep[c]!)) * 10000) / 10000)),
      });
    }
    clusters.push(known !== undefined ? { canonicalId: ids[c]!, members: out, kept: true } : { canonicalId: ids[c]!, members: out });
  }
  clusters.sort((x, y) => x.canonicalId - y.canonicalId);
  return clusters;
}

function ascendingIds(ids: Float64Array, rows: readonly number[]): boolean {
  for (let k = 1; k < rows.length; k++) if (!(ids[rows[k - 1]!]! < ids[rows[k]!]!)) return false;
  return true;
}
