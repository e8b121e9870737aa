import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * PostgreSQL: the `pg_trgm` GIN index of migration 010 moves off the import's path (issue 15).
 *
 * Maintaining that index cost the server ~450–700 µs of CPU per imported ~600-character
 * question (a row's ~600 trigrams are ~600 entry-tree insertions), 7–10 times the rest of the
 * row's import; `fastupdate` with a larger pending list only defers the same work to the list's
 * clean-up, and `fastupdate = off` costs more (measured: docs/no-stall.md, test/bench/pg-import.ts).
 * So, as on SQLite, new rows are indexed in the background:
 *  - `questions.search_ready` is false for a new row; the GIN index is partial (`WHERE
 *    search_ready`), so an INSERT evaluates the predicate and skips the index;
 *  - `questions_search_pending`, a small partial btree on the ids not yet indexed, is the
 *    indexer's queue and the search's tail;
 *  - the indexer (src/db/postgres-search-indexer.ts) sets `search_ready` on batches of rows
 *    when imports are quiet, which puts them into the GIN index;
 *  - a search reads the GIN index for ready rows and an ILIKE scan of the pending ones, so its
 *    answer never depends on the indexer's progress. Each row carries its own state, so rows
 *    committed out of id order (concurrent imports, several instances) need no high-water mark.
 * An indexed row's update keeps the index in step by itself (the GIN index covers its new
 * version); a delete needs nothing.
 *
 * On an existing database the full index is dropped and every row starts pending: the
 * migration stays a few seconds on a big bank (rebuilding the index here would hold start-up
 * for as long as the import that built it), searches stay exact meanwhile, and the indexer
 * catches up. SQLite: nothing (its FTS5 table is already built in the background).
 */
export function pgSearchBackgroundMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      // A constant default: no table rewrite, existing rows read false.
      await sql`ALTER TABLE questions ADD COLUMN search_ready boolean NOT NULL DEFAULT false`.execute(db);
      await sql`DROP INDEX IF EXISTS questions_content_trgm`.execute(db);
      await sql`CREATE INDEX questions_content_trgm ON questions USING gin (content gin_trgm_ops) WHERE search_ready`.execute(db);
      await sql`CREATE INDEX questions_search_pending ON questions (id) WHERE NOT search_ready`.execute(db);
    },
  };
}
