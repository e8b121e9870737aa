import type { RoomEmitter } from '../realtime/progress.ts';
import { taskRoom, type ClusterReviewedPayload, type TaskResolvedPayload } from '../realtime/events.ts';

/** Where review routes announce what they did; main.ts builds it on Socket.IO. */
export interface ReviewEvents {
  clusterReviewed(payload: ClusterReviewedPayload): void;
  taskResolved(payload: TaskResolvedPayload): void;
}

/**
 * Review events go to the task's room as they happen, uncoalesced (each is one reviewer's
 * decision). Given `io.to(room).emit`, the PostgreSQL adapter carries them to the clients of
 * every instance, so reviewers connected to different instances see each other's decisions.
 */
export function createReviewEvents(emit: RoomEmitter): ReviewEvents {
  return {
    clusterReviewed: (payload) => emit(taskRoom(payload.task_id), 'cluster_reviewed', payload),
    taskResolved: (payload) => emit(taskRoom(payload.task_id), 'task_resolved', payload),
  };
}
