/** What the main thread and the checkpointing thread (sqlite-checkpointer.ts) share; a module of its own, as the thread's module runs on import. */

/** Cells of `CheckpointerData.state`. */
export const CHECKPOINTER = {
  /** Bumped (and notified) to wake the thread for a run now. */
  wake: 0,
  /** Set to 1 (and notified) to stop the thread. */
  stop: 1,
  /** Frames in the WAL at the last run. */
  log: 2,
  /** Of those, frames copied into the database file. */
  checkpointed: 3,
  /** Runs begun. */
  started: 4,
  /** Runs finished (bumped after log and checkpointed are written). */
  runs: 5,
  size: 6,
} as const;

export interface CheckpointerData {
  path: string;
  intervalMs: number;
  /** Set to 1 (and notified) once this thread's connection is closed. */
  closed: Int32Array;
  /** Shared with the main thread: the CHECKPOINTER cells. */
  state: Int32Array;
}
