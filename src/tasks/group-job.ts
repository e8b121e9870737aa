import { sql, type Kysely, type RawBuilder } from 'kysely';
import { TextPacker } from '../../workers/packed-texts.ts';
import { FINGERPRINT_WORDS, type DedupOptions, type FetchedTexts, type GroupJob } from '../../workers/protocol.ts';
import { checkGroup } from '../dedup/check.ts';
import { packPrints, type PrintedRow } from '../dedup/fingerprints.ts';
import { dialectOf } from '../db/connect.ts';
import type { Database, GroupRow } from '../db/schema.ts';
import { nextTurn } from '../pace.ts';
import { ALL_CHANNELS } from './task.schema.ts';

/**
 * Rows read per query. bun:sqlite reads synchronously, so each page is one uninterrupted
 * stretch of the main thread (~1 KB of text a row: 2,000 rows take ~10-20 ms), and the loop
 * yields between pages: a 100,000-row group is read in 50 short steps, not one long stall.
 */
const PAGE_SIZE = 2000;

/** Rows per page of a prints-only read: ~100 bytes a row instead of ~1 KB. */
const PRINT_PAGE_SIZE = 5000;
/** Question ids per IN list when texts are read by id. */
const IDS_PER_QUERY = 500;
const PRINT_BYTES = FINGERPRINT_WORDS * 4;

/** A question as read with its text: the version read and its own (type, subject, channel) key, for the check index. */
export interface ReadVersion {
  rowHash: string;
  group: string;
}

export interface LoadedGroup {
  job: GroupJob;
  /** The question id of each job row: a copy kept on this side (the job's own array is moved to the worker). */
  ids: Float64Array;
  /** Per job row read with its text, its version (the print the worker computes from it is stored for it); a hole for a row sent without. */
  versions: (ReadVersion | undefined)[];
}

/** The rows of a group whose prints the worker computed, as the print store wants them. */
export function printedRows(loaded: LoadedGroup, fresh: Uint8Array): (PrintedRow & { row: number; group: string })[] {
  const out: (PrintedRow & { row: number; group: string })[] = [];
  for (let row = 0; row < fresh.length; row++) {
    if (fresh[row] !== 1) continue;
    const version = loaded.versions[row];
    // A row sent without its text is never recomputed (its print is vouched for); if it were, its version is unknown here.
    if (version !== undefined) out.push({ row, id: loaded.ids[row]!, rowHash: version.rowHash, group: version.group });
  }
  return out;
}

export interface ReadOptions {
  /**
   * Leave out the texts of rows with a stored print (GroupJob.omitted): the worker fetches the
   * few it must read over a text channel (readTexts). For re-runs, where the previous run's
   * decisions settle almost every pair without a text.
   */
  omitPrinted?: boolean;
  /** With omitPrinted: where rows' current prints are kept in memory, so they need not be read (the check index). */
  printsFrom?: PrintSource;
  /** Take in questions resolved as duplicates (a task's include_resolved); left out otherwise. */
  includeResolved?: boolean;
  /** Awaited between two pages of the read (a turn of the event loop by default; the runner also lets checks in flight go first). */
  betweenPages?: () => Promise<void>;
}

/** Rows' prints kept in memory by the version of the row they were computed from. */
export interface PrintSource {
  /**
   * Writes the print of each question of `rows` (id and current row_hash) at out[(first + k) * FINGERPRINT_WORDS..]
   * where it holds one for that version; returns the k of those it holds none for, ascending.
   */
  printsFor(rows: readonly { id: number; row_hash: string }[], out: Uint32Array, first: number): number[];
}

/** Reads a group into the worker's job format: every text, or (omitPrinted) only those without a stored print. */
export function buildGroupJob(db: Kysely<Database>, group: GroupRow, opts: DedupOptions, read: ReadOptions = {}): Promise<LoadedGroup> {
  const rows = { group, includeResolved: read.includeResolved ?? false, betweenPages: read.betweenPages ?? nextTurn };
  return read.omitPrinted ? readPrintsFirst(db, rows, opts, read.printsFrom) : readEveryText(db, rows, opts);
}

/** The rows a group job reads: the group's questions, resolved duplicates in or out. */
interface GroupRows {
  group: GroupRow;
  betweenPages: () => Promise<void>;
  includeResolved: boolean;
}

/**
 * Reads a group's questions in id order, a page at a time, with their cached prints, into the
 * worker's job format. A print read with its text in one query, matched to the row's current
 * version, is vouched for (GroupJob.vouched): the worker takes it without decoding and hashing
 * the text, and reads the text only to verify a pair. A first run reads this way: it verifies
 * most rows, and a range scan reads their texts faster than lookups by id.
 */
async function readEveryText(db: Kysely<Database>, rows: GroupRows, opts: DedupOptions): Promise<LoadedGroup> {
  const { group } = rows;
  const ids: number[] = [];
  const versions: ReadVersion[] = [];
  // Texts go to the worker as UTF-8 bytes, never as JS strings on this thread (packed-texts.ts).
  const contents = new TextPacker();
  // Options too: short, but 150,000 strings cost ~15 ms to clone.
  const options = new TextPacker();
  const fingerprints: (Uint8Array | null)[] = [];
  const vouched: number[] = [];
  const groupKeyOf = groupKeys(group);
  let afterId = 0;
  for (;;) {
    const page = await groupQuery(db, rows)
      // A print counts only for the version of the row it was computed from.
      .leftJoin('question_prints as p', (join) => join.onRef('p.question_id', '=', 'q.id').onRef('p.row_hash', '=', 'q.row_hash'))
      .select(['q.id', 'q.channel_code', utf8Of(db, 'q.content').as('content_utf8'), optionsUtf8(db).as('options_utf8'), 'q.row_hash', 'p.print'])
      .where('q.id', '>', afterId)
      .orderBy('q.id')
      .limit(PAGE_SIZE)
      .execute();
    for (const row of page) {
      ids.push(row.id);
      versions.push({ group: groupKeyOf(row.channel_code), rowHash: row.row_hash });
      contents.add(row.content_utf8);
      options.addOptional(row.options_utf8);
      vouched.push(row.print === null ? 0 : 1);
      fingerprints.push(row.print);
    }
    if (page.length < PAGE_SIZE) break;
    afterId = page[page.length - 1]!.id;
    await rows.betweenPages();
  }
  const job: GroupJob = {
    ids: Float64Array.from(ids),
    contents: contents.finish(),
    options: options.finish(),
    opts,
    prints: packPrints(fingerprints),
    vouched: Uint8Array.from(vouched),
  };
  return { job, ids: job.ids.slice(), versions };
}

/**
 * Every row's id and print first, along the questions_group index alone (it holds row_hash, so
 * no ~1 KB question record is read): the print from `source` where it has the row's current
 * version (no print is read at all), else the stored one. Then the texts (and stored prints) of
 * the rows without (new or changed since printed) by id. A row deleted between the two reads is
 * left out. Typed arrays, not an object per row: a re-run reads a million rows this way.
 */
async function readPrintsFirst(db: Kysely<Database>, groupRows: GroupRows, opts: DedupOptions, source?: PrintSource): Promise<LoadedGroup> {
  const { group } = groupRows;
  let ids = new Float64Array(Math.max(16, group.question_count));
  let prints = new Uint32Array(ids.length * FINGERPRINT_WORDS);
  let count = 0;
  // Positions (in ids) of the rows without a print, ascending.
  const unprinted: number[] = [];
  let afterId = 0;
  for (;;) {
    const query = groupQuery(db, groupRows).where('q.id', '>', afterId).orderBy('q.id').limit(PRINT_PAGE_SIZE);
    // Joining each row to its stored print was two thirds of a re-run's reading on SQLite.
    const page = source
      ? await query.select(['q.id', 'q.row_hash']).execute()
      : await query
          .leftJoin('question_prints as p', (join) => join.onRef('p.question_id', '=', 'q.id').onRef('p.row_hash', '=', 'q.row_hash'))
          .select(['q.id', 'p.print'])
          .execute();
    if (count + page.length > ids.length) {
      // More rows than counted when the run began (imported since): grow.
      const grown = new Float64Array(2 * (count + page.length));
      grown.set(ids.subarray(0, count));
      ids = grown;
      const grownPrints = new Uint32Array(grown.length * FINGERPRINT_WORDS);
      grownPrints.set(prints.subarray(0, count * FINGERPRINT_WORDS));
      prints = grownPrints;
    }
    if (source) {
      const rows = page as { id: number; row_hash: string }[];
      for (const k of source.printsFor(rows, prints, count)) unprinted.push(count + k);
      for (const row of rows) ids[count++] = row.id;
    } else {
      const bytes = new Uint8Array(prints.buffer);
      for (const row of page as { id: number; print: Uint8Array | null }[]) {
        ids[count] = row.id;
        // A blob of another size is no print the worker could use: its text is read instead.
        if (row.print !== null && row.print.byteLength === PRINT_BYTES) bytes.set(row.print, count * PRINT_BYTES);
        else unprinted.push(count);
        count++;
      }
    }
    if (page.length < PRINT_PAGE_SIZE) break;
    afterId = page[page.length - 1]!.id;
    await groupRows.betweenPages();
  }

  // The job's rows: the printed ones without text, the others with theirs (if still there),
  // compacted in place over the arrays read.
  const groupKeyOf = groupKeys(group);
  const versions: (ReadVersion | undefined)[] = [];
  const contents = new TextPacker();
  const options = new TextPacker();
  // The rows left out, and those read with a stored print (one the source did not have): their prints are vouched for.
  const vouched = new Uint8Array(count);
  let rows = 0;
  /** The printed rows at positions [from, to): left out, moved up as one block if a row before them was dropped. */
  const keepPrinted = (from: number, to: number) => {
    if (to <= from) return;
    if (rows !== from) {
      ids.copyWithin(rows, from, to);
      prints.copyWithin(rows * FINGERPRINT_WORDS, from * FINGERPRINT_WORDS, to * FINGERPRINT_WORDS);
    }
    vouched.fill(1, rows, rows + to - from);
    contents.addOmitted(to - from);
    options.addEmpty(to - from);
    rows += to - from;
  };
  // Blocks only move up (rows <= position), so the positions not reached yet still hold what was read.
  let reached = 0;
  for (let start = 0; start < unprinted.length; start += IDS_PER_QUERY) {
    const chunk = unprinted.slice(start, start + IDS_PER_QUERY);
    const texts = await readTextRows(db, chunk.map((position) => ids[position]!), true);
    for (const position of chunk) {
      keepPrinted(reached, position);
      reached = position + 1;
      const id = ids[position]!;
      const text = texts.get(id);
      // Deleted since the first read: left out.
      if (text === undefined) continue;
      ids[rows] = id;
      versions[rows] = { group: groupKeyOf(text.channel_code), rowHash: text.row_hash };
      contents.add(text.content_utf8);
      options.addOptional(text.options_utf8);
      const at = rows * FINGERPRINT_WORDS;
      if (text.print != null && text.print.byteLength === PRINT_BYTES) {
        new Uint8Array(prints.buffer).set(text.print, at * 4);
        vouched[rows] = 1;
      } else prints.fill(0, at, at + FINGERPRINT_WORDS);
      rows++;
    }
  }
  keepPrinted(reached, count);
  const omitted = contents.omitted();
  const job: GroupJob = {
    ids: fitted(ids, rows),
    contents: contents.finish(),
    options: options.finish(),
    opts,
    prints: fitted(prints, rows * FINGERPRINT_WORDS),
    omitted,
    // A row left out is vouched for: its print was read (or kept) matched to the row's current version.
    vouched: fitted(vouched, rows),
  };
  versions.length = rows;
  return { job, ids: job.ids.slice(), versions };
}

/**
 * The first `length` elements as an array of its own buffer (moved to the worker whole): the
 * array itself when it is just that long (sized by the group's count, it usually is), else a copy.
 * A copy of a million rows' prints was 64 MB to allocate and fill on this thread per re-run.
 */
function fitted<T extends Float64Array | Uint32Array | Uint8Array>(array: T, length: number): T {
  return (array.length === length ? array : array.slice(0, length)) as T;
}

interface TextRow {
  id: number;
  channel_code: string;
  row_hash: string;
  content_utf8: Uint8Array;
  options_utf8: Uint8Array | null;
  /** With withPrints: the print stored for this version of the row, if any. */
  print?: Uint8Array | null;
}

async function readTextRows(db: Kysely<Database>, ids: readonly number[], withPrints = false): Promise<Map<number, TextRow>> {
  const query = db
    .selectFrom('questions as q')
    .select(['q.id', 'q.channel_code', 'q.row_hash', utf8Of(db, 'q.content').as('content_utf8'), optionsUtf8(db).as('options_utf8')])
    .where('q.id', 'in', ids);
  const found: TextRow[] = withPrints
    ? await query
        // A print counts only for the version of the row it was computed from.
        .leftJoin('question_prints as p', (join) => join.onRef('p.question_id', '=', 'q.id').onRef('p.row_hash', '=', 'q.row_hash'))
        .select('p.print')
        .execute()
    : await query.execute();
  return new Map(found.map((row) => [row.id, row]));
}

/**
 * The current texts of some questions, packed in the order given, for a worker's text channel
 * (GroupJob.texts); a question deleted meanwhile comes back as an empty text.
 */
export async function readTexts(db: Kysely<Database>, ids: readonly number[]): Promise<FetchedTexts> {
  const contents = new TextPacker();
  const options = new TextPacker();
  for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
    if (start > 0) await nextTurn();
    const chunk = ids.slice(start, start + IDS_PER_QUERY);
    const texts = await readTextRows(db, chunk);
    for (const id of chunk) {
      const text = texts.get(id);
      contents.add(text?.content_utf8 ?? EMPTY);
      options.addOptional(text?.options_utf8 ?? null);
    }
  }
  return { contents: contents.finish(), options: options.finish() };
}

const EMPTY = new Uint8Array(0);

/**
 * The group's questions (alias q), by its key: one channel, or every channel of its type and
 * subject; without resolved duplicates unless asked (questions_group holds duplicate_of, so the
 * read stays on the index).
 */
function groupQuery(db: Kysely<Database>, { group, includeResolved }: GroupRows) {
  let query = db.selectFrom('questions as q').where('q.type_name', '=', group.type_name).where('q.subject_name', '=', group.subject_name);
  if (!includeResolved) query = query.where('q.duplicate_of', 'is', null);
  return group.channel_code === ALL_CHANNELS ? query : query.where('q.channel_code', '=', group.channel_code);
}

/** The check index's key per channel, one string shared by the channel's rows. */
function groupKeys(group: GroupRow): (channel: string) => string {
  const keys = new Map<string, string>();
  return (channel) => {
    let key = keys.get(channel);
    if (key === undefined) keys.set(channel, (key = checkGroup(group.type_name, group.subject_name, channel)));
    return key;
  };
}

const optionsUtf8 = (db: Kysely<Database>) => utf8Of(db, 'q.options').$castTo<Uint8Array | null>();

/**
 * A text column as its UTF-8 bytes, read without building a JS string: SQLite gives a
 * Uint8Array for a BLOB cast (the stored bytes: the database's encoding is UTF-8), pg a
 * Buffer for bytea. NULL stays NULL.
 */
function utf8Of(db: Kysely<Database>, column: string): RawBuilder<Uint8Array> {
  const ref = sql.ref(column);
  return dialectOf(db) === 'postgres' ? sql<Uint8Array>`convert_to(${ref}, 'UTF8')` : sql<Uint8Array>`CAST(${ref} AS BLOB)`;
}
