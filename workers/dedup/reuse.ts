/**
 * A group's decisions, kept from one run to the next so that a re-run
 * decides only the pairs that involve a new or changed question, with
 * exactly the clusters a cold run would find.
 *
 * A cold run's clusters are the connected pieces of: equal normalized text,
 * plus every candidate pair that passes verification. Verification depends
 * on the two texts alone. Whether a pair is a candidate depends on the two
 * prints alone, except inside a windowed bucket (more docs share a key than
 * the cap, so each meets only its neighbours in sorted order): there it
 * depends on every doc of the bucket. So a pair of rows keeps the previous
 * answer when both are "clean":
 *  - present then with the same content (id + content hash: no clock decides);
 *  - in a previous cluster that is still whole: a member gone or changed may
 *    have held it together, so all its members are decided afresh;
 *  - and where a windowed bucket (now or then) changed its docs, two kept
 *    docs that may meet now and not then are decided afresh, and a cluster
 *    two of whose docs may have met then and not now is decided afresh
 *    (bucket()).
 * Two clean rows were joined (same previous cluster, reunited whole) or were
 * never a passing candidate pair; every other pair is decided as in a cold run.
 *
 * Reviewers' verdicts (verdicts.ts) join or split the search's sets after it, afresh in every
 * run. The snapshot lists the rows whose cluster a verdict shaped (RowVerdicts.shaped: both
 * questions of a duplicate pair that joined two sets, every question of a set split for a
 * distinct pair); such a row is never clean in the next run (as if it had been edited) and its
 * previous cluster is broken. Every cluster a verdict shaped holds a listed row, so the previous
 * clusters left whole are whole sets of the search, as the argument above needs, and a verdict
 * removed or lapsed since leaves nothing stale. A verdict added since needs nothing here: it acts
 * on the search's sets, which reuse gets right without it.
 *
 * The runner stores the snapshot as an opaque blob per group and hands it
 * back; what could make it stale (options, algorithm version) is checked here.
 */
import type { Cluster, DedupOptions } from '../protocol.ts';
import { F_CONTENT_A, F_CONTENT_B, FP_WORDS } from './print.ts';
import { ALGORITHM_VERSION } from './prints.ts';
import { rowOf } from './verdicts.ts';

/** Bump with any change to candidates, verification or clustering: older snapshots are then ignored. */
export const DECISIONS_VERSION = 3;

/** A member's stage and checks in 16 bits (stage << 8 | checks), as the snapshot keeps them. */
export const packReason = (stage: number, checks: number): number => ((stage & 0xff) << 8) | (checks & 0xff);

const TAG = ((0x5e << 24) | (ALGORITHM_VERSION << 12) | DECISIONS_VERSION) >>> 0;
const HEADER = 8;
const MAX_ID = 0xffffffff;
/** Past 2^21 docs, bands.ts and sketch.ts drop low key bits, so which pairs meet depends on the group's size. */
const MAX_ROWS = 1 << 21;
const fits = (id: number) => Number.isInteger(id) && id >= 0 && id <= MAX_ID;

/**
 * This run's snapshot, or undefined when it cannot be kept (an id past 32
 * bits, too many rows). windowed: bucket id → size of every windowed bucket. verdictRows: 1 where
 * a reviewer's verdict shaped the row's cluster in this run (RowVerdicts.shaped), or null for none.
 */
export function writeDecisions(
  ids: Float64Array,
  prints: Uint32Array,
  clusters: Cluster[],
  knobs: Knobs,
  windowed: Map<number, number>,
  verdictRows: Uint8Array | null = null,
): Uint8Array | undefined {
  const n = ids.length;
  if (n > MAX_ROWS) return undefined;
  const memberWords = clusters.reduce((sum, c) => sum + 1 + 2 * c.members.length, 0);
  let verdictCount = 0;
  if (verdictRows !== null) for (let i = 0; i < n; i++) verdictCount += verdictRows[i]!;
  const out = new Uint32Array(HEADER + 3 * n + memberWords + 1 + 3 * windowed.size + 1 + verdictCount);
  writeKnobs(out, knobs);
  out[6] = n;
  out[7] = clusters.length;
  let at = HEADER;
  for (let i = 0; i < n; i++) {
    if (!fits(ids[i]!)) return undefined;
    out[at++] = ids[i]!;
    out[at++] = prints[i * FP_WORDS + F_CONTENT_A]!;
    out[at++] = prints[i * FP_WORDS + F_CONTENT_B]!;
  }
  for (const cluster of clusters) {
    out[at++] = cluster.members.length;
    for (let k = 0; k < cluster.members.length; k++) {
      const member = cluster.members[k]!;
      if (!fits(member.questionId)) return undefined;
      out[at++] = member.questionId;
      // Similarities are rounded to 4 decimals: the integer (<= 10000) brings back the very same
      // number; the member's reason (reason.ts) rides in the word's upper half.
      out[at++] = Math.round(member.similarity * 10000) | (packReason(cluster.stages?.[k] ?? 0, cluster.checks?.[k] ?? 0) << 16);
    }
  }
  out[at++] = windowed.size;
  for (const [id, size] of windowed) {
    out[at++] = Math.floor(id / 2 ** 32);
    out[at++] = id >>> 0;
    out[at++] = size;
  }
  // The rows a verdict shaped, ascending: the next run decides them afresh whatever its verdicts.
  out[at++] = verdictCount;
  if (verdictRows !== null) for (let i = 0; i < n; i++) if (verdictRows[i] === 1) out[at++] = ids[i]!;
  return new Uint8Array(out.buffer);
}

/** Everything besides the texts that decides which pairs meet and pass: a snapshot made with other knobs says nothing. */
export interface Knobs extends DedupOptions {
  shortShingles: number;
  sketchBucketCap: number;
}

function writeKnobs(out: Uint32Array, knobs: Knobs): void {
  out[0] = TAG;
  out[1] = knobs.maxDistance;
  new DataView(out.buffer).setFloat64(8, knobs.minSimilarity, true);
  out[4] = knobs.shortShingles;
  out[5] = knobs.sketchBucketCap;
}

function sameKnobs(words: Uint32Array, knobs: Knobs): boolean {
  const expected = new Uint32Array(6);
  writeKnobs(expected, knobs);
  return expected.every((w, k) => words[k] === w);
}

interface PreviousCluster {
  /** Rows of this job; -1 for a member no longer in the group. */
  rows: Int32Array;
  /** Its canonical question (the first member), present or not. */
  canonicalId: number;
}

/** The previous run of a group, seen from this one. */
export class PreviousRun {
  private constructor(
    /** 1 where the row's pairs with other clean rows keep the previous answer (final after settle()). */
    readonly clean: Uint8Array,
    /** Present then with this content, in a cluster still whole: the same doc in the same buckets as then. */
    private readonly kept: Uint8Array,
    private readonly clusters: PreviousCluster[],
    /** Row → index of its whole previous cluster, or -1. */
    private readonly clusterOf: Int32Array,
    /** Row → its similarity to the canonical of its previous cluster. */
    private readonly similarity: Float64Array,
    /** Row → its reason then (packReason), valid where similarityTo() or similarities() answers. */
    private readonly reason: Uint16Array,
    private readonly windowedThen: Map<number, number>,
  ) {
    this.touched = new Uint8Array(clean.length);
    this.newBefore = new Int32Array(clean.length);
    this.seenIn = new Int32Array(clusters.length);
    this.markIn = new Int32Array(clusters.length);
  }

  /** Docs of the current bucket whose pairs among themselves may meet now and not then. */
  private readonly touched: Uint8Array;
  private readonly touchedList: number[] = [];
  /** Per touched doc: new docs before it in the bucket; two docs with the same count have none between them. */
  private readonly newBefore: Int32Array;
  /** Per whole cluster: the serial of the last bucket judged that held one of its docs, and that doc's mark. */
  private readonly seenIn: Int32Array;
  private readonly markIn: Int32Array;
  private serial = 0;

  /** The snapshot mapped onto this job, or null when it decides nothing (other options or algorithm, malformed). */
  static read(blob: Uint8Array, ids: Float64Array, prints: Uint32Array, knobs: Knobs): PreviousRun | null {
    const n = ids.length;
    if (n > MAX_ROWS || blob.byteLength < HEADER * 4 || blob.byteLength % 4 !== 0) return null;
    // A copy: a blob read from the database need not be 4-byte aligned (and a Buffer's slice() is no copy).
    const bytes = new Uint8Array(blob.byteLength);
    bytes.set(blob);
    const words = new Uint32Array(bytes.buffer);
    if (!sameKnobs(words, knobs)) return null;
    for (let i = 1; i < n; i++) if (!(ids[i - 1]! < ids[i]!)) return null;
    const rows = words[6]!;
    const count = words[7]!;
    let at = HEADER + 3 * rows;
    if (words.length < at) return null;

    const clean = new Uint8Array(n);
    // Both lists ascend (a snapshot lists its job's rows in order): one merge walk.
    for (let k = HEADER, i = 0; k < at; k += 3) {
      const id = words[k]!;
      if (k > HEADER && !(words[k - 3]! < id)) return null;
      while (i < n && ids[i]! < id) i++;
      if (i < n && ids[i] === id && prints[i * FP_WORDS + F_CONTENT_A] === words[k + 1] && prints[i * FP_WORDS + F_CONTENT_B] === words[k + 2]) clean[i] = 1;
    }
    const clusters: PreviousCluster[] = [];
    const similarity = new Float64Array(n);
    const reason = new Uint16Array(n);
    for (let c = 0; c < count; c++) {
      const size = words[at++];
      if (size === undefined || at + 2 * size > words.length) return null;
      const cluster = { rows: new Int32Array(size), canonicalId: words[at]! };
      for (let m = 0; m < size; m++, at += 2) {
        const i = rowOf(ids, words[at]!);
        cluster.rows[m] = i;
        // A row is in one cluster at most, so its similarity to its canonical can live by row.
        if (i >= 0) {
          similarity[i] = (words[at + 1]! & 0xffff) / 10000;
          reason[i] = words[at + 1]! >>> 16;
        }
      }
      clusters.push(cluster);
    }
    const windowedCount = words[at++];
    if (windowedCount === undefined || at + 3 * windowedCount >= words.length) return null;
    const windowedThen = new Map<number, number>();
    for (let k = 0; k < windowedCount; k++, at += 3) windowedThen.set(words[at]! * 2 ** 32 + words[at + 1]!, words[at + 2]!);
    // A row a verdict shaped then is decided afresh, as if edited (see the module comment).
    const verdictCount = words[at++]!;
    if (at + verdictCount !== words.length) return null;
    for (; at < words.length; at++) {
      const i = rowOf(ids, words[at]!);
      if (i >= 0) clean[i] = 0;
    }

    // Clusters are disjoint, so judging each by its members before clearing any is the same as after.
    const clusterOf = new Int32Array(n).fill(-1);
    const broken: number[] = [];
    clusters.forEach((cluster, c) => {
      const whole = cluster.rows.every((i) => i >= 0 && clean[i] === 1);
      for (const i of cluster.rows) {
        if (i < 0) continue;
        if (whole) clusterOf[i] = c;
        else broken.push(i);
      }
    });
    for (const i of broken) clean[i] = 0;
    return new PreviousRun(clean, clean.slice(), clusters, clusterOf, similarity, reason, windowedThen);
  }

  /**
   * Called by the candidate search for every bucket of two or more docs, in
   * bucket order, before the bucket's pairs; window as in bandCandidates' onBucket.
   * A windowed bucket whose docs changed may make two kept docs meet that did
   * not meet then (that pair is decided afresh, see keepsAnswer()), or stop
   * two from meeting that did: if they were in one cluster, it may have been
   * held together by that pair, so the cluster is decided afresh.
   */
  bucket(docs: readonly number[], id: number, window: number): void {
    for (const d of this.touchedList) this.touched[d] = 0;
    this.touchedList.length = 0;
    const then = this.windowedThen.get(id);
    if (window === 0 && then === undefined) return;
    this.serial++;
    let kept = 0;
    for (const d of docs) kept += this.kept[d]!;
    if (window > 0 && then === undefined) {
      // Grew past the cap: every pair met then, some no longer do; no pair meets that did not.
      docs.forEach((d, p) => this.sameCluster(d, p));
      return;
    }
    if (window > 0 && kept === then) {
      // Every doc kept was here then too, so none left; only new docs came in. Two kept docs
      // whose meeting changed have a new doc between them (their counts of new docs before
      // them differ), and each lies within the window of it.
      let fresh = 0;
      for (let p = 0; p < docs.length; p++) {
        if (this.kept[docs[p]!] === 1) continue;
        fresh++;
        const end = Math.min(docs.length, p + window);
        for (let q = Math.max(0, p - window + 1); q < end; q++) this.touch(docs[q]!, 0);
      }
      // Second pass: a doc's count of new docs before it, for the touched ones.
      fresh = 0;
      for (const d of docs) {
        if (this.kept[d] !== 1) fresh++;
        else if (this.touched[d] === 1) this.newBefore[d] = fresh;
      }
    } else {
      // Docs left (or the bucket shrank): any pair's meeting may have changed.
      docs.forEach((d, p) => this.touch(d, p));
    }
    for (const d of this.touchedList) this.sameCluster(d, this.newBefore[d]!);
  }

  private touch(d: number, newBefore: number): void {
    if (this.touched[d] === 1) return;
    this.touched[d] = 1;
    this.newBefore[d] = newBefore;
    this.touchedList.push(d);
  }

  /**
   * Two docs of one whole cluster in the bucket being judged, `mark`s apart (a changed
   * meeting between them is possible): that cluster is decided afresh.
   */
  private sameCluster(d: number, mark: number): void {
    const c = this.clusterOf[d]!;
    if (c < 0) return;
    if (this.seenIn[c] !== this.serial) {
      this.seenIn[c] = this.serial;
      this.markIn[c] = mark;
    } else if (this.markIn[c] !== mark) {
      for (const i of this.clusters[c]!.rows) if (i >= 0) this.clean[i] = 0;
    }
  }

  /**
   * After bucket(): false when every pair of the current bucket with this doc keeps the previous
   * answer as long as both docs stay clean (it is clean now, and not touched). Such pairs can
   * wait until settle() has said which rows stay clean: only those with a row that did not are
   * decided then.
   */
  decidesNow(doc: number): boolean {
    return this.clean[doc] !== 1 || this.touched[doc] === 1;
  }

  /** The previous run's windowed buckets with ids in [base, base + 2^32), as ids less base. */
  windowedIds(base: number): number[] {
    const ids: number[] = [];
    for (const id of this.windowedThen.keys()) if (id >= base && id - base < 2 ** 32) ids.push(id - base);
    return ids;
  }

  /** Clean when the search began but no longer: its waiting pairs (see decidesNow) are decided after all. */
  lostClean(doc: number): boolean {
    return this.kept[doc] === 1 && this.clean[doc] !== 1;
  }

  /** True when the pair, just met in the current bucket, keeps the previous answer if both rows stay clean. */
  keepsAnswer(a: number, b: number): boolean {
    if (this.clean[a] !== 1 || this.clean[b] !== 1) return false;
    return !(this.touched[a] === 1 && this.touched[b] === 1 && this.newBefore[a] !== this.newBefore[b]);
  }

  /**
   * After the candidate search: the previous clusters whose members are all
   * still clean (rows of this job, each to be joined again); the members of
   * the others lose clean.
   */
  settle(): Int32Array[] {
    const whole: Int32Array[] = [];
    const broken: number[] = [];
    this.clusters.forEach(({ rows }, c) => {
      if (rows.every((i) => i >= 0 && this.clean[i] === 1 && this.clusterOf[i] === c)) whole.push(rows);
      else for (const i of rows) if (i >= 0) broken.push(i);
    });
    for (const i of broken) {
      this.clean[i] = 0;
      this.clusterOf[i] = -1;
    }
    return whole;
  }

  /** The canonical ids of the previous run's clusters that are not among `kept` (changed, split, or gone). */
  dropped(kept: ReadonlySet<number>): Float64Array {
    return Float64Array.from(this.clusters.filter((cluster) => !kept.has(cluster.canonicalId)), (cluster) => cluster.canonicalId);
  }

  /**
   * Row m's similarity to row c when both are still clean and c was the canonical of the
   * previous cluster they were both in: the same two texts, so the same number.
   */
  similarityTo(m: number, c: number): number | undefined {
    if (this.clean[m] !== 1 || this.clean[c] !== 1) return undefined;
    const k = this.clusterOf[m]!;
    if (k < 0 || this.clusterOf[c] !== k || this.clusters[k]!.rows[0] !== c) return undefined;
    return this.similarity[m];
  }

  /**
   * The members' similarities to the canonical when these rows (sorted by id)
   * are exactly a whole previous cluster: same texts, same canonical, same numbers.
   */
  similarities(members: readonly number[]): number[] | undefined {
    const c = this.clusterOf[members[0]!]!;
    const cluster = this.clusters[c];
    if (cluster === undefined || cluster.rows.length !== members.length) return undefined;
    for (const i of members) if (this.clusterOf[i] !== c) return undefined;
    return members.map((i) => this.similarity[i]!);
  }

  /**
   * Row m's reason in its previous cluster (packReason: stage << 8 | checks), for a member whose
   * similarity similarityTo() or similarities() gave: the same two texts, so the same checks.
   */
  reasonOf(m: number): number {
    return this.reason[m]!;
  }
}
