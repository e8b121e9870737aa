/**
 * Keeps PostgreSQL's trigram search index (migration 011) up to date off the import's path.
 * Maintaining the `pg_trgm` GIN index costs the server ~450–700 µs of CPU per ~600-character
 * question, 7–10 times the rest of the row's import, so an import stores rows with
 * `search_ready = false` (outside the partial index) and this loop sets the flag on batches of
 * them, which makes the server index them. Searches read the index for ready rows and scan the
 * pending ones, so their answers never depend on how far this got (question-listing.ts).
 *
 * Like SQLite's indexer thread: only once imports have gone quiet (the largest id stopped
 * growing) and no task is running (the pool and the server need the cores then), and each batch
 * after the checks in flight (bounded). The main thread only awaits the server here. Several
 * instances on one database index one at a time (an advisory lock per batch); `SKIP LOCKED`
 * keeps a batch from waiting on rows a request is updating.
 */
import { sql, type Kysely } from 'kysely';
import type { InteractiveWork } from '../tasks/interactive-work.ts';
import type { Database } from './schema.ts';

/** One batch's UPDATE aims at this long: a request updating one of its rows waits at most about that. */
const BATCH_TARGET_MS = 100;
const MIN_ROWS = 16;
const MAX_ROWS = 4000;
/** How long one round indexes before looking at imports and tasks again. */
const ROUND_MS = 1000;
/**
 * Rows indexed since the last ANALYZE after which a finished catch-up refreshes the table's
 * statistics: planned with a stale "most rows pending", a search would scan the table for the
 * pending rows instead of reading their small index.
 */
const ANALYZE_AFTER_ROWS = 10_000;
/**
 * The longest a batch waits for checks in flight and just answered (interactive-work.ts). A batch
 * is ~100 ms of the server's CPU, and 100 concurrent checks on a 1M PostgreSQL bank answered with
 * p99 334 ms beside the indexer, 248 without it (docs/no-stall.md); nobody waits on the index, so
 * under a storm of checks it goes on at about one batch in two seconds.
 */
const CHECKS_FIRST_MAX_WAIT_MS = 2000;
/** pg advisory lock key: one instance indexes at a time (any fixed number no other code uses). */
const INDEXER_LOCK = 15_011;

export class PostgresSearchIndexer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private lastMaxId = -1;
  private rows = 64;
  private indexedSinceAnalyze = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly intervalMs = 1000,
    /** Checks in flight: each batch waits for them first (bounded). */
    private readonly checks?: Pick<InteractiveWork, 'quiet'>,
  ) {}

  start(): void {
    this.schedule(this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /**
   * Indexes up to `rows` pending questions in one statement; answers how many it indexed, or
   * null when another instance holds the indexer's lock. Also what a test drives directly.
   */
  async indexBatch(rows: number): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      const { rows: lock } = await sql<{ got: boolean }>`SELECT pg_try_advisory_xact_lock(${INDEXER_LOCK}) AS got`.execute(trx);
      if (!lock[0]?.got) return null;
      const result = await sql`
        WITH batch AS (SELECT id FROM questions WHERE NOT search_ready ORDER BY id LIMIT ${rows} FOR UPDATE SKIP LOCKED)
        UPDATE questions q SET search_ready = true FROM batch WHERE q.id = batch.id`.execute(trx);
      return Number(result.numAffectedRows ?? 0);
    });
  }

  private schedule(delay: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.runRound().then(
        (next) => this.schedule(next),
        () => this.schedule(this.intervalMs), // not migrated yet, the server restarting, closing: look again later
      );
    }, delay);
    this.timer.unref?.();
  }

  /** One round: index while imports are quiet and no task runs; answers the delay before the next. */
  private async runRound(): Promise<number> {
    if (!(await this.quiet())) return this.intervalMs;
    const until = performance.now() + ROUND_MS;
    let indexedThisRound = 0;
    try {
      while (!this.stopped && performance.now() < until) {
        await this.checks?.quiet(CHECKS_FIRST_MAX_WAIT_MS);
        if (this.stopped) break;
        const began = performance.now();
        const indexed = await this.indexBatch(this.rows);
        if (indexed === null) return this.intervalMs; // another instance is at it
        if (indexed === 0) {
          if (this.indexedSinceAnalyze >= ANALYZE_AFTER_ROWS) {
            this.indexedSinceAnalyze = 0;
            await sql`ANALYZE questions`.execute(this.db);
          }
          return this.intervalMs;
        }
        indexedThisRound += indexed;
        this.indexedSinceAnalyze += indexed;
        const took = performance.now() - began;
        this.rows = Math.max(MIN_ROWS, Math.min(MAX_ROWS, this.rows * 2, Math.round((this.rows * BATCH_TARGET_MS) / Math.max(took, 1))));
      }
    } finally {
      if (indexedThisRound > 0) await this.cleanPendingList();
    }
    // More may be left: look at imports and tasks again, then go on at once if still quiet.
    return 0;
  }

  /**
   * Moves the GIN index's pending list (`fastupdate`, on by default: new entries are appended
   * and merged into the index in sorted runs, about half the cost of inserting each one) into
   * the index. An insert merges it once it passes `gin_pending_list_limit`, but skips that while
   * another backend is merging, and a (throttled) autovacuum of the table, which the indexer's
   * updates bring on, merges slowly: meanwhile the list grew to 200 MB in the stall bench, every
   * search read all of it, and the planner fell back to scanning the table. Waiting here for
   * that merge, and adding nothing meanwhile, keeps the list about one round's rows long. The
   * wait is bounded (a shutdown waits for it): past it, the next round's merge tries again.
   */
  private async cleanPendingList() {
    try {
      await this.db.transaction().execute(async (trx) => {
        await sql`SET LOCAL lock_timeout = '5s'`.execute(trx);
        await sql`SELECT gin_clean_pending_list('questions_content_trgm')`.execute(trx);
      });
    } catch {
      // The wait ran out, or not the index's owner (only the owner may): the inserts' own merging still applies.
    }
  }

  private async quiet(): Promise<boolean> {
    const { maxId } = await this.db.selectFrom('questions').select((eb) => eb.fn.max('id').as('maxId')).executeTakeFirstOrThrow();
    const last = Number(maxId ?? 0);
    const quiet = last === this.lastMaxId;
    this.lastMaxId = last;
    if (!quiet) return false;
    const running = await this.db.selectFrom('dedup_tasks').select('id').where('status', '=', 'running').limit(1).executeTakeFirst();
    return running === undefined;
  }
}
