/**
 * Why a member is in its cluster (contract: "Why a member is in its cluster").
 *
 * The worker carries a reason as two small numbers per member, in typed arrays parallel to
 * `Cluster.members` (`Cluster.stages`, `Cluster.checks`): a stage code and a bitmask of the checks
 * that were verified to agree between the member and the canonical question. The runner stores
 * both numbers as they are (`dedup_cluster_members.reason_stage`, `reason_checks`) and the routes
 * turn them into `{ stage, checks }` with memberReason(). Codes and bits are stored: append new
 * ones at the end, never renumber.
 */

/** Same text once formatting is ignored (equal normalized text). */
export const STAGE_EXACT = 0;
/** A near duplicate whose verification passed (joined through a verified pair). */
export const STAGE_SIMILAR = 1;
/** Together because a reviewer said so (a remembered `duplicate` decision). */
export const STAGE_REVIEWED = 2;

/** Stage names by code. */
export const REASON_STAGES = ['exact', 'similar', 'reviewed'] as const;
export type ReasonStage = (typeof REASON_STAGES)[number];

/**
 * Check names by bit: bit k of a checks mask is REASON_CHECKS[k].
 *  - text: the normalized texts are identical;
 *  - similarity: shingle Jaccard to the canonical reaches the task's min_similarity;
 *  - numbers: the same numbers in the same order;
 *  - formulas: the same operators and LaTeX commands in the same order;
 *  - key_words: the same key words (polarity, comparatives, units: key-words.ts);
 *  - options: both have options and every option has a close partner on the other side.
 * numbers, formulas and key_words are named only when the canonical question has some.
 */
export const REASON_CHECKS = ['text', 'similarity', 'numbers', 'formulas', 'key_words', 'options'] as const;
export type ReasonCheck = (typeof REASON_CHECKS)[number];

export const CHECK_TEXT = 1 << 0;
export const CHECK_SIMILARITY = 1 << 1;
export const CHECK_NUMBERS = 1 << 2;
export const CHECK_FORMULAS = 1 << 3;
export const CHECK_KEY_WORDS = 1 << 4;
export const CHECK_OPTIONS = 1 << 5;

export interface MemberReason {
  stage: ReasonStage;
  checks: ReasonCheck[];
}

/** The stored (stage, checks) pair as the API shows it; null for a row stored before reasons existed. */
export function memberReason(stage: number | null | undefined, checks: number | null | undefined): MemberReason | null {
  if (stage === null || stage === undefined) return null;
  const names: ReasonCheck[] = [];
  const mask = checks ?? 0;
  for (let k = 0; k < REASON_CHECKS.length; k++) if ((mask & (1 << k)) !== 0) names.push(REASON_CHECKS[k]!);
  return { stage: REASON_STAGES[stage] ?? 'similar', checks: names };
}

/** The mask of these check names (tests, callers that build reasons by name). */
export function checksMask(names: readonly ReasonCheck[]): number {
  let mask = 0;
  for (const name of names) mask |= 1 << REASON_CHECKS.indexOf(name);
  return mask;
}
