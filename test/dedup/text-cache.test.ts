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
    // Each entry: 8 characters of text and 2 of version.
    const cache = new StoredTextCache(30);
    for (const id of [1, 2, 3]) cache.put(id, text('12345678'));
    expect(cache.size).toBe(3);
    cache.take(1, 'v1');
    cache.put(4, text('12345678'));
    // 2 was the least recently used: 1 was taken since.
    expect([1, 2, 3, 4].map((id) => cache.has(id))).toEqual([true, false, true, true]);
    // A text over the whole budget is not kept, and pushes nothing out.
    cache.put(5, text('x'.repeat(40)));
    expect([1, 3, 4, 5].map((id) => cache.has(id))).toEqual([true, true, true, false]);
    // Replacing a held text counts its new size, not both.
    cache.put(3, text('123'));
    cache.put(6, text('123'));
    expect([1, 3, 4, 6].map((id) => cache.has(id))).toEqual([true, true, true, true]);
  });
});
