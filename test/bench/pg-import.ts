/**
 * Where a PostgreSQL import's time goes (issue 15): `bun test/bench/pg-import.ts [N=20000] [variants]`.
 * For each variant, a fresh database on BENCH_PG (default the test server) with the service's
 * schema, then N bench questions (GAOKAO-based, as the stall bench imports them) stored through
 * the repository's upsert in 10,000-row transactions on one connection, as the NDJSON route does. Printed per
 * variant: wall time, this process's CPU, and the CPU of the database's server backends (read
 * from /proc: the server is separate processes, so the service's own CPU says nothing about
 * it), and the WAL written (server-wide: other sessions' writes count too).
 * Variants (comma-separated; default no-index,background,full-index):
 *   no-index             the trigram index dropped: the floor
 *   background           as migrated (011): rows stored outside the partial index, then the
 *                        indexer's batches (timed apart: the server's work moved off the import)
 *   full-index           migration 010's index, kept by every INSERT (before 011), then its pending list cleaned
 *   full-fastupdate-off, full-pending-64MB   the same index with other GIN storage parameters
 *   build-after          no index during the import, then CREATE INDEX
 *   no-count-trigger     no index and no group-count trigger
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { connectDatabase, migrateToLatest } from '../../src/db/connect.ts';
import { PostgresSearchIndexer } from '../../src/db/postgres-search-indexer.ts';
import { upsertStoredQuestions } from '../../src/questions/question.repository.ts';
import { toStoredFields } from '../../src/questions/stored-question.ts';
import { questionInput } from '../../src/questions/question.schema.ts';
import { admin } from '../support/database.ts';
import { loadBenchCorpus, questionAt } from './corpus.ts';

const n = Number(process.argv[2] ?? 20_000);
const SERVER = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:55432/postgres';
const BATCH = 10_000;

type Db = Awaited<ReturnType<typeof connectDatabase>>['db'];

const FULL_INDEX = sql`CREATE INDEX questions_content_trgm ON questions USING gin (content gin_trgm_ops)`;
const dropIndex = async (db: Db) => {
  await sql`DROP INDEX IF EXISTS questions_content_trgm`.execute(db);
};
/** Migration 010's index: every row indexed by its INSERT (the state before 011). */
const fullIndex = async (db: Db, options?: string) => {
  await dropIndex(db);
  await FULL_INDEX.execute(db);
  if (options) await sql.raw(`ALTER INDEX questions_content_trgm SET (${options})`).execute(db);
};
const cleanPendingList = async (db: Db) => {
  await sql`SELECT gin_clean_pending_list('questions_content_trgm')`.execute(db);
};

/** Schema changes a variant makes after migrating, before the import. */
const VARIANTS: Record<string, (db: Db) => Promise<void>> = {
  /** As migrated (011): rows stored outside the partial index, the indexer run after. */
  background: async () => {},
  'background-fastupdate-on': async (db) => {
    await sql`ALTER INDEX questions_content_trgm SET (fastupdate = on)`.execute(db);
  },
  'background-fastupdate-off': async (db) => {
    await sql`ALTER INDEX questions_content_trgm SET (fastupdate = off)`.execute(db);
  },
  'no-index': dropIndex,
  'full-index': (db) => fullIndex(db),
  'full-fastupdate-off': (db) => fullIndex(db, 'fastupdate = off'),
  'full-pending-64MB': (db) => fullIndex(db, 'fastupdate = on, gin_pending_list_limit = 65536'),
  'build-after': dropIndex,
  'no-count-trigger': async (db) => {
    await dropIndex(db);
    await sql`DROP TRIGGER IF EXISTS questions_group_count_insert ON questions`.execute(db);
  },
};

/** Work a variant leaves for after the import, timed on its own. */
const FINISH: Record<string, (db: Db) => Promise<void>> = {
  background: async function backgroundIndexer(db) {
    const indexer = new PostgresSearchIndexer(db);
    while ((await indexer.indexBatch(500)) !== 0);
  },
  'background-fastupdate-on': async function backgroundIndexer(db) {
    const indexer = new PostgresSearchIndexer(db);
    while ((await indexer.indexBatch(500)) !== 0);
  },
  'background-fastupdate-off': async function backgroundIndexer(db) {
    const indexer = new PostgresSearchIndexer(db);
    while ((await indexer.indexBatch(500)) !== 0);
  },
  'full-index': cleanPendingList,
  'full-pending-64MB': cleanPendingList,
  'build-after': async function createIndex(db) {
    await FULL_INDEX.execute(db);
  },
};

const TICK_MS = 10; // /proc stat fields are in clock ticks (USER_HZ = 100)

function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

function rowsAt(start: number, count: number) {
  return Array.from({ length: count }, (_, k) => {
    const i = start + k;
    const q = questionAt(corpus.base, i);
    return toStoredFields(questionInput.parse({ external_id: `pgimp-${i}`, ...q }));
  });
}

const corpus = loadBenchCorpus();
const chosen = (process.argv[3] ?? 'no-index,background,full-index').split(',');
console.log(`${n} rows (${corpus.source}) per variant, ${BATCH}-row transactions; load average ${load()}`);

for (const variant of chosen) {
  const prepare = VARIANTS[variant];
  if (!prepare) throw new Error(`unknown variant ${variant}`);
  const name = `dedup_pgimport_${process.pid}`;
  await admin(SERVER, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin(SERVER, `CREATE DATABASE "${name}"`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  const handle = await connectDatabase(url.toString(), { maxConnections: 1 });
  try {
    await migrateToLatest(handle);
    await prepare(handle.db);
    const batches = Array.from({ length: Math.ceil(n / BATCH) }, (_, b) => rowsAt(b * BATCH, Math.min(BATCH, n - b * BATCH)));
    const backends = async () =>
      (await sql<{ pid: number }>`select pid from pg_stat_activity where datname = ${name}`.execute(handle.db)).rows.map((row) => Number(row.pid));
    const lsn = async () => (await sql<{ l: string }>`select pg_current_wal_lsn()::text as l`.execute(handle.db)).rows[0]!.l;
    const lsnBytes = (text: string) => {
      const [hi, lo] = text.split('/');
      return parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16);
    };
    const pids = await backends();
    const server0 = pids.map(procCpuMs);
    const wal0 = await lsn();
    const cpu0 = process.cpuUsage();
    const began = performance.now();
    const load0 = load();
    for (const batch of batches) await upsertStoredQuestions(handle.db, batch, '2026-12-04T00:00:00Z');
    const wall = performance.now() - began;
    const cpu = process.cpuUsage(cpu0);
    const wal = lsnBytes(await lsn()) - lsnBytes(wal0);
    const importServerMs = (await backends()).reduce((sum, pid) => sum + procCpuMs(pid) - (server0[pids.indexOf(pid)] ?? 0), 0);
    const finish = FINISH[variant];
    let finished = '';
    if (finish) {
      const f0 = performance.now();
      const s0 = pids.map(procCpuMs);
      await finish(handle.db);
      const fs = pids.reduce((sum, pid, k) => sum + procCpuMs(pid) - s0[k]!, 0);
      finished = `; then ${finish.name}: ${((performance.now() - f0) / 1000).toFixed(2)} s wall, server CPU ${fs} ms (${((fs * 1000) / n).toFixed(0)} µs/row)`;
    }
    const serverMs = importServerMs;
    const size = (await sql<{ s: string }>`select coalesce(pg_relation_size(to_regclass('questions_content_trgm')), 0)::text as s`.execute(handle.db)).rows[0]!.s;
    console.log(
      `  ${variant.padEnd(18)} ${(wall / 1000).toFixed(2)} s wall (${Math.round(n / (wall / 1000))} rows/s), client CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, ` +
        `server backend CPU ${serverMs.toFixed(0)} ms (${((serverMs * 1000) / n).toFixed(0)} µs/row), WAL ${(wal / 2 ** 20).toFixed(0)} MB, trigram index ${(Number(size) / 2 ** 20).toFixed(1)} MB; load ${load0} -> ${load()}${finished}`,
    );
  } finally {
    await handle.db.destroy();
    await admin(SERVER, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}
process.exit(0);
