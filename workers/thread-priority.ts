import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

/**
 * Lowers the calling worker thread's scheduling priority (Linux `nice`, per thread), so that
 * when cores are short the main thread (HTTP, Socket.IO, SQLite writes) runs first and REST
 * stays fast while groups compute. A startup syscall, not I/O. Does nothing on the main
 * thread, off Linux, or without permission; returns whether it took effect.
 */
export function lowerThreadPriority(nice = 10): boolean {
  if (isMainThread) return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0 || tid === process.pid) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
