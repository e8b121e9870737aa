/**
 * The review screen's view of the contract ("Review and resolution"), written from the contract
 * itself so the screen depends on the documented interface, not on the service's internals.
 */
import type { Question } from '../../questions/question.schema.ts';
import type { ServerToClientEvents } from '../../realtime/events.ts';
import type { Task } from '../../tasks/task.schema.ts';

export const REVIEW_STATES = ['unreviewed', 'confirmed', 'dismissed', 'partial'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

export interface Review {
  state: ReviewState;
  decided_by: string | null;
  decided_at: string | null;
  note: string | null;
}

export interface MemberReason {
  stage: 'exact' | 'similar' | 'reviewed';
  checks: string[];
}

/** A stored question as `include=questions` returns it; `duplicate_of` once resolution exists. */
export type ReviewQuestion = Question & { duplicate_of?: number | null };

export interface ReviewMember {
  question_id: number;
  distance: number;
  similarity: number;
  /** Null for members stored before reasons were kept. */
  reason?: MemberReason | null;
  question?: ReviewQuestion | null;
}

export interface ReviewCluster {
  cluster_id: number;
  group: { type_name: string; subject_name: string; channel_code: string };
  canonical_question_id: number;
  members: ReviewMember[];
  review?: Review;
}

export type ReviewAction =
  | { action: 'confirm' | 'dismiss'; note?: string }
  | { action: 'reject_members'; question_ids: number[]; note?: string }
  | { action: 'set_canonical'; canonical_question_id: number; note?: string };

export type ReviewTask = Task & {
  reviewed_cluster_count?: number;
  confirmed_cluster_count?: number;
  dismissed_cluster_count?: number;
};

export interface ClusterReviewedPayload {
  task_id: number;
  cluster_id: number;
  review: Review;
  canonical_question_id: number;
  members: ReviewMember[];
  review_progress: { reviewed: number; total: number };
}

export interface TaskResolvedPayload {
  task_id: number;
  resolved_questions: number;
}

export interface ResolveResult {
  resolved_questions: number;
  clusters: number;
}

export type ReviewServerEvents = ServerToClientEvents & {
  cluster_reviewed: (payload: ClusterReviewedPayload) => void;
  task_resolved: (payload: TaskResolvedPayload) => void;
};
