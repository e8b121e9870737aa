import { describe, expect, it } from 'bun:test';
import { IdRows } from '../../workers/dedup/id-rows.ts';

describe('IdRows', () => {
  it('answers like a Map, for dense ids, far ones, and far ones the array later covers', () => {
    const rows = new IdRows();
    const expected = new Map<number, number>();
    const put = (id: number, row: number) => {
      rows.set(id, row);
      expected.set(id, row);
    };
    // Far past the count: kept aside until enough ids come for the array to reach them.
    put(50_000, 1);
    put(2 ** 40, 2);
    put(-3, 3);
    put(0.5, 4);
    for (let id = 1; id <= 20_000; id++) put(id, 10 + id);
    put(7, 99);
    // Grows the array past 50,000, which then moves out of the Map.
    put(40_000, 5);
    for (let id = 100; id < 200; id++) {
      rows.delete(id);
      expected.delete(id);
    }
    rows.delete(123_456);
    for (const id of [0, 7, 150, 20_000, 20_001, 50_000, 2 ** 40, -3, 0.5, 123_456]) expect(rows.get(id)).toBe(expected.get(id));
    for (const [id, row] of expected) expect(rows.get(id)).toBe(row);
    expect(rows.size).toBe(expected.size);
  });
});
