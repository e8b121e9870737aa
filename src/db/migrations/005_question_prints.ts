import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * Prints move out of the questions row into a narrow table of their own. Writing a print into
 * `questions.fingerprint` rewrote the whole ~1 KB row (≈ 27 µs a row on the main thread, 1M
 * rows per first task); a 64-byte row in `question_prints` costs a fraction of that.
 *
 * A print is valid for its question while `question_prints.row_hash` equals the question's
 * `row_hash`: an import that changes the row makes its print stale without touching it, and a
 * print computed from an older version of the row can never be mistaken for a current one.
 *
 * `question_backlog` lists the questions without a valid print, by group: triggers add every
 * new or changed question and remove it once a print for its current version is stored, so the
 * check's catch-up and the background backfill find them without scanning a group (the partial
 * index on `fingerprint IS NULL` did that before). Triggers, not application code: every write
 * path keeps the list right, and SQLite runs them without a round trip per row.
 */
export function questionPrintsMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      const blob = dialect === 'postgres' ? 'bytea' : 'blob';
      // The type of questions.id (bigserial on PostgreSQL).
      const questionId = dialect === 'postgres' ? 'bigint' : 'integer';
      await db.schema
        .createTable('question_prints')
        // No foreign key: a print stored just after its question was deleted must not fail the
        // whole batch; a leftover row is harmless (a question id it might match again would also
        // need the same row_hash, i.e. the very same fields).
        .addColumn('question_id', questionId, (c) => c.primaryKey())
        .addColumn('row_hash', 'text', (c) => c.notNull())
        .addColumn('print', blob, (c) => c.notNull())
        .execute();
      await sql`INSERT INTO question_prints (question_id, row_hash, print)
        SELECT id, row_hash, fingerprint FROM questions WHERE fingerprint IS NOT NULL`.execute(db);
      await db.schema
        .createTable('question_backlog')
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('subject_name', 'text', (c) => c.notNull())
        .addColumn('channel_code', 'text', (c) => c.notNull())
        .addColumn('question_id', questionId, (c) => c.notNull())
        .addPrimaryKeyConstraint('question_backlog_pk', ['type_name', 'subject_name', 'channel_code', 'question_id'])
        .$call((table) => (dialect === 'sqlite' ? table.modifyEnd(sql`WITHOUT ROWID`) : table))
        .execute();
      await sql`INSERT INTO question_backlog (type_name, subject_name, channel_code, question_id)
        SELECT type_name, subject_name, channel_code, id FROM questions WHERE fingerprint IS NULL`.execute(db);
      await db.schema.dropIndex('questions_unprinted').execute();
      await db.schema.alterTable('questions').dropColumn('fingerprint').execute();
      for (const statement of dialect === 'postgres' ? postgresTriggers : sqliteTriggers) await sql.raw(statement).execute(db);
    },
  };
}

const sqliteTriggers = [
  `CREATE TRIGGER questions_backlog_insert AFTER INSERT ON questions BEGIN
     INSERT INTO question_backlog (type_name, subject_name, channel_code, question_id)
     VALUES (new.type_name, new.subject_name, new.channel_code, new.id);
   END`,
  // An import that changes a row changes its row_hash, and with it the validity of its print.
  `CREATE TRIGGER questions_backlog_update AFTER UPDATE ON questions WHEN old.row_hash IS NOT new.row_hash BEGIN
     DELETE FROM question_backlog WHERE type_name = old.type_name AND subject_name = old.subject_name
       AND channel_code = old.channel_code AND question_id = old.id;
     INSERT INTO question_backlog (type_name, subject_name, channel_code, question_id)
     VALUES (new.type_name, new.subject_name, new.channel_code, new.id);
   END`,
  `CREATE TRIGGER questions_backlog_delete AFTER DELETE ON questions BEGIN
     DELETE FROM question_backlog WHERE type_name = old.type_name AND subject_name = old.subject_name
       AND channel_code = old.channel_code AND question_id = old.id;
     DELETE FROM question_prints WHERE question_id = old.id;
   END`,
  ...['INSERT', 'UPDATE'].map(
    (event) => `CREATE TRIGGER question_prints_backlog_${event.toLowerCase()} AFTER ${event} ON question_prints BEGIN
     DELETE FROM question_backlog WHERE question_id = new.question_id
       AND (type_name, subject_name, channel_code) =
         (SELECT type_name, subject_name, channel_code FROM questions WHERE id = new.question_id AND row_hash = new.row_hash);
   END`,
  ),
];

const postgresTriggers = [
  `CREATE FUNCTION question_backlog_add_new() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO question_backlog (type_name, subject_name, channel_code, question_id)
     SELECT type_name, subject_name, channel_code, id FROM new_questions;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER questions_backlog_insert AFTER INSERT ON questions
     REFERENCING NEW TABLE AS new_questions FOR EACH STATEMENT EXECUTE FUNCTION question_backlog_add_new()`,
  `CREATE FUNCTION question_backlog_requeue() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     DELETE FROM question_backlog WHERE type_name = OLD.type_name AND subject_name = OLD.subject_name
       AND channel_code = OLD.channel_code AND question_id = OLD.id;
     INSERT INTO question_backlog (type_name, subject_name, channel_code, question_id)
     VALUES (NEW.type_name, NEW.subject_name, NEW.channel_code, NEW.id) ON CONFLICT DO NOTHING;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER questions_backlog_update AFTER UPDATE ON questions FOR EACH ROW
     WHEN (OLD.row_hash IS DISTINCT FROM NEW.row_hash) EXECUTE FUNCTION question_backlog_requeue()`,
  `CREATE FUNCTION question_backlog_forget() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     DELETE FROM question_backlog WHERE type_name = OLD.type_name AND subject_name = OLD.subject_name
       AND channel_code = OLD.channel_code AND question_id = OLD.id;
     DELETE FROM question_prints WHERE question_id = OLD.id;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER questions_backlog_delete AFTER DELETE ON questions FOR EACH ROW EXECUTE FUNCTION question_backlog_forget()`,
  `CREATE FUNCTION question_backlog_printed() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     DELETE FROM question_backlog b USING questions q
       WHERE q.id = NEW.question_id AND q.row_hash = NEW.row_hash AND b.question_id = q.id
         AND b.type_name = q.type_name AND b.subject_name = q.subject_name AND b.channel_code = q.channel_code;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER question_prints_backlog AFTER INSERT OR UPDATE ON question_prints FOR EACH ROW EXECUTE FUNCTION question_backlog_printed()`,
];
