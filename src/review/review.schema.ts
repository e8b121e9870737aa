import { z } from 'zod';
import type { ReviewState, Verdict } from '../db/schema.ts';
import { paginationQuery } from '../http/pagination.ts';

export const REVIEW_STATES = ['unreviewed', 'confirmed', 'dismissed', 'partial'] as const satisfies ReviewState[];
export const VERDICTS = ['duplicate', 'distinct'] as const satisfies Verdict[];
export const REVIEW_ACTIONS = ['confirm', 'dismiss', 'reject_members', 'set_canonical'] as const;

const questionId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** Lone surrogates and NUL cannot be stored as text (PostgreSQL refuses NUL): such a note is the client's mistake. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const note = z
  .string()
  .max(2000)
  .refine((text) => !text.includes('\u0000') && !LONE_SURROGATE.test(text), 'note must be text without NUL characters or lone surrogates')
  .optional();

/** POST …/clusters/:cluster_id/review; which ids an action needs is checked against the cluster itself. */
export const reviewBody = z.discriminatedUnion('action', [
  z.object({ action: z.literal('confirm'), note }),
  z.object({ action: z.literal('dismiss'), note }),
  z.object({ action: z.literal('reject_members'), question_ids: z.array(questionId).min(1).max(10_000), note }),
  z.object({ action: z.literal('set_canonical'), canonical_question_id: questionId, note }),
]);
export type ReviewBody = z.infer<typeof reviewBody>;

const similarity = z.coerce.number().min(0).max(1).optional();

/** What the clusters route adds to its query. */
export const clusterReviewQuery = {
  review: z.enum(REVIEW_STATES).optional(),
  min_similarity: similarity,
  max_similarity: similarity,
  include: z.enum(['questions']).optional(),
};

export const decisionsQuery = z.object({
  question_id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  verdict: z.enum(VERDICTS).optional(),
  lapsed: z.enum(['true', 'false']).transform((value) => value === 'true').optional(),
  ...paginationQuery,
});

export const resolveBody = z.object({ clusters: z.literal('confirmed').default('confirmed') }).strict();

export const resolutionsQuery = z.object({ format: z.enum(['csv', 'ndjson']).default('csv') });

/** A cluster's review, as the clusters route and `cluster_reviewed` show it. */
export interface ClusterReview {
  state: ReviewState;
  decided_by: string | null;
  decided_at: string | null;
  note: string | null;
}

/** A remembered pair decision as `GET /api/dedup/decisions` shows it. */
export interface DecisionView {
  id: number;
  question_ids: [number, number];
  verdict: Verdict;
  decided_by: string;
  decided_at: string;
  note: string | null;
  /** Either question's content changed since (or a question is gone): the decision no longer counts. */
  lapsed: boolean;
}
