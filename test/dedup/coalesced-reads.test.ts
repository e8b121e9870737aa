import { describe, expect, it } from 'bun:test';
import { CoalescedReads } from '../../src/dedup/coalesced-reads.ts';

/** A store read in statements that finish when the test says: each statement's keys are recorded. */
function gatedStore(values: Map<number, string>) {
  const statements: number[][] = [];
  const gates: (() => void)[] = [];
  let failNext = false;
  const readMany = async (keys: number[]) => {
    statements.push(keys);
    // The values as they are when the statement runs, not when it returns.
    const found = new Map(keys.flatMap((key) => (values.has(key) ? [[key, values.get(key)!] as const] : [])));
    const fail = failNext;
    failNext = false;
    await new Promise<void>((resolve) => gates.push(resolve));
    if (fail) throw new Error('the statement failed');
    return found;
  };
  return {
    statements,
    readMany,
    failNextStatement: () => (failNext = true),
    /** Lets the oldest statement still running return. */
    finishOne: async () => {
      gates.shift()!();
      for (let k = 0; k < 5; k++) await Promise.resolve();
    },
    get running() {
      return gates.length;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescedReads', () => {
  it('sends a caller at once while statements are free, and each caller gets its own keys that exist', async () => {
    const store = gatedStore(new Map([[1, 'a'], [2, 'b'], [3, 'c']]));
    const reads = new CoalescedReads(store.readMany, 2, 100);
    const first = reads.read([1, 9]);
    const second = reads.read([2]);
    expect(store.statements).toEqual([[1, 9], [2]]);
    await store.finishOne();
    await store.finishOne();
    expect(await first).toEqual(new Map([[1, 'a']]));
    expect(await second).toEqual(new Map([[2, 'b']]));
  });

  it('gathers the callers that come while every statement runs into one statement, sent as soon as one returns', async () => {
    const store = gatedStore(new Map([[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd'], [5, 'e']]));
    const reads = new CoalescedReads(store.readMany, 2, 100);
    const early = [reads.read([1]), reads.read([2])];
    const waiting = [reads.read([3, 4]), reads.read([4]), reads.read([5, 6])];
    expect(store.statements).toEqual([[1], [2]]);
    await store.finishOne();
    // One statement for the three waiting callers, each key once.
    expect(store.statements).toEqual([[1], [2], [3, 4, 5, 6]]);
    while (store.running > 0) await store.finishOne();
    expect(await Promise.all(early)).toEqual([new Map([[1, 'a']]), new Map([[2, 'b']])]);
    expect(await Promise.all(waiting)).toEqual([new Map([[3, 'c'], [4, 'd']]), new Map([[4, 'd']]), new Map([[5, 'e']])]);
  });

  it('never answers a caller from a statement that started before it asked', async () => {
    const values = new Map([[1, 'old']]);
    const store = gatedStore(values);
    const reads = new CoalescedReads(store.readMany, 1, 100);
    const before = reads.read([1]);
    values.set(1, 'new');
    const after = reads.read([1]);
    while (store.running > 0 || store.statements.length < 2) await store.finishOne();
    expect(await before).toEqual(new Map([[1, 'old']]));
    expect(await after).toEqual(new Map([[1, 'new']]));
  });

  it('reads more keys than a statement takes in several statements, in turn', async () => {
    const store = gatedStore(new Map(Array.from({ length: 7 }, (_, k) => [k, `v${k}`])));
    const reads = new CoalescedReads(store.readMany, 2, 3);
    const all = reads.read([0, 1, 2, 3, 4, 5, 6]);
    for (let statement = 1; statement <= 3; statement++) {
      // One at a time: the next part goes after the last one returned and the event loop turned.
      expect(store.statements).toHaveLength(statement);
      await store.finishOne();
      await settle();
    }
    expect(store.statements).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect((await all).size).toBe(7);
  });

  it('rejects the callers of a statement that failed, and serves the next ones', async () => {
    const store = gatedStore(new Map([[1, 'a']]));
    const reads = new CoalescedReads(store.readMany, 1, 100);
    store.failNextStatement();
    const failed = reads.read([1]);
    const sharesNothing = reads.read([1]);
    // Caught now: bun's `expect(…).rejects` waits for the promise where it is called.
    const failure = failed.catch((error: Error) => error.message);
    await store.finishOne();
    expect(await failure).toBe('the statement failed');
    await store.finishOne();
    expect(await sharesNothing).toEqual(new Map([[1, 'a']]));
    expect(await reads.read([])).toEqual(new Map());
  });
});
