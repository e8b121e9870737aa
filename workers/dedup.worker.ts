/**
 * Piscina entry: one job per group. Pure CPU, no I/O; the algorithm lives
 * in ./dedup/ and is unit-tested there.
 */
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

/** Past this many questions a group's garbage is worth a full collection when it ends. */
const BIG_GROUP = 10_000;

export default function dedupWorker(job: GroupJob): MovedGroupResult {
  // Bun.gc(false): a young-generation collection, a few ms; the thread's heap stays near what is live.
  const result = dedupGroup(job, { collectGarbage: () => Bun.gc(false) });
  // Once the result is posted, the group's texts, verification data and garbage go, not when the
  // next group's allocations push the collector: the next group starts in the room this one used.
  if (job.ids.length >= BIG_GROUP) setTimeout(() => Bun.gc(true), 0);
  // Moved, not copied: deserializing ~12 MB of prints and decisions of a 150,000-question
  // group cost the main thread 7-30 ms, and this thread has no further use for them.
  const moved: MovedGroupResult = { [valueSymbol]: result, [transferableSymbol]: wholeBuffersOf([result.prints, result.fresh, result.decisions, result.needContent]) };
  move(moved);
  return moved;
}
