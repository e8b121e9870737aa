import type { GroupKey, ServerToClientEvents, TaskProgressPayload } from './events.ts';
import type { Task } from '../tasks/task.schema.ts';
import { taskRoom } from './events.ts';

/** Where the runner reports; the Socket.IO sink below is the production one. */
export interface ProgressSink {
  progress(task: Task, group: GroupKey): void;
  completed(task: Task): void;
  failed(taskId: number, error: string): void;
}

export type RoomEmitter = <E extends keyof ServerToClientEvents>(
  room: string,
  event: E,
  payload: Parameters<ServerToClientEvents[E]>[0],
) => void;

interface RoomState {
  lastSentAt: number;
  lastSent?: TaskProgressPayload;
  pending?: TaskProgressPayload;
  timer?: ReturnType<typeof setTimeout>;
}

export function progressPayload(task: Task, group: GroupKey | null): TaskProgressPayload {
  const elapsedSeconds = task.started_at ? (Date.now() - Date.parse(task.started_at)) / 1000 : 0;
  const remaining = task.total_questions - task.processed_questions;
  const eta = task.processed_questions > 0 ? Math.max(0, Math.round((elapsedSeconds / task.processed_questions) * remaining)) : null;
  return {
    task_id: task.id,
    status: 'running',
    processed_groups: task.processed_groups,
    total_groups: task.total_groups,
    progress_percentage: task.progress_percentage,
    current_group: group && { type_name: group.type_name, subject_name: group.subject_name, channel_code: group.channel_code },
    message: group ? `已完成分组: ${group.type_name} - ${group.subject_name}` : '没有需要处理的分组',
    processed_questions: task.processed_questions,
    total_questions: task.total_questions,
    duplicate_count: task.duplicate_count,
    eta_seconds: task.processed_groups === task.total_groups ? 0 : eta,
  };
}

/**
 * Coalesces progress to at most one `task_progress` per task per interval, always sending
 * the latest state, never a lower `processed_groups` than already sent, and always a final
 * `processed_groups == total_groups` before `task_completed`.
 */
export function createProgressSink(emit: RoomEmitter, intervalMs: number): ProgressSink & { close(): void } {
  const rooms = new Map<number, RoomState>();

  const send = (state: RoomState, payload: TaskProgressPayload) => {
    state.lastSent = payload;
    state.lastSentAt = performance.now();
    emit(taskRoom(payload.task_id), 'task_progress', payload);
  };

  const flush = (taskId: number) => {
    const state = rooms.get(taskId);
    if (!state) return;
    clearTimeout(state.timer);
    state.timer = undefined;
    if (state.pending) send(state, state.pending);
    state.pending = undefined;
  };

  return {
    progress(task, group) {
      let state = rooms.get(task.id);
      if (!state) rooms.set(task.id, (state = { lastSentAt: -Infinity }));
      const newest = state.pending ?? state.lastSent;
      if (newest && task.processed_groups < newest.processed_groups) return;
      state.pending = progressPayload(task, group);
      if (state.timer) return;
      const wait = state.lastSentAt + intervalMs - performance.now();
      if (wait <= 0) flush(task.id);
      else state.timer = setTimeout(() => flush(task.id), wait);
    },

    completed(task) {
      flush(task.id);
      const state = rooms.get(task.id);
      const last = state?.lastSent;
      if (!last || last.processed_groups !== task.total_groups) {
        emit(taskRoom(task.id), 'task_progress', progressPayload(task, last?.current_group ?? null));
      }
      rooms.delete(task.id);
      emit(taskRoom(task.id), 'task_completed', { task_id: task.id, data: task });
    },

    failed(taskId, error) {
      flush(taskId);
      rooms.delete(taskId);
      emit(taskRoom(taskId), 'task_error', { task_id: taskId, error });
    },

    close() {
      for (const state of rooms.values()) clearTimeout(state.timer);
      rooms.clear();
    },
  };
}
