/**
 * POST /api/dedup/check without the HTTP: a question's near-duplicates in
 * the bank, best first, nothing stored. The index (prints of every stored
 * question) proposes candidates; only their texts are read back and
 * verified like a task would. The CPU of a check (the question's print, the
 * verification) runs where `CheckWork` says: on the check pool's threads in
 * the service (`workers/check.worker.ts`), on the calling thread in tests and
 * benches. Wiring (index population, the route, the pool) lives with the
 * caller; see the functions' comments.
 */
import { CheckIndex } from '../../workers/dedup/check-index.ts';
import { TextDataCache, verifyCandidates, type StoredText, type VerifiedHit, type VerifyJob } from '../../workers/dedup/check-verify.ts';
import { fingerprintQuestion } from '../../workers/dedup/engine.ts';
import { F_COUNT } from '../../workers/dedup/print.ts';
import { CHECK_TEXT, memberReason, STAGE_EXACT, STAGE_SIMILAR, type MemberReason } from '../../workers/dedup/reason.ts';
import { DEFAULT_MAX_DISTANCE, DEFAULT_MIN_SIMILARITY, FINGERPRINT_WORDS } from '../../workers/protocol.ts';
import type { CheckJob } from '../../workers/check.worker.ts';

export { CheckIndex };

export interface CheckInput {
  type_name: string;
  subject_name: string;
  channel_code: string;
  content: string;
  /** Stored JSON text of the options, or null. */
  options: string | null;
}

export interface CheckOptions {
  max_distance?: number;
  min_similarity?: number;
  scope?: 'channel' | 'subject';
}

export interface CheckHit {
  question_id: number;
  distance: number;
  similarity: number;
  /** Why it is a duplicate, as for a cluster member (the checked question in the canonical's place). */
  reason: MemberReason;
}

const EXACT_REASON = memberReason(STAGE_EXACT, CHECK_TEXT)!;

/** A stored question's text, with its version (`row_hash`). */
export interface StoredVersion {
  content: string;
  options: string | null;
  version: string;
}

/** Reads stored questions' texts by id; a question not found is left out. */
export type TextLoader = (ids: number[]) => Promise<Map<number, StoredVersion>>;

/** Where a check's CPU runs: the question's print, then the verification of its candidates. */
export interface CheckWork {
  print(content: string, options: string | null): Promise<Uint32Array>;
  verify(job: VerifyJob): Promise<VerifiedHit[]>;
}

/** The part of Piscina the check pool is used through. */
export interface CheckPool {
  run(job: CheckJob): Promise<unknown>;
}

/**
 * A check's CPU on the check pool (`workers/check.worker.ts`): the main thread keeps only the
 * index lookup and the reads, whatever the question's length or its candidates' number.
 */
export function checkOnPool(pool: CheckPool): CheckWork {
  return {
    print: (content, options) => pool.run({ kind: 'print', content, options }) as Promise<Uint32Array>,
    verify: (job) => pool.run({ kind: 'verify', ...job }) as Promise<VerifiedHit[]>,
  };
}

/** A check's CPU on the calling thread (unit tests, benches), with no text data kept between checks. */
export function checkOnThisThread(cache = new TextDataCache(0)): CheckWork {
  return {
    print: async (content, options) => printOf(content, options),
    verify: async (job) => verifyCandidates(job, cache),
  };
}

/** The index's group key of a question. */
export function checkGroup(type_name: string, subject_name: string, channel_code: string): string {
  return `${type_name}\u0000${subject_name}\u0000${channel_code}`;
}

/** Computes a print for the index (or the fingerprint column) from a stored question. */
export function printOf(content: string, options: string | null): Uint32Array {
  const print = new Uint32Array(FINGERPRINT_WORDS);
  fingerprintQuestion(content, options, print, 0);
  return print;
}

export async function checkQuestion(index: CheckIndex, input: CheckInput, opts: CheckOptions, load: TextLoader, work: CheckWork): Promise<CheckHit[]> {
  const maxDistance = opts.max_distance ?? DEFAULT_MAX_DISTANCE;
  const minSimilarity = opts.min_similarity ?? DEFAULT_MIN_SIMILARITY;
  const print = await work.print(input.content, input.options);
  const candidates = index.candidates(print, 0, {
    maxDistance,
    minSimilarity,
    typeSubject: `${input.type_name}\u0000${input.subject_name}`,
    channel: input.channel_code,
    scope: opts.scope ?? 'channel',
  });
  const hits: CheckHit[] = [];
  const toRead: number[] = [];
  for (const c of candidates) {
    if (c.exact) hits.push({ question_id: c.id, distance: c.distance, similarity: 1, reason: EXACT_REASON });
    else toRead.push(c.id);
  }
  if (toRead.length > 0) {
    const texts = await load(toRead);
    const stored: StoredText[] = [];
    for (const c of candidates) {
      if (c.exact) continue;
      const text = texts.get(c.id);
      if (text === undefined) continue; // deleted since the index saw it
      stored.push({ id: c.id, distance: c.distance, content: text.content, options: text.options, version: text.version });
    }
    // Hundreds of candidates (a question with many near copies) took ~90 ms of CPU: never on the main thread.
    const verified = await work.verify({ content: input.content, options: input.options, minSimilarity, countWord: print[F_COUNT]!, candidates: stored });
    for (const v of verified) hits.push({ question_id: v.id, distance: v.distance, similarity: v.similarity, reason: memberReason(STAGE_SIMILAR, v.checks)! });
  }
  hits.sort((a, b) => b.similarity - a.similarity || a.distance - b.distance || a.question_id - b.question_id);
  return hits;
}
