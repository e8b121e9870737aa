/**
 * Worker-thread entry: checkpoints a SQLite WAL file from its own connection, so the copy of
 * committed pages into the database file (and its fsync) happens here instead of inside
 * whichever commit on the main thread crosses `wal_autocheckpoint` (30-80 ms each during a
 * bulk import, every few thousand rows). PASSIVE never blocks the main connection's readers
 * or writer. Runs every `intervalMs`, or at once when woken (WalCheckpointer in sqlite.ts),
 * and publishes what each run found, so the main connection knows when the WAL has been
 * copied back whole. Stops, checkpointing one last time and closing its connection, when the
 * stop cell is set.
 */
import { Database } from 'bun:sqlite';
import { workerData } from 'node:worker_threads';
import { CHECKPOINTER, type CheckpointerData } from './sqlite-checkpointer-state.ts';

const { path, intervalMs, closed, state } = workerData as CheckpointerData;
const database = new Database(path);
database.exec('PRAGMA busy_timeout = 1000');
database.exec('PRAGMA synchronous = NORMAL');
const checkpoint = database.query<{ busy: number; log: number; checkpointed: number }, []>('PRAGMA wal_checkpoint(PASSIVE)');

function run() {
  Atomics.add(state, CHECKPOINTER.started, 1);
  try {
    const result = checkpoint.get();
    if (result) {
      Atomics.store(state, CHECKPOINTER.log, result.log);
      Atomics.store(state, CHECKPOINTER.checkpointed, result.checkpointed);
    }
  } catch {
    // Busy or closing: the next round (or the main connection's fallback autocheckpoint) catches up.
  }
  Atomics.add(state, CHECKPOINTER.runs, 1);
}

// This thread does nothing else: it sleeps here between runs rather than on timers, so a wake is taken at once.
let woken = Atomics.load(state, CHECKPOINTER.wake);
while (Atomics.load(state, CHECKPOINTER.stop) === 0) {
  Atomics.wait(state, CHECKPOINTER.wake, woken, intervalMs);
  woken = Atomics.load(state, CHECKPOINTER.wake);
  run();
}
checkpoint.finalize();
database.close();
Atomics.store(closed, 0, 1);
Atomics.notify(closed, 0);
