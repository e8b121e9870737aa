/**
 * `GET /api/questions` and `GET /api/groups` on a bank of any size without holding the main
 * thread (issue 15). bun:sqlite runs every statement synchronously on the main thread, so on
 * SQLite no statement here may grow with the bank:
 *  - counts of whole groups come from `question_group_counts` (kept by triggers, migration 010);
 *  - text search (`q`) reads the FTS5 trigram index for rows it holds and a LIKE scan for the
 *    rows above its mark (the indexer's thread has not reached them yet), and so does a query
 *    of 1–2 characters everywhere (a trigram index cannot answer it);
 *  - anything else that must count or skip many rows (a deep page, a search's total, a filter
 *    the counts table cannot answer) walks the id space in ranges sized so each statement
 *    takes about RANGE_TARGET_MS, turning the event loop between them: the request takes
 *    longer on a big bank, every other request and socket event keeps flowing.
 * PostgreSQL's queries run in the server, so there a request only waits: `q` is an `ILIKE`
 * served by the `pg_trgm` GIN index (and a scan of the rows its background indexer has not
 * reached yet, migration 011), counts and OFFSET run as single statements.
 */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { dialectOf } from '../db/connect.ts';
import type { Database } from '../db/schema.ts';
import { nextTurn } from '../pace.ts';
import { applyFilter, escapeLike, rowToQuestion, type GroupFilter } from './question.repository.ts';
import type { Question } from './question.schema.ts';

type Db = Kysely<Database>;

/** Pages up to this deep are read with a plain OFFSET: ~5,000 index entries or rows stepped over, a few ms. */
const DIRECT_OFFSET = 5000;
/**
 * What one statement of a walk aims to take on the main thread. A range is sized from the one
 * before it, and a LIKE scan's cost a row varies (text lengths, early or no match): aimed at
 * 8 ms, ranges of a 1,000,000-question bank overshot to 40-58 ms (46 statements over 20 ms in
 * four searches); at 4 ms none did, and the searches took no longer (4.2-4.9 s, against 5.4-7.6).
 */
const RANGE_TARGET_MS = 4;
const MIN_RANGE = 64;
const MAX_RANGE = 1 << 24;
/**
 * The widest range a statement reads from the table itself (anything but an FTS5 lookup). Its
 * cost a row varies several-fold from one statement to the next: ~0.4 µs (16 KB pages) with the
 * pages in SQLite's cache, ~2 µs without, and SQLite drops a connection's page cache whenever
 * another connection has committed, which the search indexer's thread does every few ms while it
 * works. Ranges grown over cached pages then overshot on the next ones: count statements of 35-73
 * ms in a deep page of a 1,000,000-question bank at 16,384-65,536 rows. At 4,096 the slowest
 * health answers during that page fell from 47-54 to 25-34 ms (a statement read right after the
 * cache was dropped still took up to 37 ms; docs/no-stall.md, "Bounded walks").
 */
const MAX_READ_RANGE = 4096;
/** The trigram tokenizer indexes 3-character windows: a shorter query cannot be looked up. */
export const MIN_INDEXED_QUERY_CHARS = 3;

const GROUP_FIELDS = ['type_name', 'subject_name', 'channel_code'] as const;

/** True when the filter names groups only (no text search, nothing the group counts do not know). */
function groupsOnly(filter: GroupFilter): boolean {
  return Object.entries(filter).every(([key, value]) => value === undefined || (GROUP_FIELDS as readonly string[]).includes(key));
}

/** The filter without `q` and without the group fields, for applyFilter (fields added there later apply here too). */
function otherFields(filter: GroupFilter): Omit<GroupFilter, 'q'> {
  const { q: _q, type_name: _t, subject_name: _s, channel_code: _c, ...rest } = filter;
  return rest;
}

export async function listQuestions(db: Db, filter: GroupFilter, offset: number, limit: number): Promise<{ items: Question[]; total: number }> {
  if (dialectOf(db) === 'postgres') return listOnPostgres(db, filter, offset, limit);
  if (groupsOnly(filter)) {
    const total = await countFromGroups(db, filter);
    if (offset >= total) return { items: [], total };
    if (offset <= DIRECT_OFFSET) {
      const rows = await applyFilter(db.selectFrom('questions'), filter).selectAll().orderBy('id').limit(limit).offset(offset).execute();
      return { items: rows.map(rowToQuestion), total };
    }
    return { items: (await walk(db, filter, offset, limit, false)).items, total };
  }
  return walk(db, filter, offset, limit, true);
}

export interface GroupCount {
  type_name: string;
  subject_name: string;
  channel_code: string;
  question_count: number;
}

export async function listGroups(db: Db, filter: GroupFilter): Promise<GroupCount[]> {
  if (groupsOnly(filter)) {
    let query = db.selectFrom('question_group_counts').select(['type_name', 'subject_name', 'channel_code', 'question_count']);
    for (const field of GROUP_FIELDS) if (filter[field]) query = query.where(field, '=', filter[field]);
    const rows = await query.where('question_count', '>', 0).orderBy('type_name').orderBy('subject_name').orderBy('channel_code').execute();
    return rows.map((row) => ({ ...row, question_count: Number(row.question_count) }));
  }
  if (dialectOf(db) === 'postgres') {
    const rows = await withText(db, applyFilter(db.selectFrom('questions'), filter), filter.q)
      .select(['type_name', 'subject_name', 'channel_code', (eb) => eb.fn.countAll<number>().as('question_count')])
      .groupBy(['type_name', 'subject_name', 'channel_code'])
      .execute();
    return sortGroups(rows.map((row) => ({ ...row, question_count: Number(row.question_count) })));
  }
  const counts = new Map<string, GroupCount>();
  for await (const range of idRanges(db, filter)) {
    const rows = await range.query
      .select(['type_name', 'subject_name', 'channel_code', (eb) => eb.fn.countAll<number>().as('question_count')])
      .groupBy(['type_name', 'subject_name', 'channel_code'])
      .execute();
    for (const row of rows) {
      const key = `${row.type_name}\u0000${row.subject_name}\u0000${row.channel_code}`;
      const seen = counts.get(key);
      if (seen) seen.question_count += Number(row.question_count);
      else counts.set(key, { type_name: row.type_name, subject_name: row.subject_name, channel_code: row.channel_code, question_count: Number(row.question_count) });
    }
  }
  return sortGroups([...counts.values()]);
}

/** Code-point order, as SQLite's BINARY collation and PostgreSQL's C collation sort. */
function sortGroups(groups: GroupCount[]): GroupCount[] {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return groups.sort((a, b) => compare(a.type_name, b.type_name) || compare(a.subject_name, b.subject_name) || compare(a.channel_code, b.channel_code));
}

async function countFromGroups(db: Db, filter: GroupFilter): Promise<number> {
  let query = db.selectFrom('question_group_counts').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('question_count'), eb.lit(0)).as('total'));
  for (const field of GROUP_FIELDS) if (filter[field]) query = query.where(field, '=', filter[field]);
  return Number((await query.executeTakeFirstOrThrow()).total);
}

const likePattern = (q: string) => `%${escapeLike(q)}%`;

/**
 * PostgreSQL: `ILIKE` (case-insensitive, like SQLite's FTS5 trigram and LIKE; `LIKE` for a query
 * without cased characters, the same answer), read from the
 * pg_trgm index for the rows in it (`search_ready`) and from the pending rows' own index with
 * a scan of their text for the rest (migration 011: new rows are indexed in the background).
 * Two arms of a UNION ALL, not one OR: the planner factors a condition common to both arms of
 * an OR out of it, and the partial indexes would no longer match.
 */
function withText<O>(db: Db, query: SelectQueryBuilder<Database, 'questions', O>, q: string | undefined) {
  if (!q) return query;
  const pattern = likePattern(q);
  const like = caseless(q) ? sql`like` : sql`ilike`;
  return query.where(
    sql<boolean>`id in (select id from questions where search_ready and content ${like} ${pattern} escape '\\'
      union all select id from questions where not search_ready and content ${like} ${pattern} escape '\\')`,
  );
}

/**
 * True when no character of `q` has a case (Chinese, digits, punctuation): LIKE then matches
 * exactly what ILIKE would, without lowercasing every text it reads (about half the server's
 * time of a scan of rows not yet indexed: 0.5-1.0 s against 1.6-1.9 s for 60,000 GAOKAO
 * questions). JavaScript's case mappings cover every Unicode letter, PostgreSQL's no more.
 */
const caseless = (q: string) => q.toLowerCase() === q && q.toUpperCase() === q;

async function listOnPostgres(db: Db, filter: GroupFilter, offset: number, limit: number) {
  const base = withText(db, applyFilter(db.selectFrom('questions'), filter), filter.q);
  const [rows, total] = await Promise.all([
    base.selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    groupsOnly(filter) ? countFromGroups(db, filter) : base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow().then((row) => Number(row.count)),
  ]);
  return { items: rows.map(rowToQuestion), total };
}

/**
 * SQLite: the page at `offset` and, if `needTotal`, the number of matching questions, found by
 * counting matches range by range in id order.
 */
async function walk(db: Db, filter: GroupFilter, offset: number, limit: number, needTotal: boolean) {
  const items: Question[] = [];
  let seen = 0;
  for await (const range of idRanges(db, filter)) {
    const { count } = await range.query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    const matches = Number(count);
    if (items.length < limit && seen + matches > offset) {
      const rows = await range.query.selectAll().orderBy('id').limit(limit - items.length).offset(Math.max(0, offset - seen)).execute();
      for (const row of rows) items.push(rowToQuestion(row));
    }
    seen += matches;
    if (!needTotal && items.length >= limit) break;
  }
  return { items, total: seen };
}

interface IdRange {
  /** The questions matching the filter with ids in this range. */
  query: SelectQueryBuilder<Database, 'questions', {}>;
}

/**
 * The filter as one query per id range, ascending, each range sized from the time the caller
 * took over the previous one, with a turn of the event loop between ranges.
 */
async function* idRanges(db: Db, filter: GroupFilter): AsyncGenerator<IdRange> {
  const q = filter.q;
  const { maxId } = await db.selectFrom('questions').select((eb) => eb.fn.max('id').as('maxId')).executeTakeFirstOrThrow();
  const last = Number(maxId ?? 0);
  const indexedThrough = q && [...q].length >= MIN_INDEXED_QUERY_CHARS ? await searchMark(db) : 0;
  // With the whole group named, its index holds the range; otherwise the rowid range must drive the
  // scan (a unary + keeps SQLite from walking a whole type's index entries for every range).
  const wholeGroup = GROUP_FIELDS.every((field) => filter[field]);
  // Small at first: a LIKE scan of long texts can cost ~10 µs a row on a busy machine.
  const START = 1024;
  let size = START;
  for (let lo = 0; lo < last; ) {
    // Past the index's mark a range costs a LIKE scan of every row, not an index lookup: what the
    // index ranges grew to (a million ids) says nothing about it, so sizing starts over.
    if (q && lo === indexedThrough && lo > 0) size = START;
    let hi = Math.min(last, lo + size);
    const indexed = lo < indexedThrough;
    if (indexed && hi > indexedThrough) hi = indexedThrough;
    let query = applyFilter(db.selectFrom('questions'), otherFields(filter)).where('id', '>', lo).where('id', '<=', hi);
    for (const field of GROUP_FIELDS) {
      const value = filter[field];
      if (value) query = wholeGroup ? query.where(field, '=', value) : query.where(sql.raw<string>(`+${field}`), '=', value);
    }
    if (q && indexed) {
      query = query.where(sql<boolean>`id in (select rowid from questions_fts where questions_fts match ${phrase(q)} and rowid > ${lo} and rowid <= ${hi})`);
    } else if (q) query = query.where(sql<boolean>`content like ${likePattern(q)} escape '\\'`);
    const began = performance.now();
    yield { query: query as unknown as SelectQueryBuilder<Database, 'questions', {}> };
    const took = performance.now() - began;
    const widest = q && indexed ? MAX_RANGE : MAX_READ_RANGE;
    size = Math.max(MIN_RANGE, Math.min(widest, size * 2, Math.round((size * RANGE_TARGET_MS) / Math.max(took, 0.25))));
    lo = hi;
    await nextTurn();
  }
}

/** An FTS5 query matching `q` as one substring: a quoted phrase (inner quotes doubled), which the trigram tokenizer reads as consecutive trigrams. */
const phrase = (q: string) => `"${q.replaceAll('"', '""')}"`;

/** Questions with ids up to this are in the FTS5 index. */
async function searchMark(db: Db): Promise<number> {
  const row = await db.selectFrom('question_search_state').select('indexed_through').where('id', '=', 1).executeTakeFirst();
  return Number(row?.indexed_through ?? 0);
}
