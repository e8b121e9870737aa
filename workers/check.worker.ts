/**
 * Piscina entry of the check pool (POST /api/dedup/check): the checked question's print, then
 * the verification of its candidates' texts, off the main thread. Runs at normal priority, unlike
 * the task's workers: a check is a request someone waits for, and must not queue behind a task's
 * groups. Pure CPU, no I/O.
 */
import { TextDataCache, verifyCandidates, type VerifyJob } from './dedup/check-verify.ts';
import { fingerprintQuestion } from './dedup/engine.ts';
import { FINGERPRINT_WORDS } from './protocol.ts';

export type CheckJob = ({ kind: 'print' } & { content: string; options: string | null }) | ({ kind: 'verify' } & VerifyJob);

/**
 * Stored texts' data kept by this thread: checks of one question's variants meet the same
 * stored texts again. ~3 KB each on the GAOKAO bank, so ~30 MB a thread at most. Per thread,
 * as the key-word table (compare.ts) is.
 */
const TEXT_CACHE_ENTRIES = 10_000;
const cache = new TextDataCache(TEXT_CACHE_ENTRIES);

export default function checkWorker(job: CheckJob) {
  if (job.kind === 'print') {
    const print = new Uint32Array(FINGERPRINT_WORDS);
    fingerprintQuestion(job.content, job.options, print, 0);
    return print;
  }
  return verifyCandidates(job, cache);
}
