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
 * worker's job format. A print read with its text in one query, matched to the row's current
 * version, is vouched for (GroupJob.vouched): the worker takes it without decoding and hashing
 * the text, and reads the text only to verify a pair. (Leaving such texts out and sending the
 * ones the worker asks for cost a second trip, in which the worker searched all candidates
 * again: a re-run took 22 % of a cold run that way.)
 */
export async function buildGroupJob(db: Kysely<Database>, group: GroupRow, opts: DedupOptions): Promise<LoadedGroup> {
  const rows: LoadedGroup['rows'] = [];
  // Texts go to the worker as UTF-8 bytes, never as JS strings on this thread (packed-texts.ts).
  const contents = new TextPacker();
  const contentUtf8 = utf8Of(db, 'q.content');
  // Options too: short, but 150,000 strings cost ~15 ms to clone.
  const options = new TextPacker();
  const optionsUtf8 = utf8Of(db, 'q.options').$castTo<Uint8Array | null>();
  const fingerprints: (Uint8Array | null)[] = [];
  const vouched: number[] = [];
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
      contents.add(row.content_utf8);
      options.addOptional(row.options_utf8);
      vouched.push(row.print === null ? 0 : 1);
      fingerprints.push(row.print);
    }
    if (page.length < PAGE_SIZE) break;
    afterId = page[page.length - 1]!.id;
    await nextTurn();
  }
  const job: GroupJob = {
    ids: Float64Array.from(rows, (row) => row.id),
    contents: contents.finish(),
    options: options.finish(),
    opts,
    prints: packPrints(fingerprints),
    vouched: Uint8Array.from(vouched),
  };
  return { job, rows };
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
