/**
 * Zod descriptions of what the API answers, for the OpenAPI document only. Request schemas are
 * the validators themselves; these response shapes are tied to the TypeScript types the code
 * returns by the compile-time checks at the bottom, so they cannot drift silently.
 */
import { z } from 'zod';
import type { Question } from '../questions/question.schema.ts';
import type { GroupKey, TaskProgressPayload } from '../realtime/events.ts';
import type { ClusterView } from '../tasks/result.repository.ts';
import { TASK_STATUSES, type Task } from '../tasks/task.schema.ts';

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
  })
  ;

export const cluster = z
  .object({
    cluster_id: z.number().int(),
    group: groupKey,
    canonical_question_id: z.number().int(),
    members: z.array(
      z.object({
        question_id: z.number().int(),
        distance: z.number().int(),
        similarity: z.number(),
        deleted: z.boolean().meta({ description: 'the question was deleted after the run; a deleted canonical question gives way to the earliest live member' }),
      }),
    ),
  })
  ;

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
] = [true, true, true, true, true, true];
void checks;
