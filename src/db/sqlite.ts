import { Database as BunDatabase } from 'bun:sqlite';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CHECKPOINTER, type CheckpointerData } from './sqlite-checkpointer-state.ts';
import type { SearchIndexerData } from './sqlite-search-indexer.ts';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Prepared statements kept per SQL text. Kysely prepares every query it runs; a bulk import
 * runs the same few statements (a 500-row INSERT has 5,500 placeholders) thousands of times,
 * and preparing them again each time cost about a tenth of the import's main-thread time.
 */
const STATEMENT_CACHE_SIZE = 64;

/** Adapts `bun:sqlite` to the better-sqlite3-shaped interface Kysely's SqliteDialect expects. */
class BunSqliteAdapter implements SqliteDatabase {
  /** Least recently used first (a Map keeps insertion order; a hit moves its entry last). */
  private readonly statements = new Map<string, SqliteStatement & { finalize(): void }>();

  constructor(
    private readonly database: BunDatabase,
    private readonly checkpointer?: BackgroundCheckpointer,
    private readonly searchIndexer?: BackgroundSearchIndexer,
  ) {}

  /** The WAL's upkeep around this connection's transactions (sqlite-dialect.ts); none for `:memory:`. */
  get wal(): WalUpkeep | undefined {
    return this.checkpointer;
  }

  /** Told before each statement that may take the write lock: the search indexer steps aside (sqlite-search-indexer.ts). */
  private readonly wantsToWrite = () => this.searchIndexer?.mainWrites();

  close(): void {
    this.searchIndexer?.stop();
    this.checkpointer?.stop();
    // Unfinalized statements would keep the connection open as a zombie, and with it the WAL file.
    for (const statement of this.statements.values()) statement.finalize();
    this.statements.clear();
    this.database.close();
  }

  // Kysely's driver runs one query at a time on this connection (and holds it for a whole
  // stream), so one statement object per SQL text is never used by two queries at once.
  prepare(sql: string): SqliteStatement {
    const cached = this.statements.get(sql);
    if (cached) {
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    const prepared = this.prepareNew(sql);
    this.statements.set(sql, prepared);
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const [oldest, evicted] = this.statements.entries().next().value!;
      this.statements.delete(oldest);
      evicted.finalize();
    }
    return prepared;
  }

  private prepareNew(sql: string): SqliteStatement & { finalize(): void } {
    // Kysely opens transactions with a deferred BEGIN. The search indexer's thread writes to the
    // same file: a deferred transaction that read before it wrote would fail with
    // SQLITE_BUSY_SNAPSHOT if that thread committed in between, where an IMMEDIATE one waits
    // (a few ms: the thread's transactions are short) for the lock before it reads anything.
    const statement = this.database.prepare(sql === 'begin' ? 'begin immediate' : sql);
    type Bindings = Parameters<typeof statement.all>;
    const bind = (parameters: ReadonlyArray<unknown>) => parameters as unknown as Bindings;
    // A write (a transaction's begin, or a write outside one) first tells the search indexer, so it
    // gives the lock up after its current step instead of taking it again while this one waits.
    if (this.searchIndexer && !READ_ONLY.test(sql)) {
      const wants = this.wantsToWrite;
      return {
        reader: statement.columnNames.length > 0,
        all: (parameters) => (wants(), statement.all(...bind(parameters))),
        run: (parameters) => (wants(), statement.run(...bind(parameters))),
        iterate: (parameters) => (wants(), statement.iterate(...bind(parameters))),
        finalize: () => statement.finalize(),
      };
    }
    return {
      reader: statement.columnNames.length > 0,
      all: (parameters) => statement.all(...bind(parameters)),
      run: (parameters) => statement.run(...bind(parameters)),
      iterate: (parameters) => statement.iterate(...bind(parameters)),
      finalize: () => statement.finalize(),
    };
  }
}

/** Statements that never take the write lock (reads; commit and rollback only release what begin took). */
const READ_ONLY = /^\s*(select|commit|rollback|release|savepoint|pragma|explain)\b/i;

/** How often the background thread checkpoints the WAL when not woken. */
const CHECKPOINT_INTERVAL_MS = 250;
/**
 * WAL pages past which a commit on the main connection checkpoints by itself after all
 * (SQLite's default is 1,000): a safety net, on the main thread, of 100-200 ms at a time. Above
 * what an import reaches between two restarts of the WAL (below: a few batches, each ~5,000 pages).
 */
const FALLBACK_AUTOCHECKPOINT_PAGES = 32_768;
/**
 * WAL pages past which the next transaction waits for the background thread to copy the WAL
 * back whole. SQLite starts a WAL over only when a write transaction begins with every frame
 * copied back; an import's next batch begins a few milliseconds after the last commit, never
 * in such a moment, so the WAL grew (~5,000 pages a 10,000-row batch of short rows) until the
 * fallback above checkpointed on the main thread (210 ms, issue 15).
 */
const WAL_RESTART_PAGES = 4096;
/** The longest a transaction waits for that copy before it begins anyway. */
const WAL_WAIT_MS = 1000;
/** How long closing waits for the background thread to close its connection. */
const CHECKPOINTER_CLOSE_WAIT_MS = 2000;

/** What the SQLite dialect does around each transaction on a file (sqlite-dialect.ts). */
export interface WalUpkeep {
  /** After a commit: if the WAL is long, the background thread starts copying it back now. */
  committed(): void;
  /** Before a transaction: resolves once that copy is done (bounded), so this transaction starts the WAL over. */
  ready(): Promise<void>;
}

/** A worker thread that checkpoints the WAL with its own connection (see sqlite-checkpointer.ts). */
class BackgroundCheckpointer implements WalUpkeep {
  private readonly closed = new Int32Array(new SharedArrayBuffer(4));
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * CHECKPOINTER.size));
  private readonly worker: Worker;
  /** The run a wait is for (the first to begin after the wake), if any. */
  private awaitedRun: number | undefined;
  /** The run that found the WAL copied back whole: the next transaction started it over (none yet: the WAL is new). */
  private restartedAt = 0;
  /** Commits since then, while no run has told the WAL's length since. */
  private commitsSinceRestart = 0;

  constructor(
    path: string,
    private readonly restartPages: number,
  ) {
    const data: CheckpointerData = { path, intervalMs: CHECKPOINT_INTERVAL_MS, closed: this.closed, state: this.state };
    this.worker = new Worker(new URL('./sqlite-checkpointer.ts', import.meta.url), { workerData: data, name: 'sqlite-ckpt' });
    this.worker.unref();
  }

  committed() {
    if (this.awaitedRun !== undefined) return;
    // The last run's figures are older than the restart: the WAL holds only the commits since.
    // One is fine; after more, copy it back rather than wait up to a whole interval to know.
    const stale = Atomics.load(this.state, CHECKPOINTER.runs) === this.restartedAt;
    if (stale && ++this.commitsSinceRestart < 2) return;
    if (!stale && Atomics.load(this.state, CHECKPOINTER.log) < this.restartPages) return;
    // A run under way may have begun before this commit: the next to begin is the one that counts.
    this.awaitedRun = Atomics.load(this.state, CHECKPOINTER.started) + 1;
    Atomics.add(this.state, CHECKPOINTER.wake, 1);
    Atomics.notify(this.state, CHECKPOINTER.wake);
  }

  async ready() {
    if (this.awaitedRun === undefined) return;
    const deadline = performance.now() + WAL_WAIT_MS;
    // Polled, not Atomics.wait: the main thread must never block (the copy takes 10-100 ms).
    while (Atomics.load(this.state, CHECKPOINTER.runs) < this.awaitedRun && performance.now() < deadline) await sleep(2);
    this.awaitedRun = undefined;
    if (Atomics.load(this.state, CHECKPOINTER.log) !== Atomics.load(this.state, CHECKPOINTER.checkpointed)) return;
    this.restartedAt = Atomics.load(this.state, CHECKPOINTER.runs);
    this.commitsSinceRestart = 0;
  }

  /** Synchronous, as Kysely's close is: waits (bounded) for the thread to close its connection, so the main connection closes last and removes the WAL. */
  stop() {
    Atomics.store(this.state, CHECKPOINTER.stop, 1);
    Atomics.add(this.state, CHECKPOINTER.wake, 1);
    Atomics.notify(this.state, CHECKPOINTER.wake);
    Atomics.wait(this.closed, 0, 0, CHECKPOINTER_CLOSE_WAIT_MS);
    void this.worker.terminate();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How often the search indexer looks for new rows (and whether imports went quiet). */
const SEARCH_INDEX_INTERVAL_MS = 500;

/** A worker thread that builds the FTS5 search index with its own connection (see sqlite-search-indexer.ts). */
class BackgroundSearchIndexer {
  private readonly closed = new Int32Array(new SharedArrayBuffer(4));
  /** Counts the main connection's writes: the thread steps aside while it changes (SearchIndexerData.mainWrites). */
  private readonly writes = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;

  constructor(path: string) {
    const data: SearchIndexerData = { path, intervalMs: SEARCH_INDEX_INTERVAL_MS, closed: this.closed, mainWrites: this.writes };
    this.worker = new Worker(new URL('./sqlite-search-indexer.ts', import.meta.url), { workerData: data, name: 'sqlite-fts' });
    this.worker.unref();
  }

  /** The main connection is about to write. */
  mainWrites() {
    Atomics.add(this.writes, 0, 1);
  }

  /** Synchronous, bounded: waits for the thread to close its connection (it may be inside one short transaction). */
  stop() {
    this.worker.postMessage('stop');
    Atomics.wait(this.closed, 0, 0, CHECKPOINTER_CLOSE_WAIT_MS);
    void this.worker.terminate();
  }
}

const PAGE_SIZE = 16_384;

/** Opens a SQLite file (creating its folder) or `:memory:`, in WAL mode; a file's WAL is checkpointed, and its search index built, by background threads (unless `background` is false: another connection does it). */
export function openSqlite(path: string, background = true, walRestartPages = WAL_RESTART_PAGES): SqliteDatabase & { readonly wal?: WalUpkeep } {
  let database: BunDatabase;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    database = new BunDatabase(path, { create: true });
    // Pages of 16 KB for a new database (an existing one keeps its size: WAL mode fixes it until a
    // VACUUM outside WAL). Measured, not derived: short rows over 2,000 groups imported at ~68,000
    // rows/s against ~54,000 with 4 KB (main thread ~12 against ~14 µs a row), and a range of the
    // table reads in half the time (issue 15, docs/no-stall.md). Must come before the switch to
    // WAL, SQLite's first write.
    database.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
    // WAL mode writes the -wal and -shm files beside the database: a folder it cannot write fails here.
    database.exec('PRAGMA journal_mode = WAL');
  } catch (error) {
    throw path === ':memory:' ? error : openFailure(path, error);
  }
  // NORMAL is durable across process crashes in WAL mode; only an OS crash may lose the last commits.
  database.exec('PRAGMA synchronous = NORMAL');
  database.exec('PRAGMA foreign_keys = ON');
  database.exec('PRAGMA busy_timeout = 5000');
  // A larger page cache keeps the questions' indexes in memory during bulk imports.
  database.exec('PRAGMA cache_size = -65536');
  database.exec('PRAGMA temp_store = MEMORY');
  if (path === ':memory:' || !background) return new BunSqliteAdapter(database);
  database.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  // An in-memory database cannot be shared with another thread: its searches scan (bounded per turn).
  return new BunSqliteAdapter(database, new BackgroundCheckpointer(path, walRestartPages), new BackgroundSearchIndexer(path));
}

/**
 * SQLite's own message ("unable to open database file") names neither the file nor the cause.
 * The usual cause is a data folder this process may not write: a root-owned bind mount, or a
 * container run under an arbitrary uid (OpenShift). Say which file, which folder, who we are
 * and who owns it.
 */
export function openFailure(path: string, error: unknown): Error {
  const file = resolve(path);
  const reason = error instanceof Error ? error.message : String(error);
  // The file if it exists, else the nearest folder on its path that exists: what must be writable.
  let blocked = file;
  while (!existsSync(blocked) && dirname(blocked) !== blocked) blocked = dirname(blocked);
  const folder = blocked === file ? dirname(file) : blocked;
  const denied = [folder, ...(blocked === file ? [file] : [])].map((target) => ({ target, code: accessError(target) })).find((check) => check.code !== undefined);
  if (denied === undefined) return new Error(`cannot open the SQLite database ${file}: ${reason}`);
  const { target, code } = denied;
  const stat = statSync(target);
  const kind = stat.isDirectory() ? 'folder' : 'file';
  const who = `uid ${process.getuid?.()}, gid ${process.getgid?.()}`;
  const cause =
    code === 'EROFS'
      ? `the ${kind} ${target} is on a read-only file system`
      : `the ${kind} ${target} is not writable by this process (${who}; it belongs to uid ${stat.uid}, gid ${stat.gid}, mode ${(stat.mode & 0o777).toString(8)})`;
  return new Error(
    `cannot open the SQLite database ${file}: ${cause}. Give this user or its group write access ` +
      `(chown, or chgrp 0 and chmod g+w for an arbitrary uid), mount a writable volume there, or set DATABASE_URL elsewhere (${reason})`,
  );
}

/** The error code when this process may not write (and, for a folder, enter) `target`. */
function accessError(target: string): string | undefined {
  try {
    const mode = statSync(target).isDirectory() ? constants.W_OK | constants.X_OK : constants.W_OK;
    accessSync(target, mode);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EACCES';
  }
}
