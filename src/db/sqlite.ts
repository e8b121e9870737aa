import { Database as BunDatabase } from 'bun:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Adapts `bun:sqlite` to the better-sqlite3-shaped interface Kysely's SqliteDialect expects. */
class BunSqliteAdapter implements SqliteDatabase {
  constructor(private readonly database: BunDatabase) {}

  close(): void {
    this.database.close();
  }

  prepare(sql: string): SqliteStatement {
    const statement = this.database.prepare(sql);
    type Bindings = Parameters<typeof statement.all>;
    const bind = (parameters: ReadonlyArray<unknown>) => parameters as unknown as Bindings;
    return {
      reader: statement.columnNames.length > 0,
      all: (parameters) => statement.all(...bind(parameters)),
      run: (parameters) => statement.run(...bind(parameters)),
      iterate: (parameters) => statement.iterate(...bind(parameters)),
    };
  }
}

/** Opens a SQLite file (creating its folder) or `:memory:`, in WAL mode. */
export function openSqlite(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new BunDatabase(path, { create: true });
  database.exec('PRAGMA journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash may lose the last commits.
  database.exec('PRAGMA synchronous = NORMAL');
  database.exec('PRAGMA foreign_keys = ON');
  database.exec('PRAGMA busy_timeout = 5000');
  // A larger page cache keeps the questions' indexes in memory during bulk imports.
  database.exec('PRAGMA cache_size = -65536');
  database.exec('PRAGMA temp_store = MEMORY');
  return new BunSqliteAdapter(database);
}
