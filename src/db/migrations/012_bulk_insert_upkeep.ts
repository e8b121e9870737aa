import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * SQLite: an import batch keeps the print backlog and the group counts itself, set-based,
 * instead of two per-row INSERT triggers (issue 15, short rows). With ~80-character rows those
 * triggers were about a third of the main thread's time a row: each runs a sub-program per
 * row, and the count trigger an UPSERT per row on a 2,000-row table. The import now marks its
 * transaction in `question_bulk_insert` (a row only its own transaction ever sees: it is
 * inserted and deleted before the commit), the triggers skip the rows inserted while the mark
 * is there, and the import adds those rows to `question_backlog` and `question_group_counts`
 * with one statement each (question.repository.ts). Every other write path (tests, future
 * code, a hand-written INSERT) still goes through the triggers, so the backlog and the counts
 * stay right whoever writes. The triggers keep their meaning, so existing backlogs and counts
 * are already right and nothing is recomputed.
 *
 * PostgreSQL's triggers are statement-level already (migration 010, 005): unchanged.
 */
export function bulkInsertUpkeepMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      await sql`CREATE TABLE question_bulk_insert (id integer PRIMARY KEY CHECK (id = 1))`.execute(db);
      for (const statement of sqliteTriggers) await sql.raw(statement).execute(db);
    },
  };
}

const SKIP_WHILE_BULK = 'WHEN NOT EXISTS (SELECT 1 FROM question_bulk_insert)';

const sqliteTriggers = [
  'DROP TRIGGER questions_backlog_insert',
  `CREATE TRIGGER questions_backlog_insert AFTER INSERT ON questions ${SKIP_WHILE_BULK} BEGIN
     INSERT INTO question_backlog (type_name, subject_name, channel_code, question_id)
     VALUES (new.type_name, new.subject_name, new.channel_code, new.id);
   END`,
  'DROP TRIGGER questions_group_count_insert',
  `CREATE TRIGGER questions_group_count_insert AFTER INSERT ON questions ${SKIP_WHILE_BULK} BEGIN
     INSERT INTO question_group_counts (type_name, subject_name, channel_code, question_count)
     VALUES (new.type_name, new.subject_name, new.channel_code, 1)
     ON CONFLICT (type_name, subject_name, channel_code) DO UPDATE SET question_count = question_count + 1;
   END`,
];
