/**
 * Piscina entry: one job per group. Pure CPU, no I/O; the algorithm lives
 * in ./dedup/ and is unit-tested there.
 */
import { gcAndSweep } from 'bun:jsc';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { wholeBuffersOf, type GroupJob, type GroupResult } from './protocol.ts';
import { dedupGroup } from './dedup/engine.ts';
import { lowerThreadPriority } from './thread-priority.ts';

// Computation yields the CPU to the main thread's requests and events when cores are short.
lowerThreadPriority();

/** A GroupResult marked for Piscina to move its typed arrays; the pool's caller receives the GroupResult itself. */
export interface MovedGroupResult {
  readonly [valueSymbol]: GroupResult;
  readonly [transferableSymbol]: ArrayBuffer[];
}

/** Past this many questions a group's garbage is worth a full collection and sweep (~0.1 s) of its own. */
const BIG_GROUP = 10_000;

/**
 * Whether this thread's last group was big. Per thread (each worker thread loads this module
 * once): the collection it asks for concerns this thread's heap alone.
 */
let lastGroupWasBig = false;

export default function dedupWorker(job: GroupJob): MovedGroupResult {
  // The previous group's texts, verification data and garbage are all dead now: free them before
  // this group allocates its own. During a task the next job is already queued when one ends, so
  // without this a busy thread never got to sweep, and the two threads' heaps piled up to a peak
  // RSS of 1.8-2.1 GB on the 1M bench. Swept, not just collected: freed blocks go back at once.
  if (lastGroupWasBig) gcAndSweep();
  lastGroupWasBig = job.ids.length >= BIG_GROUP;
  // Bun.gc(false): a young-generation collection, a few ms; the thread's heap stays near what is live.
  const result = dedupGroup(job, { collectGarbage: () => Bun.gc(false) });
  // Idle after this group (the end of a task): free it now rather than when the next task comes.
  if (lastGroupWasBig) setTimeout(() => {
    if (lastGroupWasBig) gcAndSweep();
    lastGroupWasBig = false;
  }, 0);
  // Moved, not copied: deserializing ~12 MB of prints and decisions of a 150,000-question
  // group cost the main thread 7-30 ms, and this thread has no further use for them.
  const moved: MovedGroupResult = { [valueSymbol]: result, [transferableSymbol]: wholeBuffersOf([result.prints, result.fresh, result.decisions, result.needContent]) };
  move(moved);
  return moved;
}
