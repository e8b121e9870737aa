import type { Generated, Insertable, Selectable } from 'kysely';

/** ISO 8601 timestamps are stored as text so SQLite and PostgreSQL read them back alike. */
type Timestamp = string;

export interface QuestionTable {
  id: Generated<number>;
  external_id: string | null;
  type_name: string;
  subject_name: string;
  channel_code: string;
  content: string;
  /** JSON text: an array of strings or an object keyed by option label. */
  options: string | null;
  /** JSON text of whatever answer the caller sent. */
  answer: string | null;
  analysis: string | null;
  /** Hash of the caller's fields, so a re-import can tell "unchanged" from "updated". */
  row_hash: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Resolved as a duplicate of this question (migration 009); null: active. */
  duplicate_of: Generated<number | null>;
  resolved_by: Generated<string | null>;
  resolved_at: Generated<Timestamp | null>;
}

/** A question's dedup print, valid while `row_hash` is the question's current one. */
export interface QuestionPrintTable {
  question_id: number;
  row_hash: string;
  /** FINGERPRINT_WORDS little-endian uint32s. */
  print: Uint8Array;
}

/** Questions without a valid print, by group; kept by triggers (migration 005). */
export interface QuestionBacklogTable {
  type_name: string;
  subject_name: string;
  channel_code: string;
  question_id: number;
}

/** How far `question_backlog` is complete (migration 014): new rows above the mark are not on it yet. */
export interface QuestionPrintQueueTable {
  id: number;
  queued_through: number;
}

/** Questions per group, kept by triggers (migration 010) and, for new rows on SQLite, by the import batch (012). */
export interface QuestionGroupCountTable {
  type_name: string;
  subject_name: string;
  channel_code: string;
  question_count: number;
}

/** SQLite only: questions with ids up to `indexed_through` are in `questions_fts` (migration 010). */
export interface QuestionSearchStateTable {
  id: number;
  indexed_through: number;
}

export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type GroupStatus = 'pending' | 'running' | 'done' | 'failed';
export type Scope = 'channel' | 'subject';

export interface DedupTaskTable {
  id: Generated<number>;
  task_name: string;
  status: TaskStatus;
  scope: Scope;
  /** JSON text of `{ type_names?, subject_names?, channel_codes? }`. */
  filters: string;
  max_distance: number;
  min_similarity: number;
  total_groups: Generated<number>;
  processed_groups: Generated<number>;
  total_questions: Generated<number>;
  processed_questions: Generated<number>;
  duplicate_count: Generated<number>;
  cluster_count: Generated<number>;
  error: string | null;
  /** Bumped on every start, so results of an earlier run can never land in a later one. */
  run_number: Generated<number>;
  /** Review counters of the current run's clusters (migration 009). */
  reviewed_cluster_count: Generated<number>;
  confirmed_cluster_count: Generated<number>;
  dismissed_cluster_count: Generated<number>;
  /** 1: runs take resolved duplicates in too. */
  include_resolved: Generated<number>;
  created_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface DedupTaskGroupTable {
  id: Generated<number>;
  task_id: number;
  type_name: string;
  subject_name: string;
  /** `*` when the task's scope is "subject" (all channels of the type and subject). */
  channel_code: string;
  status: GroupStatus;
  question_count: number;
  duplicate_count: Generated<number>;
  cluster_count: Generated<number>;
  attempts: Generated<number>;
  elapsed_ms: number | null;
  error: string | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** The instance working on this group while it is `running`; once `done`, the one that did it. */
  lease_owner: string | null;
  /** Until when `lease_owner` holds the group; after that any instance may claim it again. */
  lease_expires_at: Timestamp | null;
}

/** A group's latest decisions, for the task's next run (see workers/dedup/reuse.ts). */
export interface DedupGroupDecisionsTable {
  task_id: number;
  type_name: string;
  subject_name: string;
  channel_code: string;
  /** The worker's snapshot (GroupResult.decisions), opaque here. */
  decisions: Uint8Array;
}

export interface DedupClusterTable {
  id: Generated<number>;
  task_id: number;
  group_id: number;
  canonical_question_id: number;
  member_count: number;
  /** The task's run that found (or kept) this cluster; only the current run's are results. */
  run_number: number;
  review_state: Generated<ReviewState>;
  reviewed_by: Generated<string | null>;
  reviewed_at: Generated<Timestamp | null>;
  review_note: Generated<string | null>;
  /** A member a reviewer made canonical; canonical_question_id stays the engine's (reuse finds kept clusters by it). */
  canonical_override: Generated<number | null>;
  /** The similarity of the weakest member to the canonical question (1 for none): the similarity-band filter. */
  min_similarity: Generated<number>;
}

export type ReviewState = 'unreviewed' | 'confirmed' | 'dismissed' | 'partial';
export type Verdict = 'duplicate' | 'distinct';

/** A reviewer's verdict on two questions, holding while both keep the row_hash they had (migration 009). */
export interface PairDecisionTable {
  id: Generated<number>;
  /** The smaller question id. */
  question_a: number;
  question_b: number;
  verdict: Verdict;
  row_hash_a: string;
  row_hash_b: string;
  /** Both questions' group key when decided: a run finds its group's decisions by it. */
  type_name: string;
  subject_name: string;
  channel_a: string;
  channel_b: string;
  decided_by: string;
  decided_at: Timestamp;
  note: string | null;
  /** 1 once either question's version (row_hash) or group differs from the one decided, kept by a trigger (migration 013). */
  lapsed: Generated<number>;
}

export interface DedupClusterMemberTable {
  cluster_id: number;
  task_id: number;
  question_id: number;
  distance: number;
  similarity: number;
  /** Stage code and checks bitmask (workers/dedup/reason.ts); null for members stored before migration 008. */
  reason_stage: number | null;
  reason_checks: number | null;
}

export interface Database {
  questions: QuestionTable;
  question_prints: QuestionPrintTable;
  question_backlog: QuestionBacklogTable;
  question_print_queue: QuestionPrintQueueTable;
  question_group_counts: QuestionGroupCountTable;
  question_search_state: QuestionSearchStateTable;
  dedup_tasks: DedupTaskTable;
  dedup_task_groups: DedupTaskGroupTable;
  dedup_group_decisions: DedupGroupDecisionsTable;
  dedup_clusters: DedupClusterTable;
  dedup_cluster_members: DedupClusterMemberTable;
  pair_decisions: PairDecisionTable;
}

export type QuestionRow = Selectable<QuestionTable>;
export type NewQuestionRow = Insertable<QuestionTable>;
export type TaskRow = Selectable<DedupTaskTable>;
export type GroupRow = Selectable<DedupTaskGroupTable>;
