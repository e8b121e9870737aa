/**
 * The verify half of POST /api/dedup/check, as a task verifies a similar member: the checked
 * question against each candidate's stored text. Pure CPU, no I/O: `../check.worker.ts` runs it
 * off the main thread; `src/dedup/check.ts` decides the candidates and builds the answer.
 */
import { contentChecks } from './clusters.ts';
import { duplicateSimilarity, textChecks, textData, type TextData } from './compare.ts';
import { CHECK_SIMILARITY } from './reason.ts';
import { RecentlyUsed } from './recently-used.ts';

/** A candidate's stored text, read back for verification. */
export interface StoredText {
  id: number;
  distance: number;
  content: string;
  options: string | null;
  /** The row's version (`row_hash`): a text data cached for another version is not used. */
  version: string;
}

export interface VerifyJob {
  content: string;
  options: string | null;
  minSimilarity: number;
  /** The checked question's print word F_COUNT (which agreement-key checks it has). */
  countWord: number;
  candidates: StoredText[];
}

/** A verified near-duplicate: its Jaccard similarity (rounded as answered) and the checks it passed. */
export interface VerifiedHit {
  id: number;
  distance: number;
  similarity: number;
  checks: number;
}

/**
 * Stored questions' text data by id, each for the version it was made from, the least recently
 * used dropped past `capacity` (recently-used.ts): variants of one question are checked again
 * and again (every copy pasted in finds the same stored originals), and their normalization and
 * shingles were most of a check's CPU. A changed question has another version, so its old data
 * is never used.
 */
export class TextDataCache {
  private readonly entries: RecentlyUsed<number, { version: string; data: TextData }>;

  constructor(capacity: number) {
    this.entries = new RecentlyUsed(capacity);
  }

  get size(): number {
    return this.entries.size;
  }

  of(text: StoredText): TextData {
    const held = this.entries.get(text.id);
    if (held !== undefined && held.version === text.version) return held.data;
    const data = textData(text.content, text.options);
    this.entries.set(text.id, { version: text.version, data });
    return data;
  }
}

/** The candidates that are duplicates of the job's question, in the job's order. */
export function verifyCandidates(job: VerifyJob, cache: TextDataCache): VerifiedHit[] {
  const hits: VerifiedHit[] = [];
  if (job.candidates.length === 0) return hits;
  const mine = textData(job.content, job.options);
  for (const candidate of job.candidates) {
    const theirs = cache.of(candidate);
    const similarity = duplicateSimilarity(mine, theirs, job.minSimilarity);
    if (similarity === null) continue;
    // As a task's similar member: the index proposed only prints with the same agreement key.
    const checks = CHECK_SIMILARITY | contentChecks(job.countWord) | textChecks(mine, theirs);
    hits.push({ id: candidate.id, distance: candidate.distance, similarity: Math.round(similarity * 10000) / 10000, checks });
  }
  return hits;
}
