/**
 * Piscina entry: one job per group. Pure CPU, no I/O (texts left out of the job come from the
 * runner over the job's text channel); the algorithm lives in ./dedup/ and is unit-tested there.
 */
import { gcAndSweep } from 'bun:jsc';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { wholeBuffersOf, type GroupJob, type GroupResult } from './protocol.ts';
import { dedupGroup, type EngineStats } from './dedup/engine.ts';
import { fetchTextsOver } from './text-channel.ts';
import { lowerThreadPriority } from './thread-priority.ts';

// Computation yields the CPU to the main thread's requests and events when cores are short.
lowerThreadPriority();

/** A GroupResult marked for Piscina to move its typed arrays; the pool's caller receives the GroupResult itself. */
export interface MovedGroupResult {
  readonly [valueSymbol]: GroupResult;
  readonly [transferableSymbol]: ArrayBuffer[];
}

/** Texts read (decoded, normalized, shingled) between two full collections and sweeps (~0.1 s each) of this thread's heap. */
const SWEEP_EVERY = 10_000;

/**
 * Texts this thread read since its heap was last swept: reading them is what leaves garbage (a
 * re-run whose prints are vouched for reads few, and sweeping it per question cost it more than
 * its own work). Per thread (each worker thread loads this module once): the collection it
 * triggers concerns this thread's heap alone.
 */
let sinceSweep = 0;

function sweep() {
  gcAndSweep();
  sinceSweep = 0;
}

export default function dedupWorker(job: GroupJob): MovedGroupResult {
  // The previous groups' texts, verification data and garbage are dead by now: free them before
  // this group allocates its own. During a task the next job is already queued when one ends, so
  // a busy thread never got to sweep by itself, and the two threads' heaps piled up to a peak
  // RSS of 1.8-2.1 GB on the 1M bench. Swept, not just collected: freed blocks go back at once.
  // Counted across groups: a run of small groups piles up garbage too.
  if (sinceSweep >= SWEEP_EVERY) sweep();
  const stats: EngineStats = { fresh: 0, exactMerged: 0, candidatePairs: 0, verifiedPairs: 0, textsRead: 0 };
  // Bun.gc(false): a young-generation collection, a few ms; the thread's heap stays near what is live.
  let result: GroupResult;
  try {
    result = dedupGroup(job, { collectGarbage: () => Bun.gc(false), stats }, job.texts ? fetchTextsOver(job.texts) : undefined);
  } finally {
    job.texts?.port.close();
  }
  sinceSweep += stats.fresh + stats.textsRead;
  // Idle after this group (the end of a task): free it now rather than when the next task comes.
  setTimeout(() => {
    if (sinceSweep >= SWEEP_EVERY) sweep();
  }, 0);
  const posted = withoutKeptDecisions(result.dropped ? withoutKeptClusters(result) : result, job.previous);
  // Moved, not copied: deserializing ~12 MB of prints and decisions of a 150,000-question
  // group cost the main thread 7-30 ms, and this thread has no further use for them.
  const moved: MovedGroupResult = {
    [valueSymbol]: posted,
    [transferableSymbol]: [...wholeBuffersOf([posted.prints, posted.fresh, posted.decisions, posted.needContent, posted.dropped]), ...reasonBuffers(posted)],
  };
  move(moved);
  return moved;
}

/** The buffers behind the clusters' reason arrays (usually one for stages, one for checks: clusters.ts). */
function reasonBuffers(result: GroupResult): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const cluster of result.clusters) {
    for (const array of [cluster.stages, cluster.checks]) if (array !== undefined && array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
  }
  return [...buffers];
}

/**
 * The result without its decisions when they are the previous run's byte for byte
 * (GroupResult.decisionsKept): a re-run of the 200k stall bench bank sent 3.3 MB of snapshots
 * back to the main thread (0.9 MB for its largest group), which wrote every byte again in the
 * group's save; five times that at 1M.
 * `previous` is still this thread's: it was moved in with the job.
 */
function withoutKeptDecisions(result: GroupResult, previous: Uint8Array | null | undefined): GroupResult {
  const { decisions } = result;
  if (!decisions || !previous || decisions.byteLength !== previous.byteLength) return result;
  if (Buffer.compare(Buffer.from(decisions.buffer, decisions.byteOffset, decisions.byteLength), Buffer.from(previous.buffer, previous.byteOffset, previous.byteLength)) !== 0) return result;
  return { ...result, decisions: undefined, decisionsKept: true };
}

/** The result with only the clusters to write: kept ones are counted (GroupResult.kept), their stored copies stay. */
function withoutKeptClusters(result: GroupResult): GroupResult {
  let clusters = 0;
  let duplicates = 0;
  const written = result.clusters.filter((cluster) => {
    if (!cluster.kept) return true;
    clusters++;
    duplicates += cluster.members.length - 1;
    return false;
  });
  return { ...result, clusters: written, kept: { clusters, duplicates } };
}
