/**
 * Zod descriptions of what the API answers, for the OpenAPI document only. Request schemas are
 * the validators themselves; these response shapes are tied to the TypeScript types the code
 * returns by the compile-time checks at the bottom, so they cannot drift silently.
 */
import { z } from 'zod';
import type { Question } from '../questions/question.schema.ts';
import type { GroupKey, TaskProgressPayload } from '../realtime/events.ts';
import type { ClusterView } from '../tasks/result.repository.ts';
import type { CheckHit } from '../dedup/check.ts';
import { REASON_CHECKS, REASON_STAGES } from '../../workers/dedup/reason.ts';
import { TASK_STATUSES, type Task } from '../tasks/task.schema.ts';
import type { MappedHit } from '../review/resolution.repository.ts';
import { REVIEW_STATES, VERDICTS, type ClusterReview, type DecisionView } from '../review/review.schema.ts';
import type { ClusterReviewedPayload, TaskResolvedPayload } from '../realtime/events.ts';

const isoTime = z.string().meta({ description: 'ISO 8601 time', example: '2026-01-01T00:00:00.000Z' });
const names = z.array(z.string()).optional();

export const groupKey = z.object({ type_name: z.string(), subject_name: z.string(), channel_code: z.string() });

export const task = z
  .object({
    id: z.number().int(),
    task_name: z.string(),
    status: z.enum(TASK_STATUSES),
    scope: z.enum(['channel', 'subject']),
    filters: z.object({ type_names: names, subject_names: names, channel_codes: names }),
    max_distance: z.number().int(),
    min_similarity: z.number(),
    total_groups: z.number().int(),
    processed_groups: z.number().int(),
    progress_percentage: z.number().meta({ description: 'processed_groups / total_groups * 100, 2 decimals' }),
    total_questions: z.number().int(),
    processed_questions: z.number().int(),
    duplicate_count: z.number().int(),
    cluster_count: z.number().int(),
    reviewed_cluster_count: z.number().int().meta({ description: 'clusters of the current run in any review state but unreviewed' }),
    confirmed_cluster_count: z.number().int(),
    dismissed_cluster_count: z.number().int(),
    include_resolved: z.boolean().meta({ description: 'runs take in questions resolved as duplicates (left out by default)' }),
    error: z.string().nullable(),
    created_at: isoTime,
    started_at: isoTime.nullable(),
    finished_at: isoTime.nullable(),
  })
  ;

export const question = z
  .object({
    id: z.number().int(),
    external_id: z.string().nullable(),
    type_name: z.string(),
    subject_name: z.string(),
    channel_code: z.string(),
    content: z.string(),
    options: z.union([z.array(z.string()), z.record(z.string(), z.string())]).nullable(),
    answer: z.unknown(),
    analysis: z.string().nullable(),
    created_at: isoTime,
    updated_at: isoTime,
    duplicate_of: z.number().int().nullable().meta({ description: 'the canonical question this one was resolved as a duplicate of; null while active' }),
  })
  ;

export const clusterReview = z.object({
  state: z.enum(REVIEW_STATES),
  decided_by: z.string().nullable().meta({ description: 'token name, else X-Reviewer, else "anonymous"' }),
  decided_at: isoTime.nullable(),
  note: z.string().nullable(),
});

/** Why a member is in its cluster (workers/dedup/reason.ts); null only for members stored before reasons existed. */
export const memberReason = z
  .object({
    stage: z.enum(REASON_STAGES).meta({ description: 'exact: the same text once formatting is ignored; similar: a near duplicate whose verification passed; reviewed: a reviewer said so' }),
    checks: z.array(z.enum(REASON_CHECKS)).meta({ description: 'what was verified to agree between the member and the canonical question' }),
  })
  ;

export const clusterMember = z.object({ question_id: z.number().int(), distance: z.number().int(), similarity: z.number(), reason: memberReason.nullable() });

export const cluster = z
  .object({
    cluster_id: z.number().int(),
    group: groupKey,
    canonical_question_id: z.number().int().meta({ description: "the reviewer's choice (set_canonical) if any, else the earliest question" }),
    members: z.array(clusterMember.extend({ question: question.nullable().optional().meta({ description: 'with include=questions' }) })),
    review: clusterReview,
  })
  ;

export const decision = z.object({
  id: z.number().int(),
  question_ids: z.tuple([z.number().int(), z.number().int()]),
  verdict: z.enum(VERDICTS),
  decided_by: z.string(),
  decided_at: isoTime,
  note: z.string().nullable(),
  lapsed: z.boolean().meta({ description: 'a question changed since: the decision no longer counts' }),
});

export const resolveResult = z.object({ resolved_questions: z.number().int(), clusters: z.number().int() });

export const checkHit = z.object({
  question_id: z.number().int().meta({ description: 'an active question; for a match on a resolved duplicate, its canonical question' }),
  distance: z.number().int(),
  similarity: z.number(),
  reason: memberReason,
  resolved_duplicate_id: z.number().int().optional().meta({ description: 'the resolved duplicate the question matched' }),
});

export const clusterReviewed = z.object({
  task_id: z.number().int(),
  cluster_id: z.number().int(),
  review: clusterReview,
  canonical_question_id: z.number().int(),
  members: z.array(clusterMember),
  review_progress: z.object({ reviewed: z.number().int(), total: z.number().int() }),
});

export const taskResolved = z.object({ task_id: z.number().int(), resolved_questions: z.number().int() });

export const importResult = z
  .object({
    inserted: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    rejected: z.array(z.object({ index: z.number().int(), message: z.string() })).meta({ description: 'the first 1000 rejected rows' }),
    rejected_count: z.number().int(),
  })
  ;

export const taskGroup = z.object({
  id: z.number().int(),
  type_name: z.string(),
  subject_name: z.string(),
  channel_code: z.string(),
  status: z.enum(['pending', 'running', 'done', 'failed']),
  question_count: z.number().int(),
  duplicate_count: z.number().int(),
  cluster_count: z.number().int(),
  attempts: z.number().int(),
  elapsed_ms: z.number().nullable(),
  error: z.string().nullable(),
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
});

export const health = z.object({ status: z.literal('ok'), db: z.string(), workers: z.number().int(), version: z.string() });

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), page: z.number().int(), page_size: z.number().int() });

export const envelope = <T extends z.ZodType>(data: T) =>
  z.object({ code: z.number().int().meta({ description: 'equals the HTTP status' }), message: z.string(), data });

export const errorEnvelope = z
  .object({
    code: z.number().int(),
    message: z.string(),
    data: z.null(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  ;

/** Socket.IO payloads, for the docs page and the `x-socketio` extension of the document. */
export const taskProgress = z
  .object({
    task_id: z.number().int(),
    status: z.literal('running'),
    processed_groups: z.number().int(),
    total_groups: z.number().int(),
    progress_percentage: z.number(),
    current_group: groupKey.nullable(),
    message: z.string().meta({ example: '已完成分组: 单选题 - 数学' }),
    processed_questions: z.number().int(),
    total_questions: z.number().int(),
    duplicate_count: z.number().int(),
    eta_seconds: z.number().nullable(),
  })
  ;

// Compile-time ties to the types the code really returns: a field added on one side only fails `tsc`.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: [
  Same<z.infer<typeof task>['status'], Task['status']>,
  Same<keyof z.infer<typeof task>, keyof Task>,
  Same<keyof z.infer<typeof question>, keyof Question>,
  Same<keyof z.infer<typeof cluster>, keyof ClusterView>,
  Same<keyof z.infer<typeof taskProgress>, keyof TaskProgressPayload>,
  Same<z.infer<typeof groupKey>, GroupKey>,
  Same<z.infer<typeof clusterMember>, ClusterView['members'][number]>,
  Same<z.infer<typeof clusterReview>, ClusterReview>,
  Same<keyof z.infer<typeof decision>, keyof DecisionView>,
  Same<z.infer<typeof checkHit>, MappedHit>,
  Same<keyof z.infer<typeof clusterReviewed>, keyof ClusterReviewedPayload>,
  Same<z.infer<typeof taskResolved>, TaskResolvedPayload>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
void checks;
