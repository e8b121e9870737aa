/**
 * bun:sqlite answers synchronously: without pacing, an async flow of many statements runs to its
 * end before any other callback (a request, a socket event, a timer) gets the event loop.
 * SqlitePacing (installed by connectDatabase on every SQLite connection) lets it turn between
 * statements once a stretch has used its budget.
 */
import { describe, expect, test } from 'bun:test';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.ts';
import { openSqlite } from '../../src/db/sqlite.ts';
import { SqlitePacing } from '../../src/db/sqlite-pacing.ts';

/** Runs statements of real work back to back until `budgetMs` has passed; true when a callback scheduled before them ran meanwhile. */
async function turnedDuring(db: Kysely<any>, budgetMs: number): Promise<boolean> {
  let turned = false;
  setImmediate(() => {
    turned = true;
  });
  const began = performance.now();
  let statements = 0;
  while (performance.now() - began < budgetMs || statements < 10) {
    await sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT count(*) AS c FROM n`.execute(db);
    statements++;
  }
  return turned;
}

describe('SQLite pacing', () => {
  test('a long run of statements lets the event loop turn (and without the pacing it would not)', async () => {
    const plain = new Kysely<any>({ dialect: new SqliteDialect({ database: openSqlite(':memory:') }) });
    const paced = new Kysely<any>({ dialect: new SqliteDialect({ database: openSqlite(':memory:') }), plugins: [new SqlitePacing(5)] });
    try {
      expect(await turnedDuring(plain, 60)).toBe(false);
      expect(await turnedDuring(paced, 60)).toBe(true);
    } finally {
      await plain.destroy();
      await paced.destroy();
    }
  });

  test('the service connects SQLite with pacing, and a transaction paced mid-way still commits whole', async () => {
    const { db } = await connectDatabase('sqlite::memory:');
    try {
      expect(await turnedDuring(db, 60)).toBe(true);
      await sql`CREATE TABLE t (i INTEGER)`.execute(db);
      let turns = 0;
      const ticker = setInterval(() => turns++, 0);
      await db.transaction().execute(async (trx) => {
        const began = performance.now();
        for (let i = 0; performance.now() - began < 60 || i < 10; i++) {
          await sql`INSERT INTO t (i) SELECT value FROM json_each(${JSON.stringify(Array.from({ length: 2000 }, (_, k) => k))})`.execute(trx);
        }
      });
      clearInterval(ticker);
      const { c } = (await sql<{ c: number }>`SELECT count(*) AS c FROM t`.execute(db)).rows[0]!;
      expect(c % 2000).toBe(0);
      expect(c).toBeGreaterThan(0);
      expect(turns).toBeGreaterThan(0);
    } finally {
      await db.destroy();
    }
  });
});
