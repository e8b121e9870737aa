import type { Task } from '../../tasks/task.schema.ts';

const TERMINAL = new Set<Task['status']>(['completed', 'failed', 'cancelled']);

/**
 * A REST answer can arrive after the socket already told us more (a fast task completes before
 * its start request returns): a snapshot of a finished run must not bring it back to running,
 * and while running, counts only go up (progress events may even precede the start answer).
 */
export function reconcile(known: Task, next: Task): Task | undefined {
  if (TERMINAL.has(known.status) && next.status === 'running' && known.started_at === next.started_at) return undefined;
  if (known.status !== 'running' || next.status !== 'running') return next;
  return {
    ...next,
    processed_groups: Math.max(known.processed_groups, next.processed_groups),
    progress_percentage: Math.max(known.progress_percentage, next.progress_percentage),
    processed_questions: Math.max(known.processed_questions, next.processed_questions),
    duplicate_count: Math.max(known.duplicate_count, next.duplicate_count),
  };
}
