/**
 * The Socket.IO events of the contract, described for people (docs page) and tools (the
 * `x-socketio` extension). The TypeScript types live in src/realtime/events.ts; the
 * `satisfies` below makes this list name exactly the events typed there.
 */
import { z } from 'zod';
import type { ClientToServerEvents, ServerToClientEvents } from '../realtime/events.ts';
import { clusterReviewed, task, taskProgress, taskResolved } from './schemas.ts';

const taskIdInput = z.object({ task_id: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]) });
const taskStatus = z.object({ task_id: z.number().int(), status: task.shape.status, data: task });

const toJson = (schema: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

interface EventDoc {
  direction: 'client→server' | 'server→client';
  to: string;
  description: string;
  payload: z.ZodType;
}

const DOCS = {
  join_task: { direction: 'client→server', to: 'server', description: 'Join the task\'s room; answered by task_status to this client (or error). An acknowledgement callback, if passed, gets { ok, data | message }.', payload: taskIdInput },
  leave_task: { direction: 'client→server', to: 'server', description: 'Leave the room; answered by left.', payload: taskIdInput },
  connected: { direction: 'server→client', to: 'the new connection', description: 'Sent once on connect.', payload: z.object({ message: z.string() }) },
  task_status: { direction: 'server→client', to: 'the joining client', description: 'The task as it is now; also after a reconnect and re-join.', payload: taskStatus },
  task_progress: { direction: 'server→client', to: 'the room', description: 'After groups finish; coalesced to at most one per PROGRESS_INTERVAL_MS, latest state never dropped, processed_groups never goes down; one with processed_groups == total_groups always precedes task_completed.', payload: taskProgress },
  task_completed: { direction: 'server→client', to: 'the room', description: 'The finished task.', payload: z.object({ task_id: z.number().int(), data: task }) },
  task_error: { direction: 'server→client', to: 'the room', description: 'The task failed, or was cancelled (error: "cancelled").', payload: z.object({ task_id: z.number().int(), error: z.string() }) },
  error: { direction: 'server→client', to: 'the offending client', description: 'A bad payload, an unknown task or an unknown event.', payload: z.object({ message: z.string() }) },
  left: { direction: 'server→client', to: 'the leaving client', description: 'Confirms leave_task.', payload: z.object({ message: z.string(), task_id: z.number().int() }) },
  cluster_reviewed: { direction: 'server→client', to: 'the room', description: 'A reviewer acted on a cluster (through any instance): its review, canonical question and members now, and the task\'s review progress.', payload: clusterReviewed },
  task_resolved: { direction: 'server→client', to: 'the room', description: 'The task\'s confirmed clusters were resolved: resolved_questions questions got duplicate_of.', payload: taskResolved },
} satisfies Record<keyof ClientToServerEvents | keyof ServerToClientEvents, EventDoc>; // a missing or extra event fails tsc

export const SOCKET_EVENTS = Object.entries(DOCS).map(([name, doc]: [string, EventDoc]) => ({
  name,
  direction: doc.direction,
  to: doc.to,
  description: doc.description,
  payload: toJson(doc.payload),
}));
