import { sql, type Kysely, type RawBuilder } from 'kysely';
import { TextPacker } from '../../workers/packed-texts.ts';
import type { DedupOptions, GroupJob } from '../../workers/protocol.ts';
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

export interface LoadedGroup {
  job: GroupJob;
  /** Per row of the job: the question's id, its row_hash (the version read) and its own (type, subject, channel) key, for the check index. */
  rows: (PrintedRow & { group: string })[];
}

/**
 * Reads a group's questions in id order, a page at a time, with their cached prints, into the
 * worker's job format. A question with a valid print is sent without its text (GroupJob.omitted):
 * the print is all the candidate search needs, and the worker asks (needContent) for the few
 * texts it must verify, which `withContents` then reads. A re-run after a small import so reads
 * the prints of the whole group but the texts of only the new questions and their candidates.
 */
export async function buildGroupJob(db: Kysely<Database>, group: GroupRow, opts: DedupOptions): Promise<LoadedGroup> {
  const rows: LoadedGroup['rows'] = [];
  // Texts go to the worker as UTF-8 bytes, never as JS strings on this thread (packed-texts.ts).
  const contents = new TextPacker();
  const contentUtf8 = unlessPrinted(utf8Of(db, 'q.content'));
  // Options too: short, but 150,000 strings cost ~15 ms to clone.
  const options = new TextPacker();
  const optionsUtf8 = unlessPrinted(utf8Of(db, 'q.options'));
  const fingerprints: (Uint8Array | null)[] = [];
  // One key string per channel, shared by its rows, not a new string per question.
  const keys = new Map<string, string>();
  const groupKeyOf = (channel: string) => {
    let key = keys.get(channel);
    if (key === undefined) keys.set(channel, (key = checkGroup(group.type_name, group.subject_name, channel)));
    return key;
  };
  let afterId = 0;
  for (;;) {
    let query = db
      .selectFrom('questions as q')
      // A print counts only for the version of the row it was computed from.
      .leftJoin('question_prints as p', (join) => join.onRef('p.question_id', '=', 'q.id').onRef('p.row_hash', '=', 'q.row_hash'))
      .select(['q.id', 'q.channel_code', contentUtf8.as('content_utf8'), optionsUtf8.as('options_utf8'), 'q.row_hash', 'p.print'])
      .where('q.type_name', '=', group.type_name)
      .where('q.subject_name', '=', group.subject_name);
    if (group.channel_code !== ALL_CHANNELS) query = query.where('q.channel_code', '=', group.channel_code);
    const page = await query.where('q.id', '>', afterId).orderBy('q.id').limit(PAGE_SIZE).execute();
    for (const row of page) {
      rows.push({ id: row.id, group: groupKeyOf(row.channel_code), rowHash: row.row_hash });
      if (row.print === null) {
        contents.add(row.content_utf8!);
        options.addOptional(row.options_utf8);
      } else {
        contents.addOmitted();
        options.addOmitted();
      }
      fingerprints.push(row.print);
    }
    if (page.length < PAGE_SIZE) break;
    afterId = page[page.length - 1]!.id;
    await nextTurn();
  }
  const omitted = contents.omitted();
  const job: GroupJob = { ids: Float64Array.from(rows, (row) => row.id), contents: contents.finish(), options: options.finish(), opts, prints: packPrints(fingerprints), omitted };
  return { job, rows };
}

/** Ids per query when reading the texts the worker asked for. */
const FETCH_CHUNK = 500;

/**
 * The job again, for a worker that asked for texts (GroupResult.needContent): the rows `need`
 * and the rows sent with their text the first time (those bytes moved into the worker with
 * the first job) are read from the database; the other omitted rows stay omitted. A row deleted
 * since goes as an empty text: the worker must never have to ask twice.
 */
export async function withContents(db: Kysely<Database>, job: GroupJob, need: Int32Array): Promise<GroupJob> {
  const n = job.ids.length;
  const wanted = new Uint8Array(n);
  for (const row of need) wanted[row] = 1;
  const rows: number[] = [];
  for (let row = 0; row < n; row++) {
    if (job.omitted?.[row] !== 1) wanted[row] = 1;
    if (wanted[row] === 1) rows.push(row);
  }
  const texts = new Map<number, { content: Uint8Array; options: Uint8Array | null }>();
  for (let start = 0; start < rows.length; start += FETCH_CHUNK) {
    if (start > 0) await nextTurn();
    const ids = rows.slice(start, start + FETCH_CHUNK).map((row) => job.ids[row]!);
    const found = await db
      .selectFrom('questions as q')
      .select(['q.id', utf8Of(db, 'q.content').as('content'), utf8Of(db, 'q.options').$castTo<Uint8Array | null>().as('options')])
      .where('q.id', 'in', ids)
      .execute();
    for (const row of found) texts.set(row.id, row);
  }
  const contents = new TextPacker();
  const options = new TextPacker();
  for (let row = 0; row < n; row++) {
    if (wanted[row] === 1) {
      const text = texts.get(job.ids[row]!);
      contents.add(text?.content ?? EMPTY);
      options.addOptional(text?.options ?? null);
    } else {
      contents.addOmitted();
      options.addOmitted();
    }
  }
  return { ...job, contents: contents.finish(), options: options.finish(), omitted: contents.omitted() };
}

const EMPTY = new Uint8Array(0);

/** NULL for a question with a valid print (p.print): its text is not read unless the worker asks. */
function unlessPrinted(bytes: RawBuilder<Uint8Array>): RawBuilder<Uint8Array | null> {
  return sql<Uint8Array | null>`CASE WHEN p.print IS NULL THEN ${bytes} END`;
}

/**
 * A text column as its UTF-8 bytes, read without building a JS string: SQLite gives a
 * Uint8Array for a BLOB cast (the stored bytes: the database's encoding is UTF-8), pg a
 * Buffer for bytea. NULL stays NULL.
 */
function utf8Of(db: Kysely<Database>, column: string): RawBuilder<Uint8Array> {
  const ref = sql.ref(column);
  return dialectOf(db) === 'postgres' ? sql<Uint8Array>`convert_to(${ref}, 'UTF8')` : sql<Uint8Array>`CAST(${ref} AS BLOB)`;
}
