/**
 * Piscina entry: one job per group. Pure CPU, no I/O; the algorithm lives
 * in ./dedup/ and is unit-tested there.
 */
import type { GroupJob, GroupResult } from './protocol.ts';
import { dedupGroup } from './dedup/engine.ts';

export default function dedupWorker(job: GroupJob): GroupResult {
  return dedupGroup(job);
}
