/**
 * Piscina entry: one job per group. Pure CPU, no I/O; the algorithm lives
 * in ./dedup/ and is unit-tested there.
 */
import type { GroupJob, GroupResult } from './protocol.ts';
import { dedupGroup } from './dedup/engine.ts';
import { lowerThreadPriority } from './thread-priority.ts';

// Computation yields the CPU to the main thread's requests and events when cores are short.
lowerThreadPriority();

export default function dedupWorker(job: GroupJob): GroupResult {
  return dedupGroup(job);
}
