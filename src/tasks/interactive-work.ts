/**
 * Work someone is waiting on (a `POST /api/dedup/check`), counted while it runs, so a task's
 * own main-thread steps (reading a group, saving its clusters) can wait for it to finish: both
 * need the one main thread, and a person waits on the check while nobody waits on a group
 * finishing 50 ms later. The wait is bounded, so a steady stream of checks slows a task but
 * never stops it.
 */
export class InteractiveWork {
  private running = 0;
  private waiters: (() => void)[] = [];

  /** Runs `work`, counted as interactive until it settles. */
  async during<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      if (this.running === 0) this.wakeAll();
    }
  }

  /** Resolves once no interactive work runs, or after `maxWaitMs` at the latest. */
  quiet(maxWaitMs: number): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      this.waiters.push(done);
    });
  }

  private wakeAll() {
    for (const waiter of [...this.waiters]) waiter();
  }
}
