import { describe, expect, it } from 'bun:test';
import { StoredTextCache } from '../../src/dedup/text-cache.ts';

const text = (content: string, version = 'v1') => ({ content, options: null, version });

describe('StoredTextCache', () => {
  it('answers a text only for the version it was read at', () => {
    const cache = new StoredTextCache(1000);
    cache.put(1, text('甲乙丙'));
    expect(cache.take(1, 'v1')?.content).toBe('甲乙丙');
    expect(cache.take(1, 'v2')).toBeUndefined();
    expect(cache.take(2, 'v1')).toBeUndefined();
    cache.put(1, text('丁', 'v2'));
    expect(cache.take(1, 'v1')).toBeUndefined();
    expect(cache.take(1, 'v2')?.content).toBe('丁');
    cache.drop(1);
    expect(cache.has(1)).toBe(false);
  });

  it('keeps within its budget of characters, dropping the least recently used first', () => {
    // Each entry: 8 characters of text and 2 of version; ten fill the budget.
    const cache = new StoredTextCache(100);
    for (let id = 1; id <= 10; id++) cache.put(id, text('12345678'));
    expect(cache.size).toBe(10);
    cache.take(1, 'v1');
    cache.put(11, text('12345678'));
    // Past the budget it drops down to nine tenths of it, the least recently used first: 2 and 3,
    // not 1, taken since.
    expect([1, 2, 3, 4, 11].map((id) => cache.has(id))).toEqual([true, false, false, true, true]);
    expect(cache.size).toBe(9);
    // A text over the whole budget is not kept, and pushes nothing out.
    cache.put(12, text('x'.repeat(100)));
    expect(cache.has(12)).toBe(false);
    expect(cache.size).toBe(9);
    // Replacing a held text counts its new size, not both: 90 - 10 + 5 + 10 fits in 100.
    cache.put(4, text('123'));
    cache.put(13, text('12345678'));
    expect(cache.size).toBe(10);
  });
});
