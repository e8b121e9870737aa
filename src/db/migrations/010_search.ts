import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * Reads that must not scan the bank (issue 15: no request holds the main thread > 50 ms).
 *
 * `question_group_counts`: each group's question count, kept by triggers on every write path,
 * so `GET /api/groups` and the `total` of an unsearched `GET /api/questions` read a few hundred
 * small rows instead of counting a million (154 ms of bun:sqlite's synchronous main thread).
 *
 * Text search (`q`): PostgreSQL gets a `pg_trgm` GIN index, which serves `ILIKE '%q%'` for
 * queries of 3 characters or more and is kept by the server. SQLite gets an FTS5 table with the
 * `trigram` tokenizer over `questions.content` (external content: it stores only the index).
 * Indexing a ~600-character question costs FTS5 ~130 µs, several times the whole import of the
 * row, so new rows are NOT indexed by an INSERT trigger: a background thread
 * (src/questions/search-indexer.ts) indexes rows above `question_search_state.indexed_through`
 * in small transactions, and searches read that tail with a bounded LIKE scan until it is
 * indexed. Updates and deletes of rows already indexed are kept in step by triggers (FTS5
 * external content needs the old text to remove a row, so this must happen in the same write).
 */
export function searchMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('question_group_counts')
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('subject_name', 'text', (c) => c.notNull())
        .addColumn('channel_code', 'text', (c) => c.notNull())
        .addColumn('question_count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('question_group_counts_pk', ['type_name', 'subject_name', 'channel_code'])
        .execute();
      await sql`INSERT INTO question_group_counts (type_name, subject_name, channel_code, question_count)
        SELECT type_name, subject_name, channel_code, count(*) FROM questions GROUP BY type_name, subject_name, channel_code`.execute(db);
      if (dialect === 'postgres') {
        await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
        await sql`CREATE INDEX questions_content_trgm ON questions USING gin (content gin_trgm_ops)`.execute(db);
        for (const statement of postgresCountTriggers) await sql.raw(statement).execute(db);
        return;
      }
      await sql`CREATE VIRTUAL TABLE questions_fts USING fts5(content, content='questions', content_rowid='id', tokenize='trigram')`.execute(db);
      await sql`CREATE TABLE question_search_state (id integer PRIMARY KEY CHECK (id = 1), indexed_through integer NOT NULL)`.execute(db);
      await sql`INSERT INTO question_search_state (id, indexed_through) VALUES (1, 0)`.execute(db);
      for (const statement of sqliteTriggers) await sql.raw(statement).execute(db);
    },
  };
}

const INDEXED = '(SELECT indexed_through FROM question_search_state WHERE id = 1)';

const sqliteTriggers = [
  `CREATE TRIGGER questions_group_count_insert AFTER INSERT ON questions BEGIN
     INSERT INTO question_group_counts (type_name, subject_name, channel_code, question_count)
     VALUES (new.type_name, new.subject_name, new.channel_code, 1)
     ON CONFLICT (type_name, subject_name, channel_code) DO UPDATE SET question_count = question_count + 1;
   END`,
  `CREATE TRIGGER questions_group_count_delete AFTER DELETE ON questions BEGIN
     UPDATE question_group_counts SET question_count = question_count - 1
       WHERE type_name = old.type_name AND subject_name = old.subject_name AND channel_code = old.channel_code;
     DELETE FROM question_group_counts WHERE type_name = old.type_name AND subject_name = old.subject_name
       AND channel_code = old.channel_code AND question_count <= 0;
   END`,
  // A re-import may move a question to another group (its type, subject or channel changed).
  `CREATE TRIGGER questions_group_count_move AFTER UPDATE OF type_name, subject_name, channel_code ON questions
   WHEN old.type_name IS NOT new.type_name OR old.subject_name IS NOT new.subject_name OR old.channel_code IS NOT new.channel_code BEGIN
     UPDATE question_group_counts SET question_count = question_count - 1
       WHERE type_name = old.type_name AND subject_name = old.subject_name AND channel_code = old.channel_code;
     DELETE FROM question_group_counts WHERE type_name = old.type_name AND subject_name = old.subject_name
       AND channel_code = old.channel_code AND question_count <= 0;
     INSERT INTO question_group_counts (type_name, subject_name, channel_code, question_count)
     VALUES (new.type_name, new.subject_name, new.channel_code, 1)
     ON CONFLICT (type_name, subject_name, channel_code) DO UPDATE SET question_count = question_count + 1;
   END`,
  `CREATE TRIGGER questions_fts_delete AFTER DELETE ON questions WHEN old.id <= ${INDEXED} BEGIN
     INSERT INTO questions_fts (questions_fts, rowid, content) VALUES ('delete', old.id, old.content);
   END`,
  `CREATE TRIGGER questions_fts_update AFTER UPDATE OF content ON questions WHEN old.id <= ${INDEXED} AND old.content IS NOT new.content BEGIN
     INSERT INTO questions_fts (questions_fts, rowid, content) VALUES ('delete', old.id, old.content);
     INSERT INTO questions_fts (rowid, content) VALUES (new.id, new.content);
   END`,
];

/** Statement-level on insert and delete: a 2,000-row import batch updates each of its groups once. */
const postgresCountTriggers = [
  `CREATE FUNCTION question_group_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO question_group_counts (type_name, subject_name, channel_code, question_count)
     SELECT type_name, subject_name, channel_code, count(*) FROM new_questions GROUP BY type_name, subject_name, channel_code
     -- In key order, so two imports touching the same groups lock their rows in the same order (no deadlock).
     ORDER BY type_name, subject_name, channel_code
     ON CONFLICT (type_name, subject_name, channel_code) DO UPDATE SET question_count = question_group_counts.question_count + excluded.question_count;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER questions_group_count_insert AFTER INSERT ON questions
     REFERENCING NEW TABLE AS new_questions FOR EACH STATEMENT EXECUTE FUNCTION question_group_counts_add()`,
  `CREATE FUNCTION question_group_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     UPDATE question_group_counts c SET question_count = c.question_count - o.n
       FROM (SELECT type_name, subject_name, channel_code, count(*) AS n FROM old_questions GROUP BY type_name, subject_name, channel_code) o
       WHERE c.type_name = o.type_name AND c.subject_name = o.subject_name AND c.channel_code = o.channel_code;
     DELETE FROM question_group_counts WHERE question_count <= 0;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER questions_group_count_delete AFTER DELETE ON questions
     REFERENCING OLD TABLE AS old_questions FOR EACH STATEMENT EXECUTE FUNCTION question_group_counts_remove()`,
  `CREATE FUNCTION question_group_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     UPDATE question_group_counts SET question_count = question_count - 1
       WHERE type_name = OLD.type_name AND subject_name = OLD.subject_name AND channel_code = OLD.channel_code;
     DELETE FROM question_group_counts WHERE type_name = OLD.type_name AND subject_name = OLD.subject_name
       AND channel_code = OLD.channel_code AND question_count <= 0;
     INSERT INTO question_group_counts (type_name, subject_name, channel_code, question_count)
     VALUES (NEW.type_name, NEW.subject_name, NEW.channel_code, 1)
     ON CONFLICT (type_name, subject_name, channel_code) DO UPDATE SET question_count = question_group_counts.question_count + 1;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER questions_group_count_move AFTER UPDATE ON questions FOR EACH ROW
     WHEN (OLD.type_name IS DISTINCT FROM NEW.type_name OR OLD.subject_name IS DISTINCT FROM NEW.subject_name OR OLD.channel_code IS DISTINCT FROM NEW.channel_code)
     EXECUTE FUNCTION question_group_counts_move()`,
];
