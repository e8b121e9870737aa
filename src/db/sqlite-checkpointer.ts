/**
 * Worker-thread entry: checkpoints a SQLite WAL file from its own connection, so the copy of
 * committed pages into the database file (and its fsync) happens here instead of inside
 * whichever commit on the main thread crosses `wal_autocheckpoint` (30-80 ms each during a
 * bulk import, every few thousand rows). PASSIVE never blocks the main connection's readers
 * or writer. Stops, checkpointing one last time and closing its connection, on any message.
 */
import { Database } from 'bun:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointerData {
  path: string;
  intervalMs: number;
  /** Set to 1 (and notified) once this thread's connection is closed. */
  closed: Int32Array;
}

const { path, intervalMs, closed } = workerData as CheckpointerData;
const database = new Database(path);
database.exec('PRAGMA busy_timeout = 1000');
database.exec('PRAGMA synchronous = NORMAL');
const checkpoint = database.query('PRAGMA wal_checkpoint(PASSIVE)');

function run() {
  try {
    checkpoint.get();
  } catch {
    // Busy or closing: the next round (or the main connection's fallback autocheckpoint) catches up.
  }
}

const timer = setInterval(run, intervalMs);
parentPort!.once('message', () => {
  clearInterval(timer);
  run();
  checkpoint.finalize();
  database.close();
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
  parentPort!.close();
});
