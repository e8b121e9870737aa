/**
 * One group's dedup: prints (cached or computed) → exact stage → candidates
 * (SimHash bands for long texts, sketch keys for short ones) → verify →
 * union-find clusters.
 */
import { optionalTextAt, textAt } from '../packed-texts.ts';
import type { FetchedTexts, GroupJob, GroupResult } from '../protocol.ts';
import { bandCandidates } from './bands.ts';
import { buildClusters } from './clusters.ts';
import { duplicateSimilarity, textChecks, textData, textDataOf, type TextData } from './compare.ts';
import type { Normalized } from './normalize.ts';
import { hamming64 } from './hash.ts';
import { COUNT_MASK, F_AGREE, F_COUNT, F_SIM_HI, F_SIM_LO, F_SKETCH, FP_WORDS } from './print.ts';
import { exactStage } from './exact.ts';
import { computePrints } from './prints.ts';
import { PreviousRun, writeDecisions } from './reuse.ts';
import { looseDistance, minSharedKeys, sharedInUnionSketch, sketchCandidates } from './sketch.ts';
import { UnionFind } from './union-find.ts';
import { joinVerdicts, markReviewed, rowVerdicts, splitConflicts } from './verdicts.ts';

export { ALGORITHM_VERSION, fingerprintQuestion } from './prints.ts';

/**
 * Shingle positions from which a text's SimHash keeps one edited character
 * within maxDistance bits in >= 95% of cases, measured on the GAOKAO data
 * by test/bench/short-edit.ts. Shorter texts are "too short to fingerprint
 * reliably": they get sketch candidates, and verify decides.
 */
export function shortShinglesFor(maxDistance: number): number {
  const table = [4096, 4096, 2048, 1024, 768, 512, 384, 256];
  return maxDistance < table.length ? table[Math.max(0, Math.floor(maxDistance))]! : 128;
}

/** Sketch bucket ids (2^40 + key) apart from band bucket ids (band * 2^32 + key, band <= 16). */
const SKETCH_BUCKETS = 2 ** 40;

/** Normalized forms kept from printing to verification (see dedupGroup), at most. */
const NORMALIZED_KEPT = 16_384;

export interface EngineResult extends GroupResult {
  prints: Uint32Array;
  fresh: Uint8Array;
}

/** Knobs for experiments (test/bench/tune.ts); production uses the defaults. */
export interface EngineTuning {
  shortShingles?: number;
  /** Neighbours each doc meets under a key shared by many (default 16). */
  bucketCap?: number;
  /** Filled in when given. */
  stats?: EngineStats;
  /**
   * Asks the runtime for a quick collection of short-lived garbage. Printing a big group turns
   * every text into a few strings it drops at once; collected as it goes, they do not pile up
   * into hundreds of MB of heap before the collector's own schedule gets to them.
   */
  collectGarbage?: () => void;
}

export interface EngineStats {
  fresh: number;
  exactMerged: number;
  candidatePairs: number;
  verifiedPairs: number;
  textsRead: number;
  /** Rows whose pairs with other such rows kept the previous run's answer. */
  reusedRows?: number;
  /** Buckets too large to compare every pair (each doc meets its neighbours only). */
  windowedBuckets?: number;
}

/**
 * The texts (content and options, packed in the order asked) of rows the runner left out
 * (GroupJob.omitted), fetched while the worker waits: the engine asks once it knows every row
 * it must read, and carries on with its state. A row gone meanwhile comes back as an empty text.
 */
export type FetchTexts = (rows: Int32Array) => FetchedTexts;

/**
 * fetchTexts: how to get the texts of omitted rows. Without it, a job that needs one comes back
 * with needContent (and no clusters), to be sent again with those texts filled in.
 */
export function dedupGroup(job: GroupJob, tuning: EngineTuning = {}, fetchTexts?: FetchTexts): EngineResult {
  const n = job.ids.length;
  const { maxDistance, minSimilarity } = job.opts;
  const shortShingles = tuning.shortShingles ?? shortShinglesFor(maxDistance);
  const stats = tuning.stats;
  const omitted = job.omitted ?? null;
  // Omitted rows' texts fetched so far: row → [content, options].
  const fetched = new Map<number, [string, string | null]>();
  const hasText = (i: number): boolean => omitted === null || omitted[i] !== 1 || fetched.has(i);
  // Decoded on each call: prints read a text once, verification keeps what it decoded (dataOf).
  const contentOf = (i: number): string | null => (omitted !== null && omitted[i] === 1 ? (fetched.get(i)?.[0] ?? null) : textAt(job.contents, i));
  const optionsOf = (i: number): string | null => (omitted !== null && omitted[i] === 1 ? (fetched.get(i)?.[1] ?? null) : optionalTextAt(job.options, i));
  // Rows whose text is needed but was left out and not fetched yet.
  const need = new Set<number>();
  /** Fetches the texts of `need`; false when there is no way to (the job goes back with needContent). */
  const fetchNeeded = (): boolean => {
    if (fetchTexts === undefined) return false;
    const rows = Int32Array.from(need).sort();
    const texts = fetchTexts(rows.slice());
    rows.forEach((row, k) => fetched.set(row, [textAt(texts.contents, k), optionalTextAt(texts.options, k)]));
    need.clear();
    return true;
  };

  // Normalized forms of rows printed now, kept for their verification: a re-run prints its few new
  // questions and verifies nearly all of them, and normalizing each again was a tenth of its work.
  const normalizedOf = new Map<number, Normalized>();
  const keepNormalized = (row: number, normalized: Normalized) => {
    if (normalizedOf.size < NORMALIZED_KEPT) normalizedOf.set(row, normalized);
  };
  const printAll = () => computePrints(n, contentOf, optionsOf, job.prints ?? null, tuning.collectGarbage, job.vouched ?? null, keepNormalized);
  /** The answer without a channel to fetch over: the rows whose texts it needs, to be sent again with them. */
  const askBack = (printed: { prints: Uint32Array; fresh: Uint8Array }): EngineResult => ({ clusters: [], prints: printed.prints, fresh: printed.fresh, needContent: Int32Array.from(need).sort() });
  let printSet = printAll();
  if (printSet.missing.length > 0) {
    // Omitted rows without a usable print: their texts are needed before anything else.
    for (const row of printSet.missing) need.add(row);
    if (!fetchNeeded()) return askBack(printSet);
    printSet = printAll();
  }
  const { prints, fresh } = printSet;
  if (stats !== undefined) stats.fresh = fresh.reduce((a, b) => a + b, 0);

  // Verification needs the text itself; only candidates pay for it, and only once.
  const verifyCache = new Map<number, TextData>();
  const dataOf = (i: number): TextData => {
    let d = verifyCache.get(i);
    if (d === undefined) {
      const normalized = normalizedOf.get(i);
      if (normalized !== undefined) {
        d = textDataOf(normalized);
        normalizedOf.delete(i);
      } else {
        const content = contentOf(i);
        if (content === null) throw new Error(`dedup: row ${i} was omitted but must be verified`);
        d = textData(content, optionsOf(i));
      }
      verifyCache.set(i, d);
    }
    return d;
  };

  const uf = new UnionFind(n);
  // The previous run's answers for pairs of unchanged questions (reuse.ts).
  const sketchBucketCap = tuning.bucketCap ?? 16;
  const knobs = { maxDistance, minSimilarity, shortShingles, sketchBucketCap };
  // Reviewers' remembered pair decisions (verdicts.ts); the next run decides afresh the rows they shaped.
  const verdicts = job.verdicts ? rowVerdicts(job.verdicts, job.ids) : null;
  const previous = job.previous ? PreviousRun.read(job.previous, job.ids, prints, knobs) : null;
  // Pairs of two clean rows wait until the candidate search has said which rows stay clean.
  const deferred: number[] = [];
  const windowed = new Map<number, number>();
  const onBucket = (base: number) => (docs: readonly number[], id: number, window: number) => {
    if (window > 0) windowed.set(base + id, docs.length);
    previous?.bucket(docs, base + id, window);
  };
  const { rep, reps } = exactStage(prints, n, uf);

  // Pairs to verify that wait for an omitted row's text: decided once the texts are fetched.
  const waiting: number[] = [];
  const decide = (a: number, b: number): void => {
    if (uf.find(a) === uf.find(b)) return;
    if (prints[a * FP_WORDS + F_AGREE] !== prints[b * FP_WORDS + F_AGREE]) return;
    if (!hasText(a) || !hasText(b)) {
      if (!hasText(a)) need.add(a);
      if (!hasText(b)) need.add(b);
      waiting.push(a, b);
      return;
    }
    if (stats !== undefined) stats.verifiedPairs++;
    if (duplicateSimilarity(dataOf(a), dataOf(b), minSimilarity) !== null) uf.union(a, b);
  };
  const tryPair = (a: number, b: number): void => {
    if (stats !== undefined) stats.candidatePairs++;
    if (previous?.keepsAnswer(a, b)) deferred.push(a, b);
    else decide(a, b);
  };

  const fp = new Uint32Array(2 * n);
  const longDocs: number[] = [];
  const shortDocs: number[] = [];
  // Texts near the short limit go through both paths: a short text's duplicate may be just over it.
  const shortLimit = Math.ceil(shortShingles / Math.max(0.5, minSimilarity));
  for (const i of reps) {
    fp[2 * i] = prints[i * FP_WORDS + F_SIM_HI]!;
    fp[2 * i + 1] = prints[i * FP_WORDS + F_SIM_LO]!;
    const count = prints[i * FP_WORDS + F_COUNT]! & COUNT_MASK;
    if (count >= shortShingles) longDocs.push(i);
    if (count < shortLimit) shortDocs.push(i);
  }
  bandCandidates(Int32Array.from(longDocs), fp, maxDistance, tryPair, undefined, onBucket(0));

  const needShared = minSharedKeys(minSimilarity);
  const loose = looseDistance(minSimilarity);
  // Prints first: most pairs sharing one stock phrase end here, before any text is read.
  const plausible = (a: number, b: number): boolean =>
    sharedInUnionSketch(prints, a * FP_WORDS + F_SKETCH, b * FP_WORDS + F_SKETCH) >= needShared &&
    hamming64(fp[2 * a]!, fp[2 * a + 1]!, fp[2 * b]!, fp[2 * b + 1]!) <= loose;
  // Short pairs that keep their answer wait unfiltered: most never need the filter.
  const deferredShort: number[] = [];
  const revisitShort = sketchCandidates(
    Int32Array.from(shortDocs), prints, FP_WORDS, F_SKETCH,
    fp,
    (a, b) => {
      if (previous?.keepsAnswer(a, b)) deferredShort.push(a, b);
      else if (plausible(a, b)) tryPair(a, b);
    },
    sketchBucketCap,
    (a, b) => prints[a * FP_WORDS + F_AGREE] === prints[b * FP_WORDS + F_AGREE],
    onBucket(SKETCH_BUCKETS),
    // Pairs of two clean rows would only be deferred: they wait in their buckets instead, and
    // only those with a row that lost clean are taken (of 18.6M pairs on the 1M bench bank's
    // re-run, a few thousand). A bucket of rows all clean, not windowed then, is not even
    // searched (its rows are in the same buckets as then, and none of them decides now): on that
    // re-run, 1.2M keys are sorted instead of 6.1M.
    previous === null
      ? undefined
      : {
          now: (doc) => previous.decidesNow(doc),
          only: { changed: (doc) => previous.clean[doc] !== 1, keys: previous.windowedIds(SKETCH_BUCKETS) },
        },
  );
  if (previous !== null) {
    // Whole previous clusters are one set again; a deferred pair of rows still clean keeps its
    // old answer (joined through their cluster, or apart); any other deferred pair is decided now.
    for (const rows of previous.settle()) for (const row of rows) uf.union(rows[0]!, row);
    for (let k = 0; k < deferred.length; k += 2) {
      const a = deferred[k]!;
      const b = deferred[k + 1]!;
      if (previous.clean[a] !== 1 || previous.clean[b] !== 1) decide(a, b);
    }
    const settleShort = (a: number, b: number) => {
      if ((previous.clean[a] !== 1 || previous.clean[b] !== 1) && plausible(a, b)) decide(a, b);
    };
    for (let k = 0; k < deferredShort.length; k += 2) settleShort(deferredShort[k]!, deferredShort[k + 1]!);
    // The pairs that waited in their buckets: only those with a row that lost clean are decided.
    revisitShort((doc) => previous.lostClean(doc), settleShort);
  }
  // All pairs waiting for texts at once: one fetch (or one trip back) for the whole search.
  if (need.size > 0) {
    if (!fetchNeeded()) return askBack({ prints, fresh });
    for (let k = 0; k < waiting.length; k += 2) decide(waiting[k]!, waiting[k + 1]!);
  }
  // Verdicts: duplicate pairs joined; a set that holds a distinct pair is built again by itself,
  // strongest links first (its texts fetched first). Without verdicts, nothing here runs.
  let plain: UnionFind | null = null;
  if (verdicts !== null) {
    const joined = joinVerdicts(uf, verdicts);
    plain = joined.plain;
    if (joined.conflicts.length > 0) {
      for (const rows of joined.conflicts) for (const row of rows) if (!hasText(rep[row]!)) need.add(rep[row]!);
      if (need.size > 0 && !fetchNeeded()) return askBack({ prints, fresh });
      const similarity = (a: number, b: number) => duplicateSimilarity(dataOf(a), dataOf(b), minSimilarity);
      splitConflicts(joined.conflicts, uf, plain, verdicts, { ids: job.ids, prints, rep, maxDistance, shortShingles, shortLimit, sketchBucketCap, needShared, loose, similarity });
    }
  }
  // A member's similarity to its canonical is measured on their texts (unless the previous run's
  // numbers hold): texts left out are noted on a first pass, fetched, and the clusters built again.
  const noShingles = new Uint32Array(0);
  const shinglesOf = (i: number): Uint32Array => {
    if (hasText(i)) return dataOf(i).shingles;
    need.add(i);
    return noShingles;
  };
  const textChecksOf = (a: number, b: number): number => {
    if (!hasText(a) || !hasText(b)) {
      if (!hasText(a)) need.add(a);
      if (!hasText(b)) need.add(b);
      return 0;
    }
    return textChecks(dataOf(a), dataOf(b));
  };
  // A cluster that only gained new members keeps its other members' similarities and reasons (no text read for them).
  const known = previous
    ? {
        similarities: (rows: readonly number[]) => previous.similarities(rows),
        similarity: (m: number, c: number) => previous.similarityTo(m, c),
        reason: (m: number) => previous.reasonOf(m),
      }
    : undefined;
  const clustersNow = () => buildClusters(job.ids, uf, prints, rep, shinglesOf, minSimilarity, textChecksOf, known);
  let clusters = clustersNow();
  if (need.size > 0) {
    if (!fetchNeeded()) return askBack({ prints, fresh });
    clusters = clustersNow();
  }
  if (plain !== null) markReviewed(clusters, verdicts!.rowOf, plain);
  if (stats !== undefined) {
    stats.textsRead = verifyCache.size;
    stats.exactMerged = n - reps.length;
    stats.reusedRows = previous?.clean.reduce((a, b) => a + b, 0) ?? 0;
    stats.windowedBuckets = windowed.size;
  }
  const decisions = writeDecisions(job.ids, prints, clusters, knobs, windowed, verdicts?.shaped ?? null);
  if (previous === null) return { clusters, prints, fresh, decisions };
  const kept = new Set(clusters.filter((cluster) => cluster.kept).map((cluster) => cluster.canonicalId));
  return { clusters, prints, fresh, decisions, dropped: previous.dropped(kept) };
}
