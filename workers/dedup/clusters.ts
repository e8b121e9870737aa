/** Union-find sets → the result's clusters, canonical (lowest id) first. */
import type { Cluster, ClusterMember } from '../protocol.ts';
import { hamming64 } from './hash.ts';
import { F_AGREE, F_COUNT, F_SIM_HI, F_SIM_LO, FP_WORDS, P_FORMULAS, P_NUMBERS } from './print.ts';
import { CHECK_FORMULAS, CHECK_NUMBERS, CHECK_SIMILARITY, CHECK_TEXT, STAGE_EXACT, STAGE_SIMILAR } from './reason.ts';
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
  /** The task's min_similarity: a member's reason names `similarity` when its Jaccard reaches it. */
  minSimilarity: number,
  /**
   * The checks verified on the two rows' texts (CHECK_KEY_WORDS, CHECK_OPTIONS: reason.ts), read
   * when a member's similarity is measured on texts too.
   */
  textChecksOf: (a: number, b: number) => number,
  /**
   * What the previous run knew (reuse.ts), so no text is read for it: every member's similarity
   * when the rows are a cluster kept whole, else one member's similarity to the canonical when
   * both are unchanged and that was its canonical then.
   */
  previous?: {
    similarities: (members: readonly number[]) => number[] | undefined;
    similarity: (member: number, canonical: number) => number | undefined;
    /** The member's reason then (reuse.ts packReason), where one of the above answered for it. */
    reason: (member: number) => number;
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
  // Every cluster's stages and checks are views into one buffer each: a result then posts two
  // buffers to the main thread, not two small arrays per cluster.
  const stages = new Uint8Array(rows.length);
  const checks = new Uint8Array(rows.length);
  let slot = 0;
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
    const stage = stages.subarray(slot, slot + members.length);
    const check = checks.subarray(slot, slot + members.length);
    slot += members.length;
    // The canonical question is the same text as itself; so is an exact member: nothing else to check.
    check[0] = CHECK_TEXT;
    for (let k = 1; k < members.length; k++) {
      const m = members[k]!;
      const pm = m * FP_WORDS;
      const same = rep[m] === rep[c];
      const then = known?.[k] ?? previous?.similarity(m, c);
      const similarity = same ? 1 : (then ?? Math.round(jaccard(shinglesOf(rep[m]!), shinglesOf(rep[c]!)) * 10000) / 10000);
      out.push({
        questionId: ids[m]!,
        distance: hamming64(prints[pm + F_SIM_HI]!, prints[pm + F_SIM_LO]!, prints[pc + F_SIM_HI]!, prints[pc + F_SIM_LO]!),
        similarity: known?.[k] ?? similarity,
      });
      if (same) {
        stage[k] = STAGE_EXACT;
        check[k] = CHECK_TEXT;
      } else if (then !== undefined) {
        // The same two texts as in the previous run: the same reason.
        const packed = previous!.reason(m);
        stage[k] = packed >>> 8;
        check[k] = packed & 0xff;
      } else {
        stage[k] = STAGE_SIMILAR;
        // Numbers and formulas share the agreement key: equal keys, both agree.
        let mask = (similarity >= minSimilarity ? CHECK_SIMILARITY : 0) | textChecksOf(rep[m]!, rep[c]!);
        if (prints[pm + F_AGREE] === prints[pc + F_AGREE]) mask |= contentChecks(prints[pc + F_COUNT]!);
        check[k] = mask;
      }
    }
    const cluster: Cluster = { canonicalId: ids[c]!, members: out, stages: stage, checks: check };
    if (known !== undefined) cluster.kept = true;
    clusters.push(cluster);
  }
  clusters.sort((x, y) => x.canonicalId - y.canonicalId);
  return clusters;
}

/** The agreement-key checks a question's print says it has something for (F_COUNT's P_* flags). */
export function contentChecks(count: number): number {
  return ((count & P_NUMBERS) !== 0 ? CHECK_NUMBERS : 0) | ((count & P_FORMULAS) !== 0 ? CHECK_FORMULAS : 0);
}

function ascendingIds(ids: Float64Array, rows: readonly number[]): boolean {
  for (let k = 1; k < rows.length; k++) if (!(ids[rows[k - 1]!]! < ids[rows[k]!]!)) return false;
  return true;
}
