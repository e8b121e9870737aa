/**
 * The exact stage: rows with identical normalized text (equal 64-bit hash) are one set.
 * An open-addressing table of row indices over the two hash words: a million rows in a few tens
 * of ms, where a Map keyed by a float built from them took over 150 (a re-run pays it in full).
 */
import { F_EXACT_A, F_EXACT_B, FP_WORDS } from './print.ts';
import type { UnionFind } from './union-find.ts';

/**
 * Joins every row to the first row with its exact hash; returns rep (rep[i]: that first row, i
 * itself for a first) and the list of firsts, ascending.
 */
export function exactStage(prints: Uint32Array, n: number, uf: UnionFind): { rep: Int32Array; reps: number[] } {
  let size = 16;
  while (size < 2 * n) size *= 2;
  const mask = size - 1;
  // Row + 1 of the first row in the slot; 0 for an empty slot.
  const table = new Int32Array(size);
  const rep = new Int32Array(n);
  const reps: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = prints[i * FP_WORDS + F_EXACT_A]!;
    const b = prints[i * FP_WORDS + F_EXACT_B]!;
    let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    for (;;) {
      const first = table[slot]! - 1;
      if (first < 0) {
        table[slot] = i + 1;
        rep[i] = i;
        reps.push(i);
        break;
      }
      if (prints[first * FP_WORDS + F_EXACT_A] === a && prints[first * FP_WORDS + F_EXACT_B] === b) {
        uf.union(first, i);
        rep[i] = first;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { rep, reps };
}
