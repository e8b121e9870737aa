import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.ts';
import { nextTurn } from '../pace.ts';
import { checkGroup } from './check.ts';

/**
 * The questions waiting for a print are those on `question_backlog` and, on SQLite, the new
 * rows above `question_print_queue.queued_through` that lack a valid print (migration 014: an
 * import no longer puts its rows on the backlog). This module reads the second part; on
 * PostgreSQL the mark never moves and no row is above it.
 */

/** A question waiting for a print, with what printing it needs. */
export interface UnprintedRow {
  id: number;
  type_name: string;
  subject_name: string;
  channel_code: string;
  content: string;
  options: string | null;
  row_hash: string;
}

type Db = Kysely<Database>;

/** The questions matching `where` (over `questions q`) that lack a valid print, with what printing them needs. */
async function unprinted(db: Db, where: RawBuilder<unknown>, orderAndLimit: RawBuilder<unknown>): Promise<UnprintedRow[]> {
  const result = await sql<UnprintedRow>`
    SELECT q.id, q.type_name, q.subject_name, q.channel_code, q.content, q.options, q.row_hash FROM questions q
    WHERE ${where} AND NOT EXISTS (SELECT 1 FROM question_prints p WHERE p.question_id = q.id AND p.row_hash = q.row_hash)
    ${orderAndLimit}`.execute(db);
  return result.rows.map((row) => ({ ...row, id: Number(row.id) }));
}

/**
 * Group-index entries read per statement when looking for a group's new rows (~1 µs each with
 * the print lookup), and at most FRESH_ENTRIES in one walk: a check's catch-up stays a few
 * milliseconds at a time even when a task has printed a big group's new rows already.
 */
const FRESH_PAGE = 5000;
export const FRESH_ENTRIES = 4 * FRESH_PAGE;

export async function queueMark(db: Db): Promise<number> {
  const row = await db.selectFrom('question_print_queue').select('queued_through').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(row.queued_through);
}

/** One channel's group: type, subject and channel. */
export interface GroupKey {
  type_name: string;
  subject_name: string;
  channel_code: string;
}

/** What a walk down one group's new rows found, and how far it looked. */
export interface FreshWalk {
  /** The rows without a valid print, newest first. */
  rows: UnprintedRow[];
  /** Every row of the group with an id from `lowest` up to the walk's `below` was looked at. */
  lowest: number;
  /** The group's newest id the walk saw, or null when it saw none. */
  highest: number | null;
  /** Group-index entries read. */
  entries: number;
}

/**
 * Walks a group's rows with ids in (above, below) newest first, FRESH_PAGE group-index entries a
 * statement, for at most `maxEntries` entries: the rows among them without a valid print, up to
 * `limit` (a task prints the older ones; rows imported after it are the newest).
 */
export async function walkFreshOfGroup(db: Db, group: GroupKey, above: number, below: number, limit: number, maxEntries = FRESH_ENTRIES): Promise<FreshWalk> {
  const inGroup = sql`q.type_name = ${group.type_name} AND q.subject_name = ${group.subject_name} AND q.channel_code = ${group.channel_code}`;
  const walk: FreshWalk = { rows: [], lowest: below, highest: null, entries: 0 };
  while (walk.entries < maxEntries && walk.rows.length < limit) {
    if (walk.entries > 0) await nextTurn();
    const size = Math.min(FRESH_PAGE, maxEntries - walk.entries);
    // The page: the next `size` rows of the group going down, on the group index alone.
    const bounds = await sql<{ lowest: number | null; highest: number | null; rows: number }>`
      SELECT min(id) AS lowest, max(id) AS highest, count(*) AS rows FROM (
        SELECT q.id FROM questions q WHERE ${inGroup} AND q.id > ${above} AND q.id < ${walk.lowest} ORDER BY q.id DESC LIMIT ${size}) AS page`.execute(db);
    const page = bounds.rows[0]!;
    if (page.lowest === null) {
      walk.lowest = above + 1;
      break;
    }
    walk.highest ??= Number(page.highest);
    walk.entries += Number(page.rows);
    const waiting = await unprinted(db, sql`${inGroup} AND q.id >= ${page.lowest} AND q.id < ${walk.lowest}`, sql`ORDER BY q.id DESC LIMIT ${limit - walk.rows.length}`);
    walk.rows.push(...waiting);
    // Cut short at the limit: the page was looked at down to the last row taken.
    walk.lowest = walk.rows.length >= limit ? waiting[waiting.length - 1]!.id : Number(page.lowest);
    if (walk.rows.length < limit && Number(page.rows) < size) {
      walk.lowest = above + 1;
      break;
    }
  }
  return walk;
}

/**
 * The new rows with ids in (after, through] that lack a valid print, in id order: a page of
 * the backfill's walk above the mark. On SQLite `id` is the rowid, so this reads that range of
 * the table and nothing else.
 */
export function freshUnprintedBetween(db: Db, after: number, through: number): Promise<UnprintedRow[]> {
  return unprinted(db, sql`q.id > ${after} AND q.id <= ${through}`, sql`ORDER BY q.id`);
}

/**
 * Every question up to `through` now has a valid print or is on the backlog (the UPDATE
 * trigger queues a row changed meanwhile): the mark moves there, if nobody moved it first.
 */
export async function moveQueueMark(db: Db, from: number, through: number): Promise<void> {
  await db.updateTable('question_print_queue').set({ queued_through: through }).where('id', '=', 1).where('queued_through', '=', from).execute();
}

/**
 * Which of `groups` (type, subject and channel, each a `checkGroup` key) have questions on the
 * backlog: one statement for the groups of every check that comes at once (CoalescedReads),
 * where each asking for its own rows was a join planned and run per check, nearly always empty.
 */
export async function groupsOnBacklog(db: Db, groups: string[]): Promise<Map<string, true>> {
  // A key's three parts, as checkGroup joined them.
  const values = sql.join(groups.map((group) => sql`(${sql.join(group.split('\u0000'))})`));
  // VALUES columns are column1.. on both databases.
  const result = await sql<{ type_name: string; subject_name: string; channel_code: string }>`
    SELECT g.column1 AS type_name, g.column2 AS subject_name, g.column3 AS channel_code FROM (VALUES ${values}) AS g
    WHERE EXISTS (SELECT 1 FROM question_backlog b WHERE b.type_name = g.column1 AND b.subject_name = g.column2 AND b.channel_code = g.column3)`.execute(db);
  return new Map(result.rows.map((row) => [checkGroup(row.type_name, row.subject_name, row.channel_code), true]));
}

export async function newestQuestionId(db: Db): Promise<number> {
  const row = await db.selectFrom('questions').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}
