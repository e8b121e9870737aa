import { describe, expect, it } from 'bun:test';
import { RecentlyUsed } from '../../workers/dedup/recently-used.ts';

describe('RecentlyUsed', () => {
  it('past its budget, drops the least recently used down to nine tenths of it, in one go', () => {
    const cache = new RecentlyUsed<number, number>(1000);
    for (let k = 0; k < 1000; k++) cache.set(k, k);
    // Used since: no longer among the oldest.
    expect(cache.get(0)).toBe(0);
    // One over: a hundred and one go at once, the least recently used (1 to 101, not 0).
    cache.set(1000, 1000);
    expect(cache.size).toBe(900);
    expect([0, 1, 101, 102].map((k) => cache.has(k))).toEqual([true, false, false, true]);
    // Then ninety-nine more sets before the next eviction.
    for (let k = 1001; k < 1100; k++) cache.set(k, k);
    expect(cache.size).toBe(999);
    expect(cache.has(102)).toBe(true);
  });
});
