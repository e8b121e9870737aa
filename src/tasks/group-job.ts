import type { Kysely } from 'kysely';
import type { DedupOptions, GroupJob } from '../../workers/protocol.ts';
import type { Database, GroupRow } from '../db/schema.ts';
import { ALL_CHANNELS } from './task.schema.ts';

/** Rows read per query: small enough that one read never stalls the event loop for long. */
const PAGE_SIZE = 5000;

/** Reads a group's questions in id order, a page at a time, into the worker's job format. */
export async function buildGroupJob(db: Kysely<Database>, group: GroupRow, opts: DedupOptions): Promise<GroupJob> {
  const ids: number[] = [];
  const contents: string[] = [];
  const options: (string | null)[] = [];
  let afterId = 0;
  for (;;) {
    let query = db
      .selectFrom('questions')
      .select(['id', 'content', 'options'])
      .where('type_name', '=', group.type_name)
      .where('subject_name', '=', group.subject_name);
    if (group.channel_code !== ALL_CHANNELS) query = query.where('channel_code', '=', group.channel_code);
    const page = await query.where('id', '>', afterId).orderBy('id').limit(PAGE_SIZE).execute();
    for (const row of page) {
      ids.push(row.id);
      contents.push(row.content);
      options.push(row.options);
    }
    if (page.length < PAGE_SIZE) break;
    afterId = page[page.length - 1]!.id;
  }
  return { ids: Float64Array.from(ids), contents, options, opts };
}
