import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, GroupRow, Scope, TaskRow, TaskStatus } from '../db/schema.ts';
import { AppError } from '../http/errors.ts';
import { ALL_CHANNELS, progressPercentage, type Task, type TaskFilters } from './task.schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

export function rowToTask(row: TaskRow): Task {
  return {
    id: row.id,
    task_name: row.task_name,
    status: row.status,
    scope: row.scope,
    filters: JSON.parse(row.filters),
    max_distance: row.max_distance,
    min_similarity: row.min_similarity,
    total_groups: row.total_groups,
    processed_groups: row.processed_groups,
    progress_percentage: progressPercentage(row.processed_groups, row.total_groups, row.status),
    total_questions: row.total_questions,
    processed_questions: row.processed_questions,
    duplicate_count: row.duplicate_count,
    cluster_count: row.cluster_count,
    error: row.error,
    created_at: row.created_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
  };
}

export interface NewTask {
  task_name: string;
  filters: TaskFilters;
  scope: Scope;
  max_distance: number;
  min_similarity: number;
}

export async function insertTask(db: Db, task: NewTask, now: string): Promise<TaskRow> {
  return db
    .insertInto('dedup_tasks')
    .values({ ...task, filters: JSON.stringify(task.filters), status: 'pending', created_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findTaskRow(db: Db, id: number): Promise<TaskRow | undefined> {
  return db.selectFrom('dedup_tasks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getTaskRow(db: Db, id: number): Promise<TaskRow> {
  const row = await findTaskRow(db, id);
  if (!row) throw new AppError(404, `task ${id} not found`);
  return row;
}

export async function listTasks(db: Db, status: TaskStatus | undefined, offset: number, limit: number) {
  let query = db.selectFrom('dedup_tasks');
  if (status) query = query.where('status', '=', status);
  const [rows, total] = await Promise.all([
    query.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(rowToTask), total: Number(total.count) };
}

export async function deleteTask(db: Kysely<Database>, id: number): Promise<TaskRow> {
  return db.transaction().execute(async (trx) => {
    const row = await getTaskRow(trx, id);
    if (row.status === 'running') throw new AppError(409, `task ${id} is running; cancel it first`);
    await trx.deleteFrom('dedup_tasks').where('id', '=', id).execute();
    return row;
  });
}

/** The task's groups as they stand in the bank right now: `(type, subject, channel)`, or `(type, subject)` across channels. */
async function countGroups(db: Db, task: TaskRow) {
  const filters: TaskFilters = JSON.parse(task.filters);
  let query = db.selectFrom('questions');
  if (filters.type_names) query = query.where('type_name', 'in', filters.type_names);
  if (filters.subject_names) query = query.where('subject_name', 'in', filters.subject_names);
  if (filters.channel_codes) query = query.where('channel_code', 'in', filters.channel_codes);
  if (task.scope === 'subject') {
    const rows = await query
      .select((eb) => ['type_name', 'subject_name', eb.fn.countAll<number>().as('question_count')])
      .groupBy(['type_name', 'subject_name'])
      .orderBy('type_name')
      .orderBy('subject_name')
      .execute();
    return rows.map((row) => ({ ...row, channel_code: ALL_CHANNELS, question_count: Number(row.question_count) }));
  }
  const rows = await query
    .select((eb) => ['type_name', 'subject_name', 'channel_code', eb.fn.countAll<number>().as('question_count')])
    .groupBy(['type_name', 'subject_name', 'channel_code'])
    .orderBy('type_name')
    .orderBy('subject_name')
    .orderBy('channel_code')
    .execute();
  return rows.map((row) => ({ ...row, question_count: Number(row.question_count) }));
}

const GROUP_INSERT_CHUNK = 500;

/**
 * Starts a fresh run: the task's groups become `pending` rows (replacing an earlier run's
 * groups and clusters) and the counters restart. 409 while a run is under way.
 */
export async function beginRun(db: Kysely<Database>, id: number, now: string): Promise<TaskRow> {
  return db.transaction().execute(async (trx) => {
    const task = await getTaskRow(trx, id);
    if (task.status === 'running') throw new AppError(409, `task ${id} is already running`);
    await trx.deleteFrom('dedup_task_groups').where('task_id', '=', id).execute();
    const groups = await countGroups(trx, task);
    for (let start = 0; start < groups.length; start += GROUP_INSERT_CHUNK) {
      await trx
        .insertInto('dedup_task_groups')
        .values(groups.slice(start, start + GROUP_INSERT_CHUNK).map((group) => ({ ...group, task_id: id, status: 'pending' as const })))
        .execute();
    }
    return trx
      .updateTable('dedup_tasks')
      .set({
        status: 'running',
        total_groups: groups.length,
        processed_groups: 0,
        total_questions: groups.reduce((sum, group) => sum + group.question_count, 0),
        processed_questions: 0,
        duplicate_count: 0,
        cluster_count: 0,
        error: null,
        run_number: task.run_number + 1,
        started_at: now,
        finished_at: null,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** Takes the next pending group of a running task, or nothing when none is left. */
export async function claimPendingGroup(db: Db, taskId: number, now: string): Promise<GroupRow | undefined> {
  return db
    .updateTable('dedup_task_groups')
    .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), started_at: now, error: null }))
    .where('id', '=', (eb) =>
      eb
        .selectFrom('dedup_task_groups')
        .select('id')
        .where('task_id', '=', taskId)
        .where('status', '=', 'pending')
        .orderBy('id')
        .limit(1),
    )
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

/** Groups left `running` by a stopped or crashed process go back to the queue. */
export async function requeueRunningGroups(db: Db, taskId: number): Promise<void> {
  await db
    .updateTable('dedup_task_groups')
    .set({ status: 'pending' })
    .where('task_id', '=', taskId)
    .where('status', '=', 'running')
    .execute();
}

/** A claimed group that a shutdown kept from running (or cut short) goes back without spending an attempt. */
export async function unclaimGroup(db: Db, groupId: number): Promise<void> {
  await db
    .updateTable('dedup_task_groups')
    .set((eb) => ({ status: 'pending', attempts: eb('attempts', '-', 1) }))
    .where('id', '=', groupId)
    .where('status', '=', 'running')
    .execute();
}

export async function requeueGroup(db: Db, groupId: number, error: string): Promise<void> {
  await db.updateTable('dedup_task_groups').set({ status: 'pending', error }).where('id', '=', groupId).execute();
}

export async function markGroupFailed(db: Db, groupId: number, error: string, now: string): Promise<void> {
  await db.updateTable('dedup_task_groups').set({ status: 'failed', error, finished_at: now }).where('id', '=', groupId).execute();
}

export function findFailedGroup(db: Db, taskId: number): Promise<GroupRow | undefined> {
  return db.selectFrom('dedup_task_groups').selectAll().where('task_id', '=', taskId).where('status', '=', 'failed').orderBy('id').limit(1).executeTakeFirst();
}

export async function countUnfinishedGroups(db: Db, taskId: number): Promise<number> {
  const row = await db
    .selectFrom('dedup_task_groups')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('task_id', '=', taskId)
    .where('status', '!=', 'done')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Ends a run, but only the run that is still current: a late or stale caller changes nothing. */
export async function finishRun(
  db: Db,
  taskId: number,
  runNumber: number,
  status: Exclude<TaskStatus, 'pending' | 'running'>,
  error: string | null,
  now: string,
): Promise<TaskRow | undefined> {
  return db
    .updateTable('dedup_tasks')
    .set({ status, error, finished_at: now })
    .where('id', '=', taskId)
    .where('run_number', '=', runNumber)
    .where('status', '=', 'running')
    .returningAll()
    .executeTakeFirst();
}

export function listTaskGroups(db: Db, taskId: number) {
  return db
    .selectFrom('dedup_task_groups')
    .select(['id', 'type_name', 'subject_name', 'channel_code', 'status', 'question_count', 'duplicate_count', 'cluster_count', 'attempts', 'elapsed_ms', 'error', 'started_at', 'finished_at'])
    .where('task_id', '=', taskId)
    .orderBy('id')
    .execute();
}

export const incrementBy = (column: string, amount: number) => sql<number>`${sql.ref(column)} + ${amount}`;
