import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import { dialectOf } from '../db/connect.ts';
import type { Database, GroupRow } from '../db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;
type GroupKey = Pick<GroupRow, 'type_name' | 'subject_name' | 'channel_code'>;

/**
 * Bytes of a group's decisions a row of PostgreSQL's answer carries (loadDecisions). pg hands a
 * bytea over as hex text and decodes a row in one stretch: read whole, the 4.6 MB decisions of a
 * 287,000-question group held the event loop 36–49 ms at once (64–102 ms of CPU), in slices
 * 20–33 ms (42–56 ms).
 */
const DECISIONS_SLICE = 512 * 1024;

/**
 * The group's decisions from the task's last run that finished it, or null. Any finished
 * run will do: the snapshot names the rows and contents it decided, and the worker checks it.
 * On PostgreSQL they come as rows of DECISIONS_SLICE bytes, each decoded as it arrives with the
 * event loop turning between them (stored uncompressed, a slice reads only its own part); bun:sqlite
 * hands a blob over as bytes.
 */
export async function loadDecisions(db: Db, taskId: number, group: GroupKey): Promise<Uint8Array | null> {
  if (dialectOf(db) === 'sqlite') {
    const row = await db.selectFrom('dedup_group_decisions').select('decisions').where(isGroup(taskId, group)).executeTakeFirst();
    return row?.decisions ?? null;
  }
  const rows = await db
    .selectFrom(['dedup_group_decisions', sql`generate_series(1, greatest(octet_length(decisions), 1), ${DECISIONS_SLICE})`.as('s')])
    .select(sql<Uint8Array>`substring(decisions FROM s FOR ${DECISIONS_SLICE})`.as('part'))
    .where(isGroup(taskId, group))
    .orderBy(sql`s`)
    .execute();
  if (rows.length === 0) return null;
  const decisions = new Uint8Array(rows.reduce((bytes, row) => bytes + row.part.byteLength, 0));
  let at = 0;
  for (const { part } of rows) {
    decisions.set(part, at);
    at += part.byteLength;
  }
  return decisions;
}

/** Forgets the group's decisions: its next run decides every pair afresh. */
export async function forgetDecisions(db: Db, taskId: number, group: GroupKey): Promise<void> {
  await db.deleteFrom('dedup_group_decisions').where(isGroup(taskId, group)).execute();
}

/** The row of the task's group in dedup_group_decisions. */
const isGroup = (taskId: number, group: GroupKey) => (eb: ExpressionBuilder<Database, 'dedup_group_decisions'>) =>
  eb.and([
    eb('task_id', '=', taskId),
    eb('type_name', '=', group.type_name),
    eb('subject_name', '=', group.subject_name),
    eb('channel_code', '=', group.channel_code),
  ]);

/** Keeps this run's decisions for the next one; without any (an older worker), forgets the old ones. */
export async function saveDecisions(db: Db, taskId: number, group: GroupKey, decisions: Uint8Array | undefined): Promise<void> {
  const key = { task_id: taskId, type_name: group.type_name, subject_name: group.subject_name, channel_code: group.channel_code };
  if (decisions === undefined) return forgetDecisions(db, taskId, group);
  // A Buffer: pg binds it as bytea (a bare Uint8Array it would not), bun:sqlite as a blob.
  const blob = Buffer.from(decisions.buffer, decisions.byteOffset, decisions.byteLength);
  await db
    .insertInto('dedup_group_decisions')
    .values({ ...key, decisions: blob })
    .onConflict((oc) => oc.columns(['task_id', 'type_name', 'subject_name', 'channel_code']).doUpdateSet({ decisions: blob }))
    .execute();
}
