import { describe, expect, it } from 'bun:test';
import { sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.ts';
import { createTestDatabase, testDatabaseServer } from '../support/database.ts';

/**
 * A burst of checks used to open the pool's connections as it went: each new PostgreSQL backend
 * cost ~20–30 ms to connect and ~10 ms more for its first queries, all inside the burst.
 */
describe.skipIf(!testDatabaseServer())('PostgreSQL pool', () => {
  it('opens every connection at start, and answers a burst on them without opening more', async () => {
    const database = await createTestDatabase('pool');
    const { db } = await connectDatabase(database.url, { maxConnections: 4 });
    try {
      const backends = async () =>
        (
          await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'question-dedup' ORDER BY pid`.execute(db)
        ).rows.map((row) => row.pid);
      const atStart = await backends();
      expect(atStart).toHaveLength(4);
      await Promise.all(Array.from({ length: 40 }, () => sql`SELECT pg_sleep(0.01)`.execute(db)));
      expect(await backends()).toEqual(atStart);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
