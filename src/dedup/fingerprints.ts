import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { FINGERPRINT_WORDS, LEGACY_FINGERPRINT_WORDS } from '../../workers/protocol.ts';
import { nextTurn } from '../pace.ts';

const PRINT_BYTES = FINGERPRINT_WORDS * 4;
const LEGACY_PRINT_BYTES = LEGACY_FINGERPRINT_WORDS * 4;
/** Rows per INSERT: three bound parameters a row, far below SQLite's and PostgreSQL's limits. */
const STORE_CHUNK = 1000;

/**
 * Stored blobs into the worker's layout, one row per question; a missing or odd-sized blob stays
 * zeros (recomputed). A print stored before the MinHash was added (`isLegacyPrint`) keeps its
 * words with a zero MinHash, which drops no candidate.
 */
export function packPrints(blobs: (Uint8Array | null)[]): Uint32Array {
  const prints = new Uint32Array(blobs.length * FINGERPRINT_WORDS);
  const bytes = new Uint8Array(prints.buffer);
  blobs.forEach((blob, row) => {
    if (blob !== null && (blob.byteLength === PRINT_BYTES || isLegacyPrint(blob))) bytes.set(blob, row * PRINT_BYTES);
  });
  return prints;
}

/** A 64-byte print, stored before the MinHash: still valid, to be printed again (BankIndex does, in the background). */
export function isLegacyPrint(blob: Uint8Array): boolean {
  return blob.byteLength === LEGACY_PRINT_BYTES;
}

/** Row `row` of `prints` as a blob of its own (a copy: the caller's buffer may be reused). */
export function printBlob(prints: Uint32Array, row: number): Buffer {
  return Buffer.from(new Uint8Array(prints.buffer, prints.byteOffset + row * PRINT_BYTES, PRINT_BYTES));
}

/** The version of a question a print was computed from. */
export interface PrintedRow {
  id: number;
  /** The question's row_hash when its text was read: the print is valid while the row still has it. */
  rowHash: string;
}

/**
 * Stores the given questions' prints (each at its `row` of `prints`), a thousand per statement,
 * replacing older ones. A row changed since it was read keeps its new row_hash, so the print
 * stored here is simply never valid.
 */
export async function storePrints(db: Kysely<Database>, rows: readonly (PrintedRow & { row: number })[], prints: Uint32Array): Promise<void> {
  for (let start = 0; start < rows.length; start += STORE_CHUNK) {
    // Each statement is synchronous SQLite work on the main thread: let requests and events in between.
    if (start > 0) await nextTurn();
    const chunk = rows.slice(start, start + STORE_CHUNK);
    await db
      .insertInto('question_prints')
      .values(chunk.map(({ id, rowHash, row }) => ({ question_id: id, row_hash: rowHash, print: printBlob(prints, row) })))
      .onConflict((oc) =>
        oc.column('question_id').doUpdateSet((eb) => ({ row_hash: eb.ref('excluded.row_hash'), print: eb.ref('excluded.print') })),
      )
      .execute();
  }
}

/**
 * Writes a 64-bit key of a question's version (its row_hash) to key[0], key[1]: what the check
 * index keeps with each print to tell whether it is still the print of the stored row.
 */
export function versionKey(rowHash: string, key: Uint32Array): void {
  // Two FNV-1a style hashes with different primes: a row_hash is a hash already, so mixing its characters will do.
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let k = 0; k < rowHash.length; k++) {
    const c = rowHash.charCodeAt(k);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  key[0] = a >>> 0;
  key[1] = b >>> 0;
}
