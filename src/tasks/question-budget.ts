/**
 * How many questions this instance's groups may hold in memory at once, read ahead or
 * computing. A group's texts and working sets take memory in proportion to its questions, so
 * with a skewed bank (a few groups of 100,000+) letting every lane take the next big group
 * would put several of them in memory together; under a budget the big ones take turns while
 * small groups fill the threads beside them. A group larger than the whole budget still runs,
 * alone.
 */
export class QuestionBudget {
  private used = 0;
  private waiters: (() => void)[] = [];
  private claiming: Promise<unknown> = Promise.resolve();

  constructor(private readonly capacity: number) {}

  /** Questions still free; everything when nothing is held (so any group can run alone). */
  get room(): number {
    return this.used === 0 ? Number.POSITIVE_INFINITY : Math.max(0, this.capacity - this.used);
  }

  /**
   * Runs `claim` with the room left, one claim at a time (two lanes must not both see the same
   * room), and holds the size of what it returns.
   */
  claim<T>(claim: (room: number) => Promise<T | undefined>, sizeOf: (item: T) => number): Promise<T | undefined> {
    const next = this.claiming.then(async () => {
      const item = await claim(this.room);
      if (item !== undefined) this.used += sizeOf(item);
      return item;
    });
    this.claiming = next.catch(() => undefined);
    return next;
  }

  release(size: number): void {
    this.used -= size;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next release (or at once when nothing is held), or when `signal` aborts. */
  nextRelease(signal: AbortSignal): Promise<void> {
    if (this.used === 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
