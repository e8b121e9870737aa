import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import type { BankChange } from '../dedup/bank-index.ts';
import type { Task } from '../tasks/task.schema.ts';
import type { GroupKey } from './events.ts';
import type { ProgressSink } from './progress.ts';

/** What instances tell each other about tasks, through the Socket.IO adapter. */
interface InterServerEvents {
  'dedup:progress': (message: { task: Task; group: GroupKey }) => void;
  'dedup:completed': (message: { task: Task }) => void;
  'dedup:failed': (message: { taskId: number; error: string; at: string }) => void;
  'dedup:started': (message: { taskId: number }) => void;
  'dedup:bank': (change: BankChange) => void;
}

/** How long an ended run's late progress is still recognised and dropped. */
const ENDED_RUN_MEMORY_MS = 10 * 60_000;

/**
 * Progress for instances sharing one database. Whichever instance finishes a group tells every
 * instance; each instance feeds its own local sink, which emits to its own clients only
 * (`io.local`). So each client hears one stream, coalesced and gated by the one instance it
 * is connected to: `processed_groups` never goes down in any room, however the instances'
 * messages interleave on the way. Progress of a run that has already ended, arriving late
 * from another instance, is dropped, so nothing follows `task_completed` or `task_error`.
 */
export function createClusterProgress(io: Server, local: ProgressSink & { close(): void }, logger: Logger): ProgressSink & { close(): void } {
  const bus = io as unknown as Server<Record<string, never>, Record<string, never>, InterServerEvents>;
  /** Task id → when its last run ended (ISO); progress of runs started before then is stale. */
  const ended = new Map<number, { at: string; seenAt: number }>();

  const remember = (taskId: number, at: string) => {
    const nowMs = Date.now();
    for (const [id, entry] of ended) if (nowMs - entry.seenAt > ENDED_RUN_MEMORY_MS) ended.delete(id);
    ended.set(taskId, { at, seenAt: nowMs });
  };

  const deliverProgress = (task: Task, group: GroupKey) => {
    const end = ended.get(task.id);
    if (end) {
      if (!task.started_at || task.started_at < end.at) return;
      ended.delete(task.id);
    }
    local.progress(task, group);
  };
  const deliverCompleted = (task: Task) => {
    const end = ended.get(task.id);
    if (end && task.finished_at && end.at >= task.finished_at) return;
    remember(task.id, task.finished_at ?? new Date().toISOString());
    local.completed(task);
  };
  const deliverFailed = (taskId: number, error: string, at: string) => {
    remember(taskId, at);
    local.failed(taskId, error);
  };

  bus.on('dedup:progress', ({ task, group }) => deliverProgress(task, group));
  bus.on('dedup:completed', ({ task }) => deliverCompleted(task));
  bus.on('dedup:failed', ({ taskId, error, at }) => deliverFailed(taskId, error, at));

  const tell = <E extends keyof InterServerEvents>(event: E, ...message: Parameters<InterServerEvents[E]>) => {
    try {
      (bus.serverSideEmit as (event: string, ...args: unknown[]) => boolean)(event, ...message);
    } catch (error) {
      logger.warn({ err: error, event }, 'could not tell the other instances');
    }
  };

  return {
    progress(task, group) {
      const key = { type_name: group.type_name, subject_name: group.subject_name, channel_code: group.channel_code };
      deliverProgress(task, key);
      tell('dedup:progress', { task, group: key });
    },
    completed(task) {
      deliverCompleted(task);
      tell('dedup:completed', { task });
    },
    failed(taskId, error) {
      const at = new Date().toISOString();
      deliverFailed(taskId, error, at);
      tell('dedup:failed', { taskId, error, at });
    },
    close() {
      local.close();
      ended.clear();
    },
  };
}

/**
 * Lets instances join a task the moment another one starts it, rather than at their next poll
 * (TASK_POLL_MS): returns the function to call when a task starts here; `discover` runs on
 * every other instance when it hears of it. The poll stays, for tasks whose news was missed.
 */
export function shareTaskStarts(io: Server, discover: () => Promise<void>, logger: Logger): (taskId: number) => void {
  const bus = io as unknown as Server<Record<string, never>, Record<string, never>, InterServerEvents>;
  bus.on('dedup:started', () => {
    discover().catch((error) => logger.warn({ err: error }, 'joining a task started elsewhere failed'));
  });
  return (taskId) => {
    try {
      (bus.serverSideEmit as (event: string, ...args: unknown[]) => boolean)('dedup:started', { taskId });
    } catch (error) {
      logger.warn({ err: error }, 'could not tell the other instances about a started task');
    }
  };
}

/**
 * Keeps every instance's check index in step with the prints the others store or drop:
 * returns the `onChanged` to give this instance's BankIndex; `follow` runs on the others.
 * A change is an id range (a page of prints) or one deleted id, so a message stays small.
 */
export function shareBankChanges(io: Server, follow: (change: BankChange) => Promise<void>, logger: Logger): (change: BankChange) => void {
  const bus = io as unknown as Server<Record<string, never>, Record<string, never>, InterServerEvents>;
  bus.on('dedup:bank', (change) => {
    follow(change).catch((error) => logger.warn({ err: error }, 'following another instance’s prints failed'));
  });
  return (change) => {
    try {
      (bus.serverSideEmit as (event: string, ...args: unknown[]) => boolean)('dedup:bank', change);
    } catch (error) {
      logger.warn({ err: error }, 'could not tell the other instances about new prints');
    }
  };
}
