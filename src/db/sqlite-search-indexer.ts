/**
 * Worker-thread entry: keeps SQLite's FTS5 search index (`questions_fts`, migration 010) up to
 * date from its own connection. FTS5 spends ~130 µs indexing a ~600-character question, more
 * than the whole import of that row, so the main thread never does it: this thread indexes
 * the rows above `question_search_state.indexed_through` in small IMMEDIATE transactions
 * (~STEP_TARGET_MS each, so a main-thread write waits at most that long for the lock), and
 * only once imports have gone quiet (the largest id stopped growing) and no task is running
 * (the pool's threads need the cores then). It steps aside for the main connection's writes
 * (mainWrites): the main thread waits for the lock synchronously, in SQLite's busy handler,
 * which sleeps 1, 2, 5, 10, … ms between tries; steps taken back to back left almost no gap
 * for those tries to land in, and a review's write waited 200-3,000 ms (issue 13). Now a write
 * waits at most for the step in progress, and the thread resumes a round after writes stop.
 * Searches read rows above the mark with a bounded LIKE scan meanwhile, so results never
 * depend on how far this thread got.
 * Stops, closing its connection, on any message.
 */
import { Database } from 'bun:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../../workers/thread-priority.ts';

export interface SearchIndexerData {
  path: string;
  /** How often to look for rows to index while idle. */
  intervalMs: number;
  /** Set to 1 (and notified) once this thread's connection is closed. */
  closed: Int32Array;
  /** Bumped by the main connection before each statement that may write: while it moves, this thread does no step. */
  mainWrites: Int32Array;
}

/** Time one indexing transaction aims at: a main-thread write may wait this long for the lock. */
const STEP_TARGET_MS = 8;
const MIN_ROWS = 4;
const MAX_ROWS = 2000;

const { path, intervalMs, closed, mainWrites } = workerData as SearchIndexerData;
lowerThreadPriority();
const database = new Database(path);
database.exec('PRAGMA busy_timeout = 2000');
database.exec('PRAGMA synchronous = NORMAL');

let statements: ReturnType<typeof prepare> | undefined;
function prepare() {
  return {
    mark: database.query<{ indexed_through: number }, []>('SELECT indexed_through FROM question_search_state WHERE id = 1'),
    maxId: database.query<{ id: number | null }, []>('SELECT max(id) AS id FROM questions'),
    running: database.query<{ one: number }, []>("SELECT 1 AS one FROM dedup_tasks WHERE status = 'running' LIMIT 1"),
    upTo: database.query<{ id: number | null }, [number, number]>('SELECT max(id) AS id FROM (SELECT id FROM questions WHERE id > ? ORDER BY id LIMIT ?)'),
    index: database.query<unknown, [number, number]>('INSERT INTO questions_fts (rowid, content) SELECT id, content FROM questions WHERE id > ? AND id <= ? ORDER BY id'),
    setMark: database.query<unknown, [number]>('UPDATE question_search_state SET indexed_through = ? WHERE id = 1'),
  };
}

let lastMaxId = -1;
let lastWrites = Atomics.load(mainWrites, 0);
/** The main connection wrote since the last look. */
function mainWrote(): boolean {
  const writes = Atomics.load(mainWrites, 0);
  const wrote = writes !== lastWrites;
  lastWrites = writes;
  return wrote;
}
let rows = 32;
let stopping = false;

/** One transaction: the next `rows` unindexed questions. Returns false when nothing is left. */
function step(s: NonNullable<typeof statements>): boolean {
  const began = performance.now();
  database.exec('BEGIN IMMEDIATE');
  try {
    const from = s.mark.get()!.indexed_through;
    const upTo = s.upTo.get(from, rows)?.id ?? null;
    if (upTo === null) {
      database.exec('COMMIT');
      return false;
    }
    s.index.run(from, upTo);
    s.setMark.run(upTo);
    database.exec('COMMIT');
  } catch (error) {
    database.exec('ROLLBACK');
    throw error;
  }
  const took = performance.now() - began;
  rows = Math.max(MIN_ROWS, Math.min(MAX_ROWS, Math.round((rows * STEP_TARGET_MS) / Math.max(took, 0.5))));
  return true;
}

function run() {
  if (stopping) return;
  let delay = intervalMs;
  try {
    statements ??= prepare();
    const s = statements;
    const maxId = s.maxId.get()?.id ?? 0;
    const wrote = mainWrote();
    const quiet = maxId === lastMaxId && !wrote;
    lastMaxId = maxId;
    if (quiet && maxId > s.mark.get()!.indexed_through && !s.running.get()) {
      // A few steps per round, then a fresh look: an import or a task that began meanwhile comes first;
      // a write on the main connection ends the round at once (it may be waiting for the lock now).
      const until = performance.now() + 200;
      let more = true;
      let cut = false;
      while (more && performance.now() < until && !(cut = mainWrote())) more = step(s);
      // Cut short by a write: back after a whole interval (the next look also wants it quiet).
      if (more && !cut) delay = 0;
    }
  } catch {
    // Not migrated yet, busy, or closing: look again next round.
    statements = undefined;
  }
  setTimeout(run, delay);
}

setTimeout(run, intervalMs);
parentPort!.once('message', () => {
  stopping = true;
  if (statements) for (const statement of Object.values(statements)) statement.finalize();
  database.close();
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
  parentPort!.close();
});
