import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite.ts';
import { initialMigration } from './migrations/001_initial.ts';
import { questionFingerprintsMigration } from './migrations/002_question_fingerprints.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
}

/** `sqlite:./path/file.sqlite`, `sqlite::memory:` or `postgres://…`. */
export async function connectDatabase(url: string): Promise<DatabaseHandle> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length) || ':memory:';
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(path) }) });
    return { db, dialect: 'sqlite' };
  }
  throw new Error(`DATABASE_URL: PostgreSQL is not supported by this build yet (${redactUrl(url)})`);
}

function migrationsFor(dialect: DialectName): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '001_initial': initialMigration(dialect),
        '002_question_fingerprints': questionFingerprintsMigration(dialect),
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
