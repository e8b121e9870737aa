import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { FINGERPRINT_WORDS } from '../../workers/protocol.ts';
import { nextTurn } from '../pace.ts';

const PRINT_BYTES = FINGERPRINT_WORDS * 4;
/** Rows per UPDATE: two bound parameters a row, far below SQLite's and PostgreSQL's limits. */
const STORE_CHUNK = 500;

/** Stored blobs into the worker's layout, one row per question; a missing or odd-sized blob stays zeros (recomputed). */
export function packPrints(blobs: (Uint8Array | null)[]): Uint32Array {
  const prints = new Uint32Array(blobs.length * FINGERPRINT_WORDS);
  const bytes = new Uint8Array(prints.buffer);
  blobs.forEach((blob, row) => {
    if (blob !== null && blob.byteLength === PRINT_BYTES) bytes.set(blob, row * PRINT_BYTES);
  });
  return prints;
}

/** Row `row` of `prints` as a blob of its own (a copy: the caller's buffer may be reused). */
export function printBlob(prints: Uint32Array, row: number): Buffer {
  return Buffer.from(new Uint8Array(prints.buffer, prints.byteOffset + row * PRINT_BYTES, PRINT_BYTES));
}

/** Writes the given rows' prints, a few hundred per statement (`CASE id WHEN … THEN …`). */
export async function storeFingerprints(db: Kysely<Database>, ids: ArrayLike<number>, prints: Uint32Array, rows: number[]): Promise<void> {
  for (let start = 0; start < rows.length; start += STORE_CHUNK) {
    // Rewriting a row costs ~10-25 µs on the main thread (the whole record, content included): a big group's prints would hold the event loop for 100+ ms at once.
    if (start > 0) await nextTurn();
    const chunk = rows.slice(start, start + STORE_CHUNK);
    const cases = chunk.map((row) => sql`when ${ids[row]!} then ${printBlob(prints, row)}`);
    await db
      .updateTable('questions')
      // `else fingerprint` never applies (the WHERE names every row) but gives the CASE the column's
      // type: without it PostgreSQL types the untyped parameters as text, which a bytea column refuses.
      .set({ fingerprint: sql<Uint8Array>`case id ${sql.join(cases, sql` `)} else fingerprint end` })
      .where('id', 'in', chunk.map((row) => ids[row]!))
      .execute();
  }
}
