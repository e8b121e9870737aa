import { nextTurn } from '../pace.ts';

interface Caller<K, V> {
  keys: readonly K[];
  resolve(found: Map<K, V>): void;
  reject(error: unknown): void;
}

/**
 * Point reads by key (texts by id, …) for many concurrent callers, in few statements. A caller's
 * keys go out at once while fewer than `maxInFlight` statements of this kind run; past that they
 * wait, and leave together with every other caller's that came meanwhile as soon as one returns.
 * A check alone reads as it did; 100 concurrent checks read in a handful of statements instead of
 * 100, each of which cost PostgreSQL a parse, a plan and a round trip and this thread a query's
 * overhead (~0.1–0.3 ms each side, docs/no-stall.md). On SQLite a read settles before the next
 * caller comes, so nothing waits there. A caller's statement is always sent after it asked: it
 * sees every row committed before.
 */
export class CoalescedReads<K, V> {
  private waiting: { keys: Set<K>; callers: Caller<K, V>[] } | undefined;
  private inFlight = 0;

  /**
   * readMany: one statement for at most `maxKeys` keys, answering the keys found.
   * More keys than that go as several statements, in turn, with the event loop turning in between.
   */
  constructor(
    private readonly readMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxInFlight: number,
    private readonly maxKeys: number,
  ) {}

  /** The values of those `keys` that exist. */
  read(keys: readonly K[]): Promise<Map<K, V>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      const batch = (this.waiting ??= { keys: new Set(), callers: [] });
      for (const key of keys) batch.keys.add(key);
      batch.callers.push({ keys, resolve, reject });
      this.sendWaiting();
    });
  }

  private sendWaiting() {
    while (this.waiting && this.inFlight < this.maxInFlight) {
      const { keys, callers } = this.waiting;
      this.waiting = undefined;
      this.inFlight++;
      this.readAll([...keys])
        .then(
          (found) => {
            for (const caller of callers) caller.resolve(pick(found, caller.keys));
          },
          (error) => {
            for (const caller of callers) caller.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.sendWaiting();
        });
    }
  }

  private async readAll(keys: K[]): Promise<Map<K, V>> {
    if (keys.length <= this.maxKeys) return this.readMany(keys);
    const found = new Map<K, V>();
    for (let from = 0; from < keys.length; from += this.maxKeys) {
      if (from > 0) await nextTurn();
      for (const [key, value] of await this.readMany(keys.slice(from, from + this.maxKeys))) found.set(key, value);
    }
    return found;
  }
}

function pick<K, V>(found: Map<K, V>, keys: readonly K[]): Map<K, V> {
  const mine = new Map<K, V>();
  for (const key of keys) {
    const value = found.get(key);
    if (value !== undefined) mine.set(key, value);
  }
  return mine;
}
