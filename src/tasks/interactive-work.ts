/**
 * How long after the last check background work still waits. Under a storm of checks the gap
 * between two is a few ms; a task's page read or a search-index batch let in there ran beside
 * the next checks anyway (the stall bench's rounds on PostgreSQL, docs/no-stall.md).
 */
const SETTLE_MS = 20;

/**
 * Work someone is waiting on (a `POST /api/dedup/check`), counted while it runs, so background
 * work (a task's main-thread steps: reading a group, saving its clusters; the PostgreSQL search
 * indexer's batches) can wait for it to finish: it needs the same main thread and database
 * server, and a person waits on the check while nobody waits on a group finishing 50 ms later.
 * The wait is bounded, so a steady stream of checks slows background work but never stops it.
 */
export class InteractiveWork {
  private running = 0;
  /** When the last interactive work settled (performance.now()). */
  private settledAt = Number.NEGATIVE_INFINITY;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly settleMs = SETTLE_MS) {}

  /** Runs `work`, counted as interactive until it settles. */
  async during<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      if (this.running === 0) {
        this.settledAt = performance.now();
        for (const wake of [...this.waiters]) wake();
      }
    }
  }

  /** Resolves once no interactive work has run for the settle period, or after `maxWaitMs` at the latest. */
  async quiet(maxWaitMs: number): Promise<void> {
    const deadline = performance.now() + maxWaitMs;
    for (;;) {
      const now = performance.now();
      if (now >= deadline) return;
      const idleFor = now - this.settledAt;
      if (this.running === 0 && idleFor >= this.settleMs) return;
      // Work in flight: until it settles. Settled: until the settle period is over, then look again.
      await this.wakeOrSleep(this.running > 0 ? deadline - now : Math.min(deadline - now, this.settleMs - idleFor));
    }
  }

  /** Resolves when the interactive work in flight settles, or after `ms`. */
  private wakeOrSleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
