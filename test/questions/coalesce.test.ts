import { describe, expect, test } from 'bun:test';
import { coalesce } from '../../src/questions/coalesce.ts';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('coalesce', () => {
  test('joins small chunks up to the size, passes large ones through, hands on the rest at the end', async () => {
    async function* source() {
      yield bytes(10);
      yield bytes(10);
      yield bytes(100);
      yield bytes(5);
    }
    const sizes: number[] = [];
    for await (const piece of coalesce(source(), 50)) sizes.push(piece.byteLength);
    expect(sizes).toEqual([120, 5]);
  });

  test('bytes received before a pause are handed on without waiting for more (a pause mid-body)', async () => {
    let released!: () => void;
    const resumed = new Promise<void>((resolve) => (released = resolve));
    async function* source() {
      yield bytes(10);
      // The client sends nothing more until the first bytes have been handed on.
      await resumed;
      yield bytes(10, 2);
    }
    const pieces: number[][] = [];
    for await (const piece of coalesce(source(), 1000, 20)) {
      pieces.push([...piece.subarray(0, 1)].concat(piece.byteLength));
      released();
    }
    expect(pieces).toEqual([[1, 10], [2, 10]]);
  });
});
