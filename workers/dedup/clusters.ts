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
  /** Members' similarities already known (a cluster kept whole from the previous run), so no text is read. */
  knownSimilarities?: (members: readonly number[]) => number[] | undefined,
): Cluster[] {
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < ids.length; i++) {
    const root = uf.find(i);
    const list = byRoot.get(root);
    if (list === undefined) byRoot.set(root, [i]);
    else list.push(i);
  }
  const clusters: Cluster[] = [];
  for (const members of byRoot.values()) {
    if (members.length < 2) continue;
    // Lowest id first, whatever order the runner sent.
    members.sort((x, y) => ids[x]! - ids[y]!);
    const c = members[0]!;
    const pc = c * FP_WORDS;
    const known = knownSimilarities?.(members);
    const out: ClusterMember[] = [{ questionId: ids[c]!, distance: 0, similarity: 1 }];
    for (let k = 1; k < members.length; k++) {
      const m = members[k]!;
      const pm = m * FP_WORDS;
      const same = rep[m] === rep[c];
      out.push({
        questionId: ids[m]!,
        distance: hamming64(prints[pm + F_SIM_HI]!, prints[pm + F_SIM_LO]!, prints[pc + F_SIM_HI]!, prints[pc + F_SIM_LO]!),
        similarity: known !== undefined ? known[k]! : same ? 1 : Math.round(jaccard(shinglesOf(rep[m]!), shinglesOf(rep[c]!)) * 10000) / 10000,
      });
    }
    clusters.push(known !== undefined ? { canonicalId: ids[c]!, members: out, kept: true } : { canonicalId: ids[c]!, members: out });
  }
  clusters.sort((x, y) => x.canonicalId - y.canonicalId);
  return clusters;
}
