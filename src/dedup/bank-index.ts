import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { PrintJob } from '../../workers/print.worker.ts';
import { FINGERPRINT_WORDS } from '../../workers/protocol.ts';
import { CheckIndex, checkGroup, checkQuestion, type CheckHit, type CheckInput, type CheckOptions, type CheckWork, type StoredVersion } from './check.ts';
import { nextTurn } from '../pace.ts';
import { isLegacyPrint, packPrints, storePrints, versionKey, type PrintedRow } from './fingerprints.ts';
import { CoalescedReads } from './coalesced-reads.ts';
import { StoredTextCache } from './text-cache.ts';
import { FreshRows } from './fresh-rows.ts';
import { freshUnprintedBetween, groupsOnBacklog, moveQueueMark, newestQuestionId, queueMark, type GroupKey, type UnprintedRow } from './print-queue.ts';
import { NOTHING_ABOVE_THE_MARK } from '../db/migrations/014_print_queue_mark.ts';

/** The part of Piscina used for prints: the same pool as the dedup worker, another entry file. */
export interface PrintPool {
  run(job: PrintJob, options: { filename: string }): Promise<Uint32Array>;
}

export interface BankIndexDeps {
  db: Kysely<Database>;
  pool: PrintPool;
  logger: Logger;
  printWorker: URL;
  /** Where a check's CPU runs (the check pool in the service, see main.ts). */
  checks: CheckWork;
  /** True while something more important uses the pool (a running task): the backfill waits. */
  busy?: () => boolean;
  /** Quiet time after the last import before new rows are fingerprinted, so imports run at full speed. */
  backfillDelayMs?: number;
  /**
   * Told of every change this instance makes to the stored prints: instances sharing one
   * PostgreSQL database pass it on, so each one's index follows the others' imports and deletes.
   */
  onChanged?: (change: BankChange) => void;
}

/** Prints stored for the questions with ids `from`..`to`, or a question deleted. */
export type BankChange = { from: number; to: number } | { removed: number };

/** Rows read per page when loading or backfilling. */
const PAGE = 2000;
/** Rows indexed between turns of the event loop. */
const INDEX_CHUNK = 10_000;
/**
 * Unsorted rows a check scans one by one (~0.2 µs each). Past this a check waits for the
 * runs being sorted (one ~10 ms run per turn of the event loop, see CheckIndex.buildStep)
 * instead of scanning them: the old single sort of every row held the main thread ~1 s per
 * million rows, and the first check after a task (a million fresh prints) stalled on it.
 */
const DELTA_SCAN_LIMIT = 20_000;
/** Candidates' texts (or other rows by id) read per query by a check. */
export const READ_CHUNK = 500;
/** Unprinted questions a check prints itself before answering; a larger backlog is the backfill's. */
const CATCH_UP_LIMIT = 5000;
/** Statements of one kind of a check's reads running at once; concurrent checks' keys wait and go together (CoalescedReads). */
export const CHECK_READS_IN_FLIGHT = 2;
/** Groups asked about per statement when concurrent checks look for rows on the backlog. */
const GROUPS_PER_READ = 500;
/**
 * Characters of candidates' texts kept between checks (text-cache.ts): ~8 MB to ~16 MB of
 * strings, some 10,000 GAOKAO questions, as many as the check pool's thread keeps text data for.
 */
const TEXT_CACHE_CHARS = 8_000_000;

/**
 * Every stored question's print, in memory, for `POST /api/dedup/check`. Loaded from
 * `question_prints` at start-up; questions without a valid print (changed ones on the
 * `question_backlog`, new ones above its mark: print-queue.ts) are fingerprinted on the pool
 * in the background and written back, so tasks reuse them too.
 */
export class BankIndex {
  private readonly index = new CheckIndex();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private backfilling: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** Scratch for a version key (versionKey). */
  private readonly version = new Uint32Array(2);
  /**
   * The print backlog's mark (print-queue.ts), read once: only this instance's backfill moves it
   * on SQLite, and on PostgreSQL it never moves, so a check there costs no query for it.
   */
  private mark: number | undefined;
  /** Sorting pending rows into runs, one run per turn of the event loop; set while it runs. */
  private sorting: Promise<void> | undefined;
  /** Concurrent checks' reads, a few statements for all of them: their candidates' texts, and whose groups have rows on the backlog. */
  private readonly texts: CoalescedReads<number, StoredVersion>;
  private readonly textCache = new StoredTextCache(TEXT_CACHE_CHARS);
  private readonly backlogged: CoalescedReads<string, true>;
  /** The spans of each group's new rows known printed: a check walks only past them. */
  private readonly freshRows: FreshRows;
  /**
   * Questions whose stored print predates the MinHash (64 bytes): indexed as they are, so checks
   * find them, and printed again in the background. Not on the backlog: a check's catch-up
   * would print thousands of them before answering, right after an upgrade.
   */
  private legacy: number[] = [];
  /** How far reprintLegacy got through `legacy`. */
  private legacyAt = 0;

  constructor(private readonly deps: BankIndexDeps) {
    this.texts = new CoalescedReads((ids) => this.readTexts(ids), CHECK_READS_IN_FLIGHT, READ_CHUNK);
    this.backlogged = new CoalescedReads((groups) => groupsOnBacklog(deps.db, groups), CHECK_READS_IN_FLIGHT, GROUPS_PER_READ);
    this.freshRows = new FreshRows(deps.db);
  }

  get size(): number {
    return this.index.size;
  }

  /** Loads every stored print, then fingerprints the rest in the background. */
  async load(): Promise<void> {
    await this.indexStoredPrints(1, Number.MAX_SAFE_INTEGER);
    await this.sortPending();
    this.deps.logger.info({ questions: this.index.size }, 'check index loaded');
    this.scheduleBackfill(0);
  }

  /** Called after an import stored rows: they get prints once imports go quiet. */
  scheduleBackfill(delayMs = this.deps.backfillDelayMs ?? 1000): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.startBackfill(), delayMs);
  }

  /**
   * Prints computed by a task's worker: persisted for the next run and indexed for checks.
   * rows: the questions they were computed from, each with its row in `prints`.
   */
  async remember(rows: readonly (PrintedRow & { row: number; group: string })[], prints: Uint32Array): Promise<void> {
    if (rows.length === 0) return;
    await storePrints(this.deps.db, rows, prints);
    for (let k = 0; k < rows.length; k++) {
      // ~1 µs a row: a 150,000-question group would hold the event loop for a good part of a second.
      if (k > 0 && k % INDEX_CHUNK === 0) await nextTurn();
      const { id, group, row, rowHash } = rows[k]!;
      this.indexPrint(id, group, rowHash, prints, row * FINGERPRINT_WORDS);
    }
    this.announce(rows.map((row) => row.id));
    void this.sortPending();
  }

  /**
   * A task read every row of the group with an id in fromId..throughId and every one of them has
   * a stored print now: checks of the group need not look among them for rows without (fresh-rows.ts).
   */
  groupPrinted(group: GroupKey, fromId: number, throughId: number): void {
    this.freshRows.printed(group, fromId, throughId);
  }

  /**
   * Sorts the rows indexed since the last run into runs, one run per turn of the event loop,
   * so a check rarely finds more than a run's worth unsorted. One at a time: a caller while it
   * runs gets the running one, which goes on until nothing is pending.
   */
  private sortPending(): Promise<void> {
    // The reset runs as a reaction, after the assignment: an async function that found nothing
    // to sort used to clear `sorting` synchronously, before `??=` stored its settled promise,
    // which then stood for "sorting" forever. From the first such call on (at start-up on an
    // empty bank), nothing was sorted again and each check scanned every row indexed since
    // (~30 ms a check at 100k questions).
    this.sorting ??= this.sortRuns().finally(() => {
      this.sorting = undefined;
    });
    return this.sorting;
  }

  private async sortRuns(): Promise<void> {
    // Pending rows are sorted into runs first (rows indexed meanwhile too), then runs are merged
    // (fewer runs, cheaper lookups); one step a turn.
    while (this.index.buildStep() || this.index.mergeStep()) await nextTurn();
  }

  /** Rows indexed but not yet sorted into runs: each check scans them one by one. */
  get pending(): number {
    return this.index.pending;
  }

  /**
   * Writes the print of each question of `rows` at out[(first + k) * FINGERPRINT_WORDS..] where the index
   * holds it for that version (row_hash) of the question, so a task's re-run need not read it; returns the
   * k of the others, ascending. One call a page: a million rows looked up in one loop.
   */
  printsFor(rows: readonly { id: number; row_hash: string }[], out: Uint32Array, first: number): number[] {
    const missing: number[] = [];
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k]!;
      versionKey(row.row_hash, this.version);
      if (!this.index.printOf(row.id, this.version, out, (first + k) * FINGERPRINT_WORDS)) missing.push(k);
    }
    return missing;
  }

  /** Indexes one question's print, computed from the version `rowHash`. */
  private indexPrint(id: number, group: string, rowHash: string, prints: Uint32Array, at: number): void {
    versionKey(rowHash, this.version);
    this.index.upsert(id, group, prints, at, this.version);
  }

  forget(id: number): void {
    this.index.remove(id);
    this.deps.onChanged?.({ removed: id });
  }

  /** Another instance changed the stored prints: follow it (no announcement back). */
  async follow(change: BankChange): Promise<void> {
    if ('removed' in change) {
      this.index.remove(change.removed);
      return;
    }
    await this.indexStoredPrints(change.from, change.to);
  }

  /**
   * Indexes the stored prints of questions with ids from `fromId` to `toId`, a page at a time:
   * a page of prints along their primary key, then their questions by id, matched here. One
   * query joining the two let PostgreSQL misjudge the join (it expected one row, the row_hash
   * columns being alike) and hash-join both whole tables for every page: a 1,000,000-question
   * bank's index did not load within minutes of a restart, and checks meanwhile missed its prints.
   */
  private async indexStoredPrints(fromId: number, toId: number) {
    const { db } = this.deps;
    let afterId = fromId - 1;
    for (;;) {
      const page = await db
        .selectFrom('question_prints')
        .select(['question_id', 'row_hash', 'print'])
        .where('question_id', '>', afterId)
        .where('question_id', '<=', toId)
        .orderBy('question_id')
        .limit(PAGE)
        .execute();
      if (page.length === 0) break;
      const questions = new Map<number, { group: string; rowHash: string }>();
      for (let from = 0; from < page.length; from += READ_CHUNK) {
        const ids = page.slice(from, from + READ_CHUNK).map((row) => row.question_id);
        const rows = await db.selectFrom('questions').select(['id', 'type_name', 'subject_name', 'channel_code', 'row_hash']).where('id', 'in', ids).execute();
        for (const row of rows) questions.set(Number(row.id), { group: checkGroup(row.type_name, row.subject_name, row.channel_code), rowHash: row.row_hash });
      }
      // Only prints of the questions' current versions: a print of an older version is never valid.
      const valid = page.filter((row) => questions.get(Number(row.question_id))?.rowHash === row.row_hash);
      for (const row of valid) if (isLegacyPrint(row.print)) this.legacy.push(Number(row.question_id));
      const prints = packPrints(valid.map((row) => row.print));
      valid.forEach((row, i) => {
        const question = questions.get(Number(row.question_id))!;
        this.indexPrint(Number(row.question_id), question.group, question.rowHash, prints, i * FINGERPRINT_WORDS);
      });
      if (page.length < PAGE) break;
      afterId = Number(page[page.length - 1]!.question_id);
      // A million stored prints are 500 pages: requests and socket events run between them.
      await nextTurn();
    }
    void this.sortPending();
  }

  private announce(ids: number[]) {
    if (!this.deps.onChanged || ids.length === 0) return;
    let from = ids[0]!;
    let to = from;
    for (const id of ids) {
      if (id < from) from = id;
      if (id > to) to = id;
    }
    this.deps.onChanged({ from, to });
  }

  /**
   * The bank's near-duplicates of one question. Questions of its group still waiting for a
   * print (a fresh import) are printed first, up to CATCH_UP_LIMIT, so a check right after an
   * import sees it; past that, the background backfill gets to the rest.
   */
  async check(input: CheckInput, options: CheckOptions): Promise<CheckHit[]> {
    await this.catchUp(input, options.scope ?? 'channel');
    if (this.index.pending > DELTA_SCAN_LIMIT) await this.sortPending();
    return checkQuestion(this.index, input, options, (ids) => this.texts.read(ids), this.deps.checks);
  }

  /**
   * The texts of checks' candidates, at most READ_CHUNK ids a call: the versions of those held
   * in the text cache and the texts of the others in two statements, then the texts of any held
   * for a version no longer stored (text-cache.ts; 100 concurrent checks on a 1M PostgreSQL bank:
   * p99 286 → 215 ms, docs/no-stall.md). CoalescedReads sends more ids as several calls, turning
   * the event loop in between: most checks read a few dozen, but a stock phrase can propose
   * thousands (12 keys, KEY_SCAN_CAP rows each), and SQLite reads on the main thread.
   */
  private async readTexts(ids: number[]) {
    // Of the rows whose text is held, only the version: the text is used if it is still that one.
    const held = ids.filter((id) => this.textCache.has(id));
    const [versions, texts] = await Promise.all([
      held.length > 0 ? this.deps.db.selectFrom('questions').select(['id', 'row_hash']).where('id', 'in', held).execute() : [],
      this.readWholeTexts(ids.filter((id) => !this.textCache.has(id))),
    ]);
    const changed: number[] = [];
    const found = new Set<number>();
    for (const { id, row_hash } of versions) {
      found.add(id);
      const text = this.textCache.take(id, row_hash);
      if (text === undefined) changed.push(id);
      else texts.set(id, text);
    }
    // Deleted since: left out, as a read of their texts would have.
    for (const id of held) if (!found.has(id)) this.textCache.drop(id);
    for (const [id, text] of await this.readWholeTexts(changed)) texts.set(id, text);
    return texts;
  }

  private async readWholeTexts(ids: number[]) {
    const texts = new Map<number, StoredVersion>();
    if (ids.length === 0) return texts;
    const rows = await this.deps.db.selectFrom('questions').select(['id', 'content', 'options', 'row_hash']).where('id', 'in', ids).execute();
    for (const row of rows) {
      const text = { content: row.content, options: row.options, version: row.row_hash };
      texts.set(row.id, text);
      this.textCache.put(row.id, text);
    }
    return texts;
  }

  private async catchUp(input: CheckInput, scope: 'channel' | 'subject') {
    const queued = (await this.mayHaveBacklog(input, scope)) ? await this.backlogOfGroup(input, scope) : [];
    const fresh = queued.length < CATCH_UP_LIMIT ? await this.freshOfGroup(input, scope, queued) : undefined;
    const rows = fresh ? [...queued, ...fresh.rows] : queued;
    try {
      if (rows.length > 0) await this.printAndStore(rows);
    } catch (error) {
      fresh?.settle(false);
      throw error;
    }
    fresh?.settle(true);
  }

  /**
   * Nearly always nothing of a check's group is on the backlog: concurrent checks ask in one
   * statement whose groups have rows there, and only those read them. A subject-wide check
   * (rare) just reads.
   */
  private async mayHaveBacklog(input: CheckInput, scope: 'channel' | 'subject'): Promise<boolean> {
    if (scope === 'subject') return true;
    const found = await this.backlogged.read([checkGroup(input.type_name, input.subject_name, input.channel_code)]);
    return found.size > 0;
  }

  private backlogOfGroup(input: CheckInput, scope: 'channel' | 'subject') {
    let query = this.backlog()
      .where('b.type_name', '=', input.type_name)
      .where('b.subject_name', '=', input.subject_name);
    if (scope === 'channel') query = query.where('b.channel_code', '=', input.channel_code);
    return query.orderBy('b.question_id').limit(CATCH_UP_LIMIT).execute();
  }

  /**
   * Up to the catch-up's remaining room of the group's new rows without a print (above the
   * backlog's mark), except those on the backlog too; `settle()` once they are printed.
   */
  private async freshOfGroup(input: CheckInput, scope: 'channel' | 'subject', queued: readonly UnprintedRow[]) {
    const { db } = this.deps;
    this.mark ??= await queueMark(db);
    // PostgreSQL: nothing is ever above the mark (migration 014).
    if (this.mark === NOTHING_ABOVE_THE_MARK) return { rows: [], settle: () => {} };
    const channels =
      scope === 'channel'
        ? [input.channel_code]
        : (
            await db
              .selectFrom('question_group_counts')
              .select('channel_code')
              .where('type_name', '=', input.type_name)
              .where('subject_name', '=', input.subject_name)
              .execute()
          ).map((row) => row.channel_code);
    const groups = channels.map((channel_code) => ({ type_name: input.type_name, subject_name: input.subject_name, channel_code }));
    const fresh = await this.freshRows.find(this.mark, groups, CATCH_UP_LIMIT - queued.length);
    const onBacklog = new Set(queued.map((row) => row.id));
    return { rows: fresh.rows.filter((row) => !onBacklog.has(row.id)), settle: fresh.settle };
  }

  /** The questions waiting for a print, with what printing them needs. */
  private backlog() {
    return this.deps.db
      .selectFrom('question_backlog as b')
      .innerJoin('questions as q', 'q.id', 'b.question_id')
      .select(['q.id', 'q.type_name', 'q.subject_name', 'q.channel_code', 'q.content', 'q.options', 'q.row_hash']);
  }

  private async printAndStore(rows: UnprintedRow[]) {
    const { db, pool, printWorker } = this.deps;
    const prints = await pool.run({ contents: rows.map((row) => row.content), options: rows.map((row) => row.options) }, { filename: printWorker.href });
    const ids = rows.map((row) => row.id);
    await storePrints(db, rows.map((row, i) => ({ id: row.id, rowHash: row.row_hash, row: i })), prints);
    rows.forEach((row, i) => this.indexPrint(row.id, checkGroup(row.type_name, row.subject_name, row.channel_code), row.row_hash, prints, i * FINGERPRINT_WORDS));
    this.announce(ids);
    void this.sortPending();
  }

  /** Waits for a running backfill to reach a page boundary and stops scheduling new ones. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.backfilling;
  }

  private startBackfill() {
    if (this.backfilling) {
      this.again = true;
      return;
    }
    this.backfilling = this.backfill()
      .catch((error) => this.deps.logger.error({ err: error }, 'fingerprint backfill failed'))
      .finally(() => {
        this.backfilling = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          this.startBackfill();
        }
      });
  }

  private async backfill() {
    const { logger } = this.deps;
    // Keyset over the backlog's key: a row that stays listed (changed again meanwhile) waits for the next pass.
    let after: [string, string, string, number] = ['', '', '', 0];
    let printed = 0;
    while (!this.closed) {
      if (this.deps.busy?.()) {
        this.scheduleBackfill();
        break;
      }
      const page = await this.backlog()
        .where((eb) => eb(eb.refTuple('b.type_name', 'b.subject_name', 'b.channel_code', 'b.question_id'), '>', eb.tuple(...after)))
        .orderBy('b.type_name')
        .orderBy('b.subject_name')
        .orderBy('b.channel_code')
        .orderBy('b.question_id')
        .limit(PAGE)
        .execute();
      if (page.length === 0) break;
      const last = page[page.length - 1]!;
      after = [last.type_name, last.subject_name, last.channel_code, last.id];
      await this.printAndStore(page);
      printed += page.length;
    }
    if (!this.closed && !this.deps.busy?.()) printed += await this.backfillAboveMark();
    if (!this.closed && !this.deps.busy?.()) printed += await this.reprintLegacy();
    if (printed > 0) logger.info({ printed, indexed: this.index.size }, 'fingerprints computed');
  }

  /** Prints the questions whose stored print predates the MinHash again, a page at a time; returns how many. */
  private async reprintLegacy(): Promise<number> {
    let printed = 0;
    while (this.legacyAt < this.legacy.length && !this.closed) {
      if (this.deps.busy?.()) {
        this.scheduleBackfill();
        break;
      }
      const ids = this.legacy.slice(this.legacyAt, this.legacyAt + PAGE);
      this.legacyAt += ids.length;
      const rows: UnprintedRow[] = [];
      for (let from = 0; from < ids.length; from += READ_CHUNK) {
        const chunk = ids.slice(from, from + READ_CHUNK);
        // Deleted since: nothing to print. Changed since: printed for the version stored now.
        const found = await this.deps.db.selectFrom('questions').select(['id', 'type_name', 'subject_name', 'channel_code', 'content', 'options', 'row_hash']).where('id', 'in', chunk).execute();
        for (const row of found) rows.push({ ...row, id: Number(row.id) });
      }
      if (rows.length > 0) await this.printAndStore(rows);
      printed += rows.length;
    }
    if (this.legacyAt === this.legacy.length) {
      this.legacy = [];
      this.legacyAt = 0;
    }
    return printed;
  }

  /**
   * Prints the new rows above the backlog's mark, PAGE ids at a time in id order, moving the
   * mark past each page once its rows are printed (SQLite; on PostgreSQL nothing is above it).
   * Returns how many it printed.
   */
  private async backfillAboveMark(): Promise<number> {
    const { db } = this.deps;
    let printed = 0;
    const newest = await newestQuestionId(db);
    for (let mark = await queueMark(db); mark < newest; ) {
      if (this.closed) break;
      if (this.deps.busy?.()) {
        this.scheduleBackfill();
        break;
      }
      const through = Math.min(mark + PAGE, newest);
      const rows = await freshUnprintedBetween(db, mark, through);
      if (rows.length > 0) await this.printAndStore(rows);
      else await nextTurn();
      await moveQueueMark(db, mark, through);
      this.mark = through;
      printed += rows.length;
      mark = through;
    }
    return printed;
  }
}
