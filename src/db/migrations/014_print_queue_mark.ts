import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * SQLite: an import no longer puts its new rows on the print backlog (issue 15, short rows).
 * Writing them there cost ~2.8 µs a row of main-thread CPU plus a third of each commit's pages
 * (the backlog's 2,000 group-keyed insertion points), ~15 % of a short row's import. Instead,
 * `question_print_queue.queued_through` marks how far the backlog is complete: every question
 * with an id up to it that lacks a valid print is on the backlog (the UPDATE and DELETE triggers
 * keep that so); the ones above it are new rows nobody has looked at yet. The background
 * backfill prints those by id range and moves the mark; a check's catch-up reads its group's
 * rows above the mark through the group index (src/dedup/print-queue.ts).
 *
 * SQLite gives ids in commit order (AUTOINCREMENT, one writer), so a mark is enough to tell
 * new rows apart. PostgreSQL commits sequence values out of order (a slow transaction's lower
 * id appears after a higher one), so there its statement-level INSERT trigger keeps putting every
 * new row on the backlog, and the mark stands at the largest safe integer: no row is ever above it.
 */
export const NOTHING_ABOVE_THE_MARK = Number.MAX_SAFE_INTEGER;

export function printQueueMarkMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('question_print_queue')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('queued_through', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
        .execute();
      // Until now every new row went on the backlog: it is complete up to the newest id.
      const mark = dialect === 'postgres' ? sql`${NOTHING_ABOVE_THE_MARK}` : sql`coalesce((SELECT max(id) FROM questions), 0)`;
      await sql`INSERT INTO question_print_queue (id, queued_through) VALUES (1, ${mark})`.execute(db);
    },
  };
}
