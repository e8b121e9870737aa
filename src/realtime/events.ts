/**
 * The Socket.IO events of the contract, typed once for the server and for frontends
 * (`import type { ServerToClientEvents } from '.../src/realtime/events.ts'`).
 */
import type { ClusterReview } from '../review/review.schema.ts';
import type { ClusterView } from '../tasks/result.repository.ts';
import type { Task } from '../tasks/task.schema.ts';

export interface GroupKey {
  type_name: string;
  subject_name: string;
  channel_code: string;
}

export interface TaskProgressPayload {
  task_id: number;
  status: 'running';
  processed_groups: number;
  total_groups: number;
  progress_percentage: number;
  /** The group that just finished; null only for a task with no groups. */
  current_group: GroupKey | null;
  /** `已完成分组: <type_name> - <subject_name>` ("group finished: …"). */
  message: string;
  processed_questions: number;
  total_questions: number;
  duplicate_count: number;
  /** Seconds left at the rate so far; null until there is a rate to go by. */
  eta_seconds: number | null;
}

/** A reviewer acted on a cluster (src/review/): its state now, and how far the task's review is. */
export interface ClusterReviewedPayload {
  task_id: number;
  cluster_id: number;
  review: ClusterReview;
  canonical_question_id: number;
  members: ClusterView['members'];
  review_progress: { reviewed: number; total: number };
}

/** A task's confirmed clusters were resolved: this many questions got duplicate_of. */
export interface TaskResolvedPayload {
  task_id: number;
  resolved_questions: number;
}

export type Ack = (answer: { ok: true; data: unknown } | { ok: false; message: string }) => void;

export interface ServerToClientEvents {
  connected: (payload: { message: string }) => void;
  task_status: (payload: { task_id: number; status: Task['status']; data: Task }) => void;
  task_progress: (payload: TaskProgressPayload) => void;
  task_completed: (payload: { task_id: number; data: Task }) => void;
  task_error: (payload: { task_id: number; error: string }) => void;
  error: (payload: { message: string }) => void;
  left: (payload: { message: string; task_id: number }) => void;
  cluster_reviewed: (payload: ClusterReviewedPayload) => void;
  task_resolved: (payload: TaskResolvedPayload) => void;
}

export interface ClientToServerEvents {
  join_task: (payload: { task_id: number | string }, ack?: Ack) => void;
  leave_task: (payload: { task_id: number | string }, ack?: Ack) => void;
}

/** The one place room names are built. */
export const taskRoom = (taskId: number) => `task:${taskId}`;
