import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Database, GroupRow, Scope, TaskRow, TaskStatus } from '../db/schema.ts';
import { AppError } from '../http/errors.ts';
import { forgetDecisions } from './decisions.repository.ts';
import { nextTurn } from '../pace.ts';
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
    reviewed_cluster_count: row.reviewed_cluster_count,
    confirmed_cluster_count: row.confirmed_cluster_count,
    dismissed_cluster_count: row.dismissed_cluster_count,
    include_resolved: row.include_resolved === 1,
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
  include_resolved?: boolean;
}

export async function insertTask(db: Db, { include_resolved, ...task }: NewTask, now: string): Promise<TaskRow> {
  return db
    .insertInto('dedup_tasks')
    .values({ ...task, filters: JSON.stringify(task.filters), include_resolved: include_resolved ? 1 : 0, status: 'pending', created_at: now })
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

interface GroupCount {
  type_name: string;
  subject_name: string;
  channel_code: string;
  question_count: number;
}

/** Statements between turns of the event loop while a run counts its groups. */
const STATEMENTS_PER_TURN = 32;

type GroupKey = Pick<GroupCount, 'type_name' | 'subject_name' | 'channel_code'>;

/**
 * Every (type, subject, channel) in the bank, in index order, each found by one seek along the
 * questions_group index from the one before (the next channel of its type and subject, else
 * the next subject of its type, else the next type): no question is read on the way.
 */
async function bankGroupKeys(db: Db): Promise<GroupKey[]> {
  const questions = db.selectFrom('questions').select(['type_name', 'subject_name', 'channel_code']).limit(1);
  let sinceTurn = 0;
  const seek = async (query: typeof questions): Promise<GroupKey | undefined> => {
    if (++sinceTurn === STATEMENTS_PER_TURN) {
      sinceTurn = 0;
      await nextTurn();
    }
    return query.executeTakeFirst();
  };
  const keys: GroupKey[] = [];
  let next = await seek(questions.orderBy('type_name').orderBy('subject_name').orderBy('channel_code'));
  while (next) {
    const at: GroupKey = next;
    keys.push(at);
    const sameSubject = questions.where('type_name', '=', at.type_name).where('subject_name', '=', at.subject_name);
    next =
      (await seek(sameSubject.where('channel_code', '>', at.channel_code).orderBy('channel_code'))) ??
      (await seek(questions.where('type_name', '=', at.type_name).where('subject_name', '>', at.subject_name).orderBy('subject_name').orderBy('channel_code'))) ??
      (await seek(questions.where('type_name', '>', at.type_name).orderBy('type_name').orderBy('subject_name').orderBy('channel_code')));
  }
  return keys;
}

/**
 * The task's groups as they stand in the bank right now: `(type, subject, channel)`, or
 * `(type, subject)` across channels. The bank's keys come from index seeks, then each group
 * of the task is counted on its own range of the questions_group index, with a turn of the
 * event loop every few statements. A run's start is time no thread computes anything: on
 * SQLite a GROUP BY over a million questions took ~80 ms and held the main thread as long,
 * and paging it (a row-value bound tested on every row) ~130 ms; these ranges take ~40.
 */
async function countGroups(db: Db, task: TaskRow): Promise<GroupCount[]> {
  const filters: TaskFilters = JSON.parse(task.filters);
  const bySubject = task.scope === 'subject';
  const taken = (list: string[] | undefined, value: string) => list === undefined || list.includes(value);
  const keys = (await bankGroupKeys(db)).filter(
    (key) => taken(filters.type_names, key.type_name) && taken(filters.subject_names, key.subject_name) && (bySubject || taken(filters.channel_codes, key.channel_code)),
  );
  // Across channels: one group per (type, subject), its channels narrowed by the filter in the count.
  const groups: GroupKey[] = bySubject
    ? keys.filter((key, k) => k === 0 || key.type_name !== keys[k - 1]!.type_name || key.subject_name !== keys[k - 1]!.subject_name).map((key) => ({ ...key, channel_code: ALL_CHANNELS }))
    : keys;
  const counted: GroupCount[] = [];
  for (const [k, group] of groups.entries()) {
    let count = db
      .selectFrom('questions')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('type_name', '=', group.type_name)
      .where('subject_name', '=', group.subject_name);
    if (!bySubject) count = count.where('channel_code', '=', group.channel_code);
    else if (filters.channel_codes) count = count.where('channel_code', 'in', filters.channel_codes);
    // Questions resolved as duplicates stay out of a run unless the task takes them in (the index holds duplicate_of).
    if (task.include_resolved !== 1) count = count.where('duplicate_of', 'is', null);
    const questionCount = Number((await count.executeTakeFirstOrThrow()).count);
    // A key seen a moment ago may be gone (deleted meanwhile), or have none of the channels asked for.
    if (questionCount > 0) counted.push({ ...group, question_count: questionCount });
    if (k % STATEMENTS_PER_TURN === STATEMENTS_PER_TURN - 1) await nextTurn();
  }
  return counted;
}

const GROUP_INSERT_CHUNK = 500;

/**
 * Starts a fresh run: the task's groups become `pending` and the counters restart. 409 while a
 * run is under way. A group the previous run had too keeps its row, and with it that run's
 * clusters (hidden until this run saves the group: then the unchanged ones are kept, the rest
 * replaced); a group gone from the bank goes with its clusters.
 */
export async function beginRun(db: Kysely<Database>, id: number, now: string): Promise<TaskRow> {
  const pending = await getTaskRow(db, id);
  if (pending.status === 'running') throw new AppError(409, `task ${id} is already running`);
  // Counted before the transaction, which then holds the database only for its few writes.
  // A question imported in between is still deduplicated (groups read their rows when they
  // run); the count only feeds progress and the memory budget.
  const groups = await countGroups(db, pending);
  return db.transaction().execute(async (trx) => {
    // Take the task row's lock first (a no-op update; SQLite has no FOR UPDATE): a concurrent
    // start through another instance waits here, then reads the task as running and gets 409.
    await trx.updateTable('dedup_tasks').set((eb) => ({ run_number: eb.ref('run_number') })).where('id', '=', id).execute();
    const task = await getTaskRow(trx, id);
    if (task.status === 'running') throw new AppError(409, `task ${id} is already running`);
    const keyOf = (group: { type_name: string; subject_name: string; channel_code: string }) =>
      `${group.type_name}\u0000${group.subject_name}\u0000${group.channel_code}`;
    const earlier = new Map(
      (await trx.selectFrom('dedup_task_groups').select(['id', 'type_name', 'subject_name', 'channel_code']).where('task_id', '=', id).execute()).map(
        (group) => [keyOf(group), group],
      ),
    );
    await trx
      .updateTable('dedup_task_groups')
      .set({ status: 'pending', attempts: 0, duplicate_count: 0, cluster_count: 0, elapsed_ms: null, error: null, started_at: null, finished_at: null, lease_owner: null, lease_expires_at: null })
      .where('task_id', '=', id)
      .execute();
    const added: typeof groups = [];
    for (const group of groups) {
      const kept = earlier.get(keyOf(group));
      if (kept === undefined) added.push(group);
      else await trx.updateTable('dedup_task_groups').set({ question_count: group.question_count }).where('id', '=', kept.id).execute();
      earlier.delete(keyOf(group));
    }
    const gone = [...earlier.values()];
    for (let start = 0; start < gone.length; start += GROUP_INSERT_CHUNK) {
      await trx.deleteFrom('dedup_task_groups').where('id', 'in', gone.slice(start, start + GROUP_INSERT_CHUNK).map((group) => group.id)).execute();
    }
    // Their decisions go with their clusters: decisions describe the stored clusters, and a group
    // that comes back later starts afresh.
    for (const group of gone) await forgetDecisions(trx, id, group);
    for (let start = 0; start < added.length; start += GROUP_INSERT_CHUNK) {
      await trx
        .insertInto('dedup_task_groups')
        .values(added.slice(start, start + GROUP_INSERT_CHUNK).map((group) => ({ ...group, task_id: id, status: 'pending' as const })))
        .execute();
    }
    const started = await trx
      .updateTable('dedup_tasks')
      .set({
        status: 'running',
        total_groups: groups.length,
        processed_groups: 0,
        total_questions: groups.reduce((sum, group) => sum + group.question_count, 0),
        processed_questions: 0,
        duplicate_count: 0,
        cluster_count: 0,
        reviewed_cluster_count: 0,
        confirmed_cluster_count: 0,
        dismissed_cluster_count: 0,
        error: null,
        run_number: task.run_number + 1,
        started_at: now,
        finished_at: null,
      })
      .where('id', '=', id)
      // Two instances starting the task at once (PostgreSQL, read committed): the second waits on
      // the row, then finds it running and rolls back, rather than starting a second run.
      .where('run_number', '=', task.run_number)
      .where('status', '!=', 'running')
      .returningAll()
      .executeTakeFirst();
    if (!started) throw new AppError(409, `task ${id} is already running`);
    return started;
  });
}

/** Who claims a group and for how long; `lockRows` is for PostgreSQL's `FOR UPDATE SKIP LOCKED`. */
export interface Lease {
  owner: string;
  ms: number;
  lockRows?: boolean;
}

const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();

/**
 * A re-run group, read with the previous run's decisions, leaves the texts of its printed rows
 * in the database (the worker fetches the few it must read), so it holds a fraction of the
 * memory of a group read whole: about its prints and the worker's arrays, ~100 bytes a row
 * against ~1 KB of text and its shingles.
 */
const DECIDED_WEIGHT_DIVISOR = 8;

/** What a group weighs against the runner's question budget (QuestionBudget). */
export function groupWeight(questionCount: number, hasDecisions: boolean): number {
  return hasDecisions ? Math.floor((questionCount + DECIDED_WEIGHT_DIVISOR - 1) / DECIDED_WEIGHT_DIVISOR) : questionCount;
}

/**
 * Takes the next group of the task's current run that is pending, or running under a lease
 * that ran out (its instance died), and leases it to `lease.owner`. Several instances may
 * call this at once: on PostgreSQL, `FOR UPDATE SKIP LOCKED` lets each take a different row
 * without waiting; the outer conditions re-check the row, so a group is never handed out twice.
 * Returns nothing when no group is left, or none weighing at most `maxWeight` (groupWeight), or
 * when the run is no longer the task's current one.
 */
export async function claimPendingGroup(
  db: Db,
  taskId: number,
  now: string,
  lease: Lease = { owner: 'local', ms: 60_000 },
  runNumber?: number,
  maxWeight = Number.POSITIVE_INFINITY,
): Promise<GroupRow | undefined> {
  const clock = new Date().toISOString();
  // groupWeight() in SQL: a group with decisions kept from a previous run weighs a fraction of its questions.
  const decided = (eb: ExpressionBuilder<Database, 'dedup_task_groups'>) =>
    eb.exists(
      eb
        .selectFrom('dedup_group_decisions as d')
        .select('d.task_id')
        .whereRef('d.task_id', '=', 'dedup_task_groups.task_id')
        .whereRef('d.type_name', '=', 'dedup_task_groups.type_name')
        .whereRef('d.subject_name', '=', 'dedup_task_groups.subject_name')
        .whereRef('d.channel_code', '=', 'dedup_task_groups.channel_code'),
    );
  return db
    .updateTable('dedup_task_groups')
    .set((eb) => ({
      status: 'running',
      attempts: eb('attempts', '+', 1),
      started_at: now,
      error: null,
      lease_owner: lease.owner,
      lease_expires_at: isoIn(lease.ms),
    }))
    .where('id', '=', (eb) =>
      eb
        .selectFrom('dedup_task_groups')
        .select('id')
        .where('task_id', '=', taskId)
        .where((w) => w.or([w('status', '=', 'pending'), w.and([w('status', '=', 'running'), w('lease_expires_at', '<', clock)])]))
        .$if(Number.isFinite(maxWeight), (query) =>
          query.where((eb) =>
            eb(
              eb.case().when(decided(eb)).then(sql<number>`(question_count + ${DECIDED_WEIGHT_DIVISOR - 1}) / ${DECIDED_WEIGHT_DIVISOR}`).else(eb.ref('question_count')).end(),
              '<=',
              maxWeight,
            ),
          ),
        )
        // Largest first: the biggest groups set the task's length, so they start at once and the
        // small ones fill the threads around them, not after them.
        .orderBy('question_count', 'desc')
        .orderBy('id')
        .limit(1)
        .$if(lease.lockRows === true, (query) => query.forUpdate().skipLocked()),
    )
    .where((w) => w.or([w('status', '=', 'pending'), w.and([w('status', '=', 'running'), w('lease_expires_at', '<', clock)])]))
    .$if(runNumber !== undefined, (query) =>
      query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('dedup_tasks')
            .select('id')
            .where('id', '=', taskId)
            .where('status', '=', 'running')
            .where('run_number', '=', runNumber!),
        ),
      ),
    )
    .returningAll()
    .executeTakeFirst();
}

/**
 * Extends the lease on a group this instance is working on. False when the lease is lost:
 * another instance took the group over, or the run was cancelled, failed or replaced.
 */
export async function renewLease(db: Db, group: GroupRow, runNumber: number, lease: Lease): Promise<boolean> {
  const renewed = await db
    .updateTable('dedup_task_groups')
    .set({ lease_expires_at: isoIn(lease.ms) })
    .where('id', '=', group.id)
    .where('status', '=', 'running')
    .where('lease_owner', '=', lease.owner)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('dedup_tasks')
          .select('id')
          .where('id', '=', group.task_id)
          .where('status', '=', 'running')
          .where('run_number', '=', runNumber),
      ),
    )
    .returning('id')
    .executeTakeFirst();
  return renewed !== undefined;
}

/** Running tasks with a group some instance could claim now: pending, or under an expired lease. */
export async function listClaimableTasks(db: Db): Promise<TaskRow[]> {
  const clock = new Date().toISOString();
  return db
    .selectFrom('dedup_tasks as t')
    .selectAll('t')
    .where('t.status', '=', 'running')
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('dedup_task_groups as g')
          .select('g.id')
          .whereRef('g.task_id', '=', 't.id')
          .where((w) => w.or([w('g.status', '=', 'pending'), w.and([w('g.status', '=', 'running'), w('g.lease_expires_at', '<', clock)])])),
      ),
    )
    .orderBy('t.id')
    .execute();
}

/**
 * Groups left `running` go back to the queue: all of the task's (a stopped process that was
 * alone on its database, a cancelled or failed run), or only those leased to `owner`.
 */
export async function requeueRunningGroups(db: Db, taskId: number, owner?: string): Promise<void> {
  await db
    .updateTable('dedup_task_groups')
    .set({ status: 'pending', lease_owner: null, lease_expires_at: null })
    .where('task_id', '=', taskId)
    .where('status', '=', 'running')
    .$if(owner !== undefined, (query) => query.where('lease_owner', '=', owner!))
    .execute();
}

/** A claimed group that a shutdown kept from running (or cut short) goes back without spending an attempt. */
export async function unclaimGroup(db: Db, groupId: number): Promise<void> {
  await db
    .updateTable('dedup_task_groups')
    .set((eb) => ({ status: 'pending', attempts: eb('attempts', '-', 1), lease_owner: null, lease_expires_at: null }))
    .where('id', '=', groupId)
    .where('status', '=', 'running')
    .execute();
}

/**
 * Only a group still `running` (and, given `owner`, still leased to it) goes back to the queue
 * or fails: a group already saved as done must never run, and count, a second time.
 */
export async function requeueGroup(db: Db, groupId: number, error: string, owner?: string): Promise<void> {
  await db
    .updateTable('dedup_task_groups')
    .set({ status: 'pending', error, lease_owner: null, lease_expires_at: null })
    .where('id', '=', groupId)
    .where('status', '=', 'running')
    .$if(owner !== undefined, (query) => query.where('lease_owner', '=', owner!))
    .execute();
}

export async function markGroupFailed(db: Db, groupId: number, error: string, now: string, owner?: string): Promise<void> {
  await db
    .updateTable('dedup_task_groups')
    .set({ status: 'failed', error, finished_at: now, lease_owner: null, lease_expires_at: null })
    .where('id', '=', groupId)
    .where('status', '=', 'running')
    .$if(owner !== undefined, (query) => query.where('lease_owner', '=', owner!))
    .execute();
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
