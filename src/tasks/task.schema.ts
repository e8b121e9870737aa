import { z } from 'zod';
import { DEFAULT_MAX_DISTANCE, DEFAULT_MIN_SIMILARITY } from '../../workers/protocol.ts';
import type { Scope, TaskStatus } from '../db/schema.ts';
import { paginationQuery } from '../http/pagination.ts';

const name = z.string().trim().min(1).max(100);
const nameList = z.array(name).min(1).max(1000).optional();

export const taskFilters = z.object({
  type_names: nameList,
  subject_names: nameList,
  channel_codes: nameList,
});
export type TaskFilters = z.infer<typeof taskFilters>;

export const dedupOptions = {
  scope: z.enum(['channel', 'subject']).default('channel'),
  max_distance: z.number().int().min(0).max(16).default(DEFAULT_MAX_DISTANCE),
  min_similarity: z.number().min(0).max(1).default(DEFAULT_MIN_SIMILARITY),
};

export const createTaskBody = z.object({
  task_name: z.string().trim().min(1, 'task_name must not be empty').max(200),
  filters: taskFilters.default({}),
  ...dedupOptions,
  /** Runs take in questions resolved as duplicates too (left out by default). */
  include_resolved: z.boolean().default(false),
});

export const TASK_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const satisfies TaskStatus[];

export const listTasksQuery = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  ...paginationQuery,
});

export interface Task {
  id: number;
  task_name: string;
  status: TaskStatus;
  scope: Scope;
  filters: TaskFilters;
  max_distance: number;
  min_similarity: number;
  total_groups: number;
  processed_groups: number;
  progress_percentage: number;
  total_questions: number;
  processed_questions: number;
  duplicate_count: number;
  cluster_count: number;
  /** Clusters of the current run reviewed (any state but unreviewed), confirmed, dismissed. */
  reviewed_cluster_count: number;
  confirmed_cluster_count: number;
  dismissed_cluster_count: number;
  include_resolved: boolean;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/**
 * `processed / total * 100` to two decimals. A started task with no groups has nothing left
 * to do (100); a pending one has not counted its groups yet (0).
 */
export function progressPercentage(processed: number, total: number, status: TaskStatus): number {
  if (total === 0) return status === 'pending' ? 0 : 100;
  return Math.round((processed / total) * 10_000) / 100;
}

/** The channel a "subject"-scoped group stands for: every channel of its type and subject. */
export const ALL_CHANNELS = '*';
