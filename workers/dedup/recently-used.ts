/**
 * The part of a budget left filled after an eviction. Dropping only the oldest entry each time
 * the budget is passed walked the Map from its start on every insert, over the deleted entries
 * JavaScriptCore leaves there until it rehashes: ~4 µs an insert at 12,000 entries, and it grows
 * with the map (a check inserts dozens). Dropping a tenth at once costs ~0.1 µs an insert.
 */
const KEPT_AFTER_EVICTION = 0.9;

/**
 * A map that keeps its most recently used entries within a budget: of entries, or of whatever
 * `weigh` counts (characters). Past the budget it drops the least recently used down to nine
 * tenths of it. An entry heavier than the whole budget is not kept.
 */
export class RecentlyUsed<K, V> {
  // Map keeps insertion order: the first key is the least recently used.
  private readonly entries = new Map<K, V>();
  private weight = 0;

  constructor(
    private readonly budget: number,
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The value held for `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.weigh(value);
    if (weight > this.budget) return;
    this.entries.set(key, value);
    this.weight += weight;
    if (this.weight > this.budget) this.evict();
  }

  delete(key: K): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.weight -= this.weigh(value);
  }

  private evict(): void {
    const kept = this.budget * KEPT_AFTER_EVICTION;
    for (const [key, value] of this.entries) {
      if (this.weight <= kept) break;
      this.entries.delete(key);
      this.weight -= this.weigh(value);
    }
  }
}
