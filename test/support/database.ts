import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connectDatabase, migrateToLatest, type DatabaseHandle } from '../../src/db/connect.ts';

/**
 * Where a test's service keeps its data. Set TEST_DATABASE_URL=postgres://… (an account that
 * may create databases) to run the suite against PostgreSQL: every call makes a fresh database
 * with a random name there, dropped again by `drop()`. Unset: a fresh SQLite file.
 */
export interface TestDatabase {
  url: string;
  dialect: 'sqlite' | 'postgres';
  drop(): Promise<void>;
}

export const testDatabaseServer = (): string | undefined => process.env.TEST_DATABASE_URL?.trim() || undefined;

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const server = testDatabaseServer();
  if (!server) {
    const dir = mkdtempSync(join(tmpdir(), `dedup-${label}-`));
    return { url: `sqlite:${join(dir, 'dedup.sqlite')}`, dialect: 'sqlite', drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `dedup_${label.replace(/\W/g, '_').toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin(server, `CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dialect: 'postgres',
    // FORCE: a test that failed half-way may have left connections open.
    drop: () => admin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/** A fresh database with the service's schema, connected; close() disconnects and drops it. */
export async function openTestDatabase(label: string): Promise<DatabaseHandle & { close(): Promise<void> }> {
  const database = await createTestDatabase(label);
  const handle = await connectDatabase(database.url);
  await migrateToLatest(handle);
  return {
    ...handle,
    close: async () => {
      await handle.db.destroy();
      await database.drop();
    },
  };
}

/** Runs one statement (CREATE / DROP DATABASE) on its own connection to the server. */
export async function admin(server: string, statement: string) {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
