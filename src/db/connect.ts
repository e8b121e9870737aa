import { Kysely, Migrator, PostgresAdapter, PostgresDialect, type MigrationProvider } from 'kysely';
import type { Database } from './schema.ts';
import { openPostgresPool } from './postgres.ts';
import { openSqlite } from './sqlite.ts';
import { SqlitePacing } from './sqlite-pacing.ts';
import { WalKeepingSqliteDialect } from './sqlite-dialect.ts';
import { initialMigration } from './migrations/001_initial.ts';
import { questionFingerprintsMigration } from './migrations/002_question_fingerprints.ts';
import { groupDecisionsMigration } from './migrations/004_group_decisions.ts';
import { leaseMigration } from './migrations/003_group_leases.ts';
import { questionPrintsMigration } from './migrations/005_question_prints.ts';
import { clusterRunsMigration } from './migrations/006_cluster_runs.ts';
import { groupIndexRowHashMigration } from './migrations/007_group_index_row_hash.ts';
import { memberReasonMigration } from './migrations/008_member_reason.ts';
import { reviewMigration } from './migrations/009_review.ts';
import { searchMigration } from './migrations/010_search.ts';
import { pgSearchBackgroundMigration } from './migrations/011_pg_search_background.ts';
import { bulkInsertUpkeepMigration } from './migrations/012_bulk_insert_upkeep.ts';
import { decisionLapsedMigration } from './migrations/013_decision_lapsed.ts';
import { printQueueMarkMigration } from './migrations/014_print_queue_mark.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
}

export interface ConnectOptions {
  /** PostgreSQL only: the most connections this instance opens for queries. */
  maxConnections?: number;
  /**
   * SQLite file only (default true): this connection's background threads checkpoint the WAL and
   * build the search index. A second connection to a file the service has open (a bench, a tool)
   * passes false: a second indexer would not know of the service's writes, and take the write
   * lock step after step while they wait (sqlite-search-indexer.ts).
   */
  background?: boolean;
  /** SQLite file only: WAL pages past which the next transaction waits for the WAL to be copied back (tests make it small). */
  walRestartPages?: number;
}

/** `sqlite:./path/file.sqlite`, `sqlite::memory:` or `postgres://…` (also `postgresql://…`). */
export async function connectDatabase(url: string, options: ConnectOptions = {}): Promise<DatabaseHandle> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length) || ':memory:';
    const database = openSqlite(path, options.background ?? true, options.walRestartPages);
    const db = new Kysely<Database>({ dialect: new WalKeepingSqliteDialect({ database }, database.wal), plugins: [new SqlitePacing()] });
    return { db, dialect: 'sqlite' };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = openPostgresPool(url, options.maxConnections ?? 10);
    try {
      // Fail at start, with the reason, rather than at the first request; and open every
      // connection now, not during the first burst of requests (openPostgresPool keeps them).
      const opened = await Promise.allSettled(Array.from({ length: pool.options.max }, () => pool.connect()));
      for (const result of opened) if (result.status === 'fulfilled') result.value.release();
      const failed = opened.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (error) {
      await pool.end();
      throw new Error(`cannot connect to ${redactUrl(url)}: ${(error as Error).message}`);
    }
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres://, got ${redactUrl(url)}`);
}

/** Which dialect a handle speaks, for the few queries written differently per dialect. */
export function dialectOf(db: Kysely<Database>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

export function migrationsFor(dialect: DialectName): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '001_initial': initialMigration(dialect),
        '002_question_fingerprints': questionFingerprintsMigration(dialect),
        '003_group_leases': leaseMigration(dialect),
        '004_group_decisions': groupDecisionsMigration(dialect),
        '005_question_prints': questionPrintsMigration(dialect),
        '006_cluster_runs': clusterRunsMigration(),
        '007_group_index_row_hash': groupIndexRowHashMigration(),
        '008_member_reason': memberReasonMigration(),
        '009_review': reviewMigration(dialect),
        '010_search': searchMigration(dialect),
        '011_pg_search_background': pgSearchBackgroundMigration(dialect),
        '012_bulk_insert_upkeep': bulkInsertUpkeepMigration(dialect),
        '013_decision_lapsed': decisionLapsedMigration(dialect),
        '014_print_queue_mark': printQueueMarkMigration(dialect),
      };
    },
  };
}

/** Brings the schema up to date; throws with the failing migration's error. */
export async function migrateToLatest({ db, dialect }: DatabaseHandle): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: migrationsFor(dialect) }).migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Hides the password of a database URL so it can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
