/**
 * POST /api/dedup/check without the HTTP: a question's near-duplicates in
 * the bank, best first, nothing stored. The index (prints of every stored
 * question) proposes candidates; only their texts are read back and
 * verified like a task would. Wiring (index population, the route) lives
 * with the caller; see the functions' comments.
 */
import { CheckIndex } from '../../workers/dedup/check-index.ts';
import { contentChecks } from '../../workers/dedup/clusters.ts';
import { duplicateSimilarity, textChecks, textData } from '../../workers/dedup/compare.ts';
import { fingerprintQuestion } from '../../workers/dedup/engine.ts';
import { F_COUNT } from '../../workers/dedup/print.ts';
import { CHECK_SIMILARITY, CHECK_TEXT, memberReason, STAGE_EXACT, STAGE_SIMILAR, type MemberReason } from '../../workers/dedup/reason.ts';
import { DEFAULT_MAX_DISTANCE, DEFAULT_MIN_SIMILARITY, FINGERPRINT_WORDS } from '../../workers/protocol.ts';

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

/** Reads stored questions' texts by id (a single `WHERE id IN (...)`). */
export type TextLoader = (ids: number[]) => Promise<Map<number, { content: string; options: string | null }>>;

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

export async function checkQuestion(index: CheckIndex, input: CheckInput, opts: CheckOptions, load: TextLoader): Promise<CheckHit[]> {
  const maxDistance = opts.max_distance ?? DEFAULT_MAX_DISTANCE;
  const minSimilarity = opts.min_similarity ?? DEFAULT_MIN_SIMILARITY;
  const print = printOf(input.content, input.options);
  const candidates = index.candidates(print, 0, {
    maxDistance,
    minSimilarity,
    typeSubject: `${input.type_name}\u0000${input.subject_name}`,
    channel: input.channel_code,
    scope: opts.scope ?? 'channel',
  });
  const hits: CheckHit[] = [];
  const toRead = candidates.filter((c) => !c.exact).map((c) => c.id);
  for (const c of candidates) if (c.exact) hits.push({ question_id: c.id, distance: c.distance, similarity: 1, reason: EXACT_REASON });
  if (toRead.length > 0) {
    const texts = await load(toRead);
    const mine = textData(input.content, input.options);
    for (const c of candidates) {
      if (c.exact) continue;
      const stored = texts.get(c.id);
      if (stored === undefined) continue; // deleted since the index saw it
      const theirs = textData(stored.content, stored.options);
      const similarity = duplicateSimilarity(mine, theirs, minSimilarity);
      if (similarity === null) continue;
      // As a task's similar member: the index proposed only prints with the same agreement key.
      const checks = CHECK_SIMILARITY | contentChecks(print[F_COUNT]!) | textChecks(mine, theirs);
      hits.push({ question_id: c.id, distance: c.distance, similarity: Math.round(similarity * 10000) / 10000, reason: memberReason(STAGE_SIMILAR, checks)! });
    }
  }
  hits.sort((a, b) => b.similarity - a.similarity || a.distance - b.distance || a.question_id - b.question_id);
  return hits;
}
