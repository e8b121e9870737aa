/**
 * Reviewers' remembered pair decisions in one group's run (GroupJob.verdicts, contract "Review and
 * resolution"; why this way: docs/review-engine.md).
 *
 * The run first finds its clusters as it always did (union as it verifies), plus every `duplicate`
 * pair joined. Only a set that then holds both questions of a `distinct` pair (a conflict) is
 * built again, by itself: its edges (duplicate verdicts, then exact copies, then verified pairs
 * from most to least similar, ties by question ids) are joined in that order, and a join that
 * would put a distinct pair into one set is refused. So the question that links the two less
 * strongly leaves, and the answer depends on the set's rows alone. Everything else costs nothing:
 * a run without a conflict does not look at its rows again.
 */
import type { Cluster, PairVerdicts } from '../protocol.ts';
import { bandCandidates } from './bands.ts';
import { hamming64 } from './hash.ts';
import { COUNT_MASK, F_AGREE, F_COUNT, F_SIM_HI, F_SIM_LO, F_SKETCH, FP_WORDS } from './print.ts';
import { STAGE_REVIEWED } from './reason.ts';
import { sharedInUnionSketch, sketchCandidates } from './sketch.ts';
import { UnionFind } from './union-find.ts';

/** GroupJob.verdicts as rows of the job. */
export interface RowVerdicts {
  /** Row pairs, flattened, each pair (lower row, higher row). */
  duplicate: Int32Array;
  distinct: Int32Array;
  /**
   * 1 where a verdict shaped the row's cluster in this run (joinVerdicts, splitConflicts): the two
   * questions of a duplicate pair that joined two sets, every question of a set split for a
   * distinct pair. The snapshot lists them, and the next run decides them afresh (reuse.ts); a
   * verdict that changed nothing (a confirmed pair the engine joins anyway, a distinct pair
   * already apart) marks nothing, so its questions keep their reuse.
   */
  shaped: Uint8Array;
  /** id → row of the job, -1 when absent. */
  rowOf: (id: number) => number;
}

/** The verdicts mapped onto the job's rows; null when none names two rows of the job. */
export function rowVerdicts(verdicts: PairVerdicts, ids: Float64Array): RowVerdicts | null {
  const rowOf = rowLookup(ids);
  let any = false;
  const map = (pairs: Int32Array): Int32Array => {
    const out = new Int32Array(pairs.length - (pairs.length % 2));
    let m = 0;
    for (let k = 0; k + 1 < pairs.length; k += 2) {
      const a = rowOf(pairs[k]!);
      const b = rowOf(pairs[k + 1]!);
      if (a < 0 || b < 0 || a === b) continue;
      out[m++] = a < b ? a : b;
      out[m++] = a < b ? b : a;
      any = true;
    }
    return out.subarray(0, m);
  };
  const duplicate = map(verdicts.duplicate);
  const distinct = map(verdicts.distinct);
  return any ? { duplicate, distinct, shaped: new Uint8Array(ids.length), rowOf } : null;
}

/** id → row of the job (-1 when absent): a binary search when ids ascend (they do from the runner), else a map. */
export function rowLookup(ids: Float64Array): (id: number) => number {
  let ascending = true;
  for (let i = 1; i < ids.length && ascending; i++) ascending = ids[i - 1]! < ids[i]!;
  if (!ascending) {
    const map = new Map<number, number>();
    ids.forEach((id, row) => map.set(id, row));
    return (id) => map.get(id) ?? -1;
  }
  return (id) => rowOf(ids, id);
}

/** Row of `id` in ascending `ids`, or -1. */
export function rowOf(ids: Float64Array, id: number): number {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid]!;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * After the candidate search: joins every duplicate pair and returns the sets that now hold a
 * distinct pair, each as its rows (ascending), plus `plain`: the sets as they were before any
 * duplicate verdict joined them (null without duplicate verdicts), which tells a member joined
 * only through a verdict (reviewedRows()).
 */
export function joinVerdicts(uf: UnionFind, verdicts: RowVerdicts): { plain: UnionFind | null; conflicts: Int32Array[] } {
  const { duplicate, distinct, shaped } = verdicts;
  const plain = duplicate.length > 0 ? uf.clone() : null;
  for (let k = 0; k < duplicate.length; k += 2) {
    if (uf.union(duplicate[k]!, duplicate[k + 1]!)) shaped[duplicate[k]!] = shaped[duplicate[k + 1]!] = 1;
  }
  const n = shaped.length;
  // Conflicted root → its index + 1.
  const conflictOf = new Int32Array(n);
  let count = 0;
  for (let k = 0; k < distinct.length; k += 2) {
    const r = uf.find(distinct[k]!);
    if (r === uf.find(distinct[k + 1]!) && conflictOf[r] === 0) conflictOf[r] = ++count;
  }
  if (count === 0) return { plain, conflicts: [] };
  // One pass over the rows gathers the conflicted sets (the rows of a set are not listed anywhere).
  const members: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < n; i++) {
    const c = conflictOf[uf.find(i)]!;
    if (c > 0) members[c - 1]!.push(i);
  }
  return { plain, conflicts: members.map((rows) => Int32Array.from(rows)) };
}

/** What splitConflicts needs of the run. */
export interface ConflictContext {
  ids: Float64Array;
  prints: Uint32Array;
  /** The exact stage's representative of each row (exact.ts). */
  rep: Int32Array;
  maxDistance: number;
  shortShingles: number;
  /** Shingle count under which a text also takes the sketch path (engine.ts). */
  shortLimit: number;
  sketchBucketCap: number;
  /** The short path's print filter (engine.ts). */
  needShared: number;
  loose: number;
  /** Verified similarity of two exact representatives (their texts are at hand), or null when they are not duplicates. */
  similarity: (a: number, b: number) => number | null;
}

/** Edge tiers, joined in this order: a reviewer's word first, then the engine's from strongest. */
const TIER_VERDICT = 0;
const TIER_EXACT = 1;
const TIER_SIMILAR = 2;
/** Sets at most this large meet every pair directly: no bucket of the candidate search could exceed a cap. */
const DIRECT_PAIRS = 16;

/**
 * Builds each conflicted set again (see the module comment) and writes the result into `uf`
 * (and `plain`: the pieces' joins without verdicts).
 */
export function splitConflicts(conflicts: Int32Array[], uf: UnionFind, plain: UnionFind | null, verdicts: RowVerdicts, ctx: ConflictContext): void {
  const n = ctx.ids.length;
  // Row → (conflict index + 1, local index): the verdicts of each set found in one pass.
  const setOf = new Int32Array(n);
  const localOf = new Int32Array(n);
  conflicts.forEach((rows, c) => rows.forEach((row, local) => ((setOf[row] = c + 1), (localOf[row] = local))));
  const pairsOf = (list: Int32Array) => {
    const bySet: number[][] = conflicts.map(() => []);
    for (let k = 0; k < list.length; k += 2) {
      const c = setOf[list[k]!]!;
      if (c > 0 && setOf[list[k + 1]!] === c) bySet[c - 1]!.push(localOf[list[k]!]!, localOf[list[k + 1]!]!);
    }
    return bySet;
  };
  const duplicates = pairsOf(verdicts.duplicate);
  const distincts = pairsOf(verdicts.distinct);
  conflicts.forEach((rows, c) => {
    for (const row of rows) verdicts.shaped[row] = 1;
    const pieces = splitOne(rows, duplicates[c]!, distincts[c]!, ctx);
    uf.isolate(rows);
    for (let k = 0; k < pieces.joined.length; k += 2) uf.union(rows[pieces.joined[k]!]!, rows[pieces.joined[k + 1]!]!);
    if (plain !== null) {
      plain.isolate(rows);
      for (let k = 0; k < pieces.plain.length; k += 2) plain.union(rows[pieces.plain[k]!]!, rows[pieces.plain[k + 1]!]!);
    }
  });
}

/**
 * One conflicted set (rows ascending): returns the joins made (local index pairs) and the engine's
 * edges inside the resulting pieces (`plain`: what holds each piece together without verdicts).
 */
function splitOne(rows: Int32Array, duplicate: number[], distinct: number[], ctx: ConflictContext): { joined: number[]; plain: number[] } {
  const { ids, rep } = ctx;
  const k = rows.length;
  const edgeA: number[] = [];
  const edgeB: number[] = [];
  const tier: number[] = [];
  const strength: number[] = [];
  const add = (a: number, b: number, t: number, s: number) => {
    edgeA.push(a);
    edgeB.push(b);
    tier.push(t);
    strength.push(s);
  };
  for (let e = 0; e < duplicate.length; e += 2) add(duplicate[e]!, duplicate[e + 1]!, TIER_VERDICT, 1);
  // Exact copies (one representative: the exact stage joined them, so all are in this set) hang
  // on their lowest id, whatever order the job sent them in.
  const first = new Map<number, number>();
  rows.forEach((row, local) => {
    const seen = first.get(rep[row]!);
    if (seen === undefined || ids[row]! < ids[rows[seen]!]!) first.set(rep[row]!, local);
  });
  rows.forEach((row, local) => {
    const center = first.get(rep[row]!)!;
    if (center !== local) add(center, local, TIER_EXACT, 1);
  });
  forEachCandidate(rows, ctx, (a, b) => {
    const ra = rows[a]!;
    const rb = rows[b]!;
    if (rep[ra] === rep[rb]) return;
    const s = ctx.similarity(rep[ra]!, rep[rb]!);
    if (s !== null) add(a, b, TIER_SIMILAR, s);
  });
  const idLow = (e: number) => Math.min(ids[rows[edgeA[e]!]!]!, ids[rows[edgeB[e]!]!]!);
  const idHigh = (e: number) => Math.max(ids[rows[edgeA[e]!]!]!, ids[rows[edgeB[e]!]!]!);
  const order = Array.from(edgeA, (_, e) => e).sort((x, y) => tier[x]! - tier[y]! || strength[y]! - strength[x]! || idLow(x) - idLow(y) || idHigh(x) - idHigh(y));

  const sets = new AvoidingSets(k, distinct);
  const joined: number[] = [];
  for (const e of order) if (sets.join(edgeA[e]!, edgeB[e]!)) joined.push(edgeA[e]!, edgeB[e]!);
  const plain: number[] = [];
  for (const e of order) {
    if (tier[e] !== TIER_VERDICT && sets.find(edgeA[e]!) === sets.find(edgeB[e]!)) plain.push(edgeA[e]!, edgeB[e]!);
  }
  return { joined, plain };
}

/**
 * The candidate pairs among `rows` (local indices a < b) that a search over these rows alone
 * finds: the same two paths and filters as the engine's search (engine.ts), so the edges, like
 * the answer, are a function of the set's rows only.
 */
function forEachCandidate(rows: Int32Array, ctx: ConflictContext, onPair: (a: number, b: number) => void): void {
  const k = rows.length;
  const prints = new Uint32Array(k * FP_WORDS);
  rows.forEach((row, local) => prints.set(ctx.prints.subarray(row * FP_WORDS, (row + 1) * FP_WORDS), local * FP_WORDS));
  const fp = new Uint32Array(2 * k);
  for (let a = 0; a < k; a++) {
    fp[2 * a] = prints[a * FP_WORDS + F_SIM_HI]!;
    fp[2 * a + 1] = prints[a * FP_WORDS + F_SIM_LO]!;
  }
  const count = (a: number) => prints[a * FP_WORDS + F_COUNT]! & COUNT_MASK;
  const isLong = (a: number) => count(a) >= ctx.shortShingles;
  const isShort = (a: number) => count(a) < ctx.shortLimit;
  const distance = (a: number, b: number) => hamming64(fp[2 * a]!, fp[2 * a + 1]!, fp[2 * b]!, fp[2 * b + 1]!);
  const agree = (a: number, b: number) => prints[a * FP_WORDS + F_AGREE] === prints[b * FP_WORDS + F_AGREE];
  const plausible = (a: number, b: number) =>
    sharedInUnionSketch(prints, a * FP_WORDS + F_SKETCH, b * FP_WORDS + F_SKETCH) >= ctx.needShared && distance(a, b) <= ctx.loose;
  if (k <= DIRECT_PAIRS) {
    // No bucket of so few docs is windowed: each pair is a candidate exactly when the search would meet it.
    for (let a = 0; a < k; a++) {
      for (let b = a + 1; b < k; b++) {
        if (!agree(a, b)) continue;
        if ((isLong(a) && isLong(b) && distance(a, b) <= ctx.maxDistance) || (isShort(a) && isShort(b) && plausible(a, b))) onPair(a, b);
      }
    }
    return;
  }
  const seen = new Set<number>();
  const once = (a: number, b: number) => {
    if (!agree(a, b) || seen.has(a * k + b)) return;
    seen.add(a * k + b);
    onPair(a, b);
  };
  const all = Array.from({ length: k }, (_, a) => a);
  bandCandidates(Int32Array.from(all.filter(isLong)), fp, ctx.maxDistance, once);
  sketchCandidates(Int32Array.from(all.filter(isShort)), prints, FP_WORDS, F_SKETCH, fp, (a, b) => plausible(a, b) && once(a, b), ctx.sketchBucketCap, agree);
}

/**
 * Disjoint sets that refuse a join putting two questions of a distinct pair together. Each set
 * keeps the questions it must not meet (few: verdicts are few); a join checks the smaller list.
 */
class AvoidingSets {
  private readonly parent: Int32Array;
  private readonly avoid: (number[] | undefined)[];

  constructor(k: number, distinct: number[]) {
    this.parent = Int32Array.from({ length: k }, (_, i) => i);
    this.avoid = new Array<number[] | undefined>(k);
    for (let e = 0; e < distinct.length; e += 2) {
      const a = distinct[e]!;
      const b = distinct[e + 1]!;
      (this.avoid[a] ??= []).push(b);
      (this.avoid[b] ??= []).push(a);
    }
  }

  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]!]!;
      x = p[x]!;
    }
    return x;
  }

  /** Joins the sets of a and b unless that puts a distinct pair together; true when they are (now) one set. */
  join(a: number, b: number): boolean {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return false;
    const la = this.avoid[ra] ?? [];
    const lb = this.avoid[rb] ?? [];
    const [small, large, other] = la.length <= lb.length ? [la, lb, rb] : [lb, la, ra];
    for (const x of small) if (this.find(x) === other) return false;
    const root = Math.min(ra, rb);
    const child = Math.max(ra, rb);
    this.parent[child] = root;
    for (const x of small) large.push(x);
    this.avoid[root] = large.length > 0 ? large : undefined;
    this.avoid[child] = undefined;
    return true;
  }
}

/**
 * Marks `reviewed` (Cluster.stages) each member that its cluster holds only through a duplicate
 * verdict: exact copies and verified pairs alone (`plain`) do not join it to the canonical question.
 */
export function markReviewed(clusters: readonly Cluster[], rowOf: (id: number) => number, plain: UnionFind): void {
  for (const cluster of clusters) {
    const canonical = plain.find(rowOf(cluster.canonicalId));
    for (let k = 1; k < cluster.members.length; k++) {
      if (plain.find(rowOf(cluster.members[k]!.questionId)) !== canonical && cluster.stages !== undefined) cluster.stages[k] = STAGE_REVIEWED;
    }
  }
}
