import { afterEach, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.ts';

/**
 * SQLite starts a WAL over only when a write transaction begins with every frame copied back
 * into the database. Back-to-back transactions (an import's batches) never began in such a
 * moment: the WAL grew until a commit on the main thread had to checkpoint it (issue 15). With
 * a long WAL, the next transaction now waits, without blocking the event loop, for the
 * background checkpointer to copy it back, and starts it over.
 */
let handle: DatabaseHandle | undefined;
let dir: string | undefined;
afterEach(async () => {
  await handle?.db.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
  handle = dir = undefined;
});

it('back-to-back write transactions start the WAL over instead of growing it', async () => {
  dir = mkdtempSync(join(tmpdir(), 'wal-restart-'));
  const file = join(dir, 'bank.sqlite');
  handle = await connectDatabase(`sqlite:${file}`, { walRestartPages: 100 });
  const { db } = handle;
  await sql`CREATE TABLE pages (body BLOB)`.execute(db);
  let longest = 0;
  for (let transaction = 0; transaction < 20; transaction++) {
    // ~150 pages a transaction (a 3,000-byte row a page): 3,000 pages in all, far below the fallback autocheckpoint.
    await db.transaction().execute(async (trx) => {
      await sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150) INSERT INTO pages SELECT randomblob(3000) FROM n`.execute(trx);
    });
    // The file keeps its largest length: that is how long the WAL ever grew.
    longest = Math.max(longest, statSync(`${file}-wal`).size / 4096);
  }
  // Grown without restarts it would hold every transaction's pages: ~3,000.
  expect(longest).toBeLessThan(1000);
  const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM pages`.execute(db);
  expect(Number(rows.rows[0]!.n)).toBe(3000);
});
