/**
 * What crosses the thread boundary between the task runner (main thread)
 * and the dedup worker. Kept free of I/O imports so both sides can share it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { PackedTexts } from './packed-texts.ts';

/** Defaults for a dedup task's options; the README explains how to pick them. */
export const DEFAULT_MAX_DISTANCE = 3;
export const DEFAULT_MIN_SIMILARITY = 0.8;

export interface DedupOptions {
  /** Largest Hamming distance (0..16) between two 64-bit fingerprints to consider a pair. */
  maxDistance: number;
  /** Smallest shingle Jaccard similarity (0..1) for a candidate pair to count as a duplicate. */
  minSimilarity: number;
}

/**
 * One group's questions, in ascending id order (the earliest question first,
 * which becomes a cluster's canonical question). Parallel arrays instead of
 * an array of objects: cheaper to clone into the worker; the typed arrays are
 * moved, not cloned (jobTransferList).
 */
export interface GroupJob {
  ids: Float64Array;
  /** Each question's text as UTF-8 (packed-texts.ts); an omitted row's is empty. */
  contents: PackedTexts;
  /** The stored JSON text of each question's options, packed; null as an empty text (optionalTextAt). */
  options: PackedTexts;
  opts: DedupOptions;
  /**
   * Optional fingerprint cache: FINGERPRINT_WORDS uint32 words per question,
   * row i for ids[i], as returned in an earlier GroupResult.prints. A row the
   * worker does not recognise for the current content (all zeros, stale, or
   * from an older algorithm version) is simply recomputed.
   */
  prints?: Uint32Array | null;
  /**
   * Optional: 1 where the runner left the content and options out (sent empty) because it
   * vouches for that row's cached print, i.e. the print was stored for this very content.
   * The worker fetches such a text over `texts` if it must read it after all (a pair to
   * verify, a cluster's similarity); without `texts` it answers with needContent.
   */
  omitted?: Uint8Array | null;
  /** Optional: where the worker fetches omitted rows' texts while it waits (text-channel.ts). */
  texts?: TextChannel | null;
  /**
   * Optional: 1 where the runner vouches that the row's cached print was made from the very
   * text it sends (it read both in one query, the print matched to the row's current version).
   * The worker then takes the print as it is, without decoding and hashing the text to check
   * it, and reads the text only if it must verify the row.
   */
  vouched?: Uint8Array | null;
  /**
   * Optional: GroupResult.decisions of this group's previous run, stored as is. Pairs of
   * questions present and unchanged then keep that run's answer; only pairs involving a
   * new or changed question are verified. The worker ignores a snapshot made with other
   * options or another algorithm version.
   */
  previous?: Uint8Array | null;
  /**
   * Optional: reviewers' remembered pair decisions that hold (both questions' content unchanged
   * since), as flattened pairs of question ids `[a0, b0, a1, b1, …]`, only pairs whose two
   * questions are both in this job. A `distinct` pair never ends in one cluster (the one that
   * links them less strongly leaves: docs/review-engine.md); a `duplicate` pair always does, and
   * a member joined only through one is marked `reviewed`. Pairs naming a question not in the
   * job, or one question twice, are ignored. Int32Array (as agreed between the branches): an id
   * past 2^31 - 1 cannot be named here, so a pair with one is left out (it is not honoured).
   */
  verdicts?: PairVerdicts | null;
}

/** GroupJob.verdicts: two lists of flattened question-id pairs. */
export interface PairVerdicts {
  distinct: Int32Array;
  duplicate: Int32Array;
}

/**
 * The job's buffers to move into the worker instead of copying them (Piscina's
 * `transferList`): posting then costs no main-thread time whatever the group's size, and
 * the arrays are left empty (detached) on the sending side. Only arrays spanning their
 * whole buffer are moved: a view into a shared buffer (a pooled Node Buffer) is copied,
 * since moving its buffer would empty every other view of it.
 */
export function jobTransferList(job: GroupJob): (ArrayBuffer | MessagePort)[] {
  const arrays = [job.ids, job.contents.bytes, job.contents.ends, job.options.bytes, job.options.ends, job.prints, job.omitted, job.vouched, job.previous, job.verdicts?.distinct, job.verdicts?.duplicate];
  const buffers: (ArrayBuffer | MessagePort)[] = wholeBuffersOf(arrays);
  // A port goes over only moved: the worker's end of the text channel.
  if (job.texts) buffers.push(job.texts.port);
  return buffers;
}

/** The texts of some rows, packed in the order asked for. */
export interface FetchedTexts {
  contents: PackedTexts;
  /** Options as in GroupJob.options (null stored as an empty text). */
  options: PackedTexts;
}

/**
 * The worker's end of a text channel: it posts the rows it needs (an Int32Array of row
 * indices) on `port` and waits on `answered` (one Int32 in shared memory) until the runner has
 * posted FetchedTexts, or { error }, back and set it to 1.
 */
export interface TextChannel {
  port: MessagePort;
  answered: Int32Array;
}

/** The distinct buffers of those arrays that span their whole (non-shared) ArrayBuffer. */
export function wholeBuffersOf(arrays: readonly (ArrayBufferView | null | undefined)[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const array of arrays) {
    if (!array || !(array.buffer instanceof ArrayBuffer)) continue;
    if (array.byteOffset === 0 && array.byteLength === array.buffer.byteLength) buffers.add(array.buffer);
  }
  return [...buffers];
}

/** uint32 words per question in GroupJob.prints / GroupResult.prints (96 bytes; layout in dedup/print.ts). */
export const FINGERPRINT_WORDS = 24;
/** The words of a print made before the MinHash (dedup/minhash.ts) was added: still read, the rest zeros. */
export const LEGACY_FINGERPRINT_WORDS = 16;

export interface ClusterMember {
  questionId: number;
  /** Hamming distance of this member's fingerprint to the canonical one. */
  distance: number;
  /** Shingle Jaccard similarity of this member to the canonical question (0..1). */
  similarity: number;
}

export interface Cluster {
  canonicalId: number;
  /** Every member, the canonical question first (distance 0, similarity 1). */
  members: ClusterMember[];
  /**
   * Why each member is here (workers/dedup/reason.ts), parallel to members: the stage code that
   * joined it (STAGE_EXACT, STAGE_SIMILAR, STAGE_REVIEWED) and the bitmask of REASON_CHECKS that
   * agree between it and the canonical question. The engine always fills both (views into one
   * buffer per result, so posting a result clones one buffer, not two per cluster); a worker that
   * leaves them out gets its members stored without a reason.
   */
  stages?: Uint8Array;
  checks?: Uint8Array;
  /**
   * True when this is a cluster of the run GroupJob.previous came from, unchanged: the same
   * members with the same numbers. The runner may keep the stored copy instead of rewriting it.
   */
  kept?: boolean;
}

export interface GroupResult {
  clusters: Cluster[];
  /** Every question's current print, FINGERPRINT_WORDS words per row, rows in job order. */
  prints?: Uint32Array;
  /** 1 where prints' row was recomputed in this run: the rows worth persisting. */
  fresh?: Uint8Array;
  /**
   * Row indices (ascending) whose content the worker needs but was left
   * out. clusters is then empty: send the job again with at least these
   * contents filled in. It asks only for rows it was not sent, so the
   * trips end; usually the second answer is final, but a text can join a
   * pair whose cluster then needs one more member's text for its numbers.
   * The first post moved the job's buffers: pack the texts anew for the next.
   */
  needContent?: Int32Array;
  /** This run's decisions (opaque), to send back as GroupJob.previous in the group's next run. */
  decisions?: Uint8Array;
  /**
   * Set by the worker, with `decisions` left out, when this run's decisions are GroupJob.previous
   * byte for byte (a re-run that changed nothing: every group of an unchanged bank): the stored
   * copy is already this run's, so it is neither sent back nor written again.
   */
  decisionsKept?: boolean;
  /**
   * With GroupJob.previous taken into account: the canonical ids of that run's clusters that are
   * not kept (changed or gone). The stored copies of these go; those of kept clusters stay.
   */
  dropped?: Float64Array;
  /**
   * Set by the worker when it leaves the kept clusters (Cluster.kept) out of `clusters`, which
   * then lists only the clusters to write: how many it left out, and their duplicates. Their
   * stored copies are the previous run's clusters not in `dropped`; sending them back and
   * forth again cost both threads more than the rest of a re-run's result.
   */
  kept?: { clusters: number; duplicates: number };
}
