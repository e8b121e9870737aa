/**
 * Resolves on a later turn of the event loop (after pending I/O and timers), not in the same
 * microtask queue. SQLite calls through bun:sqlite are synchronous, so an `await` on them never
 * lets anything else run; long database work awaits this between steps to keep the service
 * answering requests and socket events.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
