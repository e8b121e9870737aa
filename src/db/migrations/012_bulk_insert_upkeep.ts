import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * SQLite: new questions go on the print backlog and into the group counts set-based, once per
 * import batch, instead of through two per-row INSERT triggers (issue 15, short rows). With
 * ~80-character rows those triggers were about a third of the main thread's time a row: each
 * runs a sub-program per row, the count trigger an UPSERT per row on a 2,000-row table, the
 * backlog trigger a B-tree insert in id order (a seek and often a page split per row).
 * `insertNewRows` (question.repository.ts), the one path that inserts questions, adds the
 * batch's rows to both in the same transaction, the backlog in its key order. A flag the
 * triggers could test instead (WHEN NOT EXISTS …) still costs each row two sub-program calls,
 * as much again as the set-based statements.
 *
 * The UPDATE and DELETE triggers stay: they keep a moved, changed or deleted row right on every
 * path. Nothing stored changes meaning, so existing backlogs and counts are already right and
 * nothing is recomputed. PostgreSQL's INSERT triggers are statement-level already (migrations
 * 005 and 010): unchanged.
 */
export function bulkInsertUpkeepMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      await sql`DROP TRIGGER questions_backlog_insert`.execute(db);
      await sql`DROP TRIGGER questions_group_count_insert`.execute(db);
    },
  };
}
