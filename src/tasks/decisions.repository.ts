import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { Database, GroupRow } from '../db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;
type GroupKey = Pick<GroupRow, 'type_name' | 'subject_name' | 'channel_code'>;

/**
 * The group's decisions from the task's last run that finished it, or null. Any finished
 * run will do: the snapshot names the rows and contents it decided, and the worker checks it.
 */
export async function loadDecisions(db: Db, taskId: number, group: GroupKey): Promise<Uint8Array | null> {
  const row = await db.selectFrom('dedup_group_decisions').select('decisions').where(isGroup(taskId, group)).executeTakeFirst();
  return row?.decisions ?? null;
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
