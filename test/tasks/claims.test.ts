import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { Piscina } from 'piscina';
import pino from 'pino';
import { BankIndex } from '../../src/dedup/bank-index.ts';
import { connectDatabase, migrateToLatest, type DatabaseHandle } from '../../src/db/connect.ts';
import { createProgressSink } from '../../src/realtime/progress.ts';
import { saveGroupResult } from '../../src/tasks/result.repository.ts';
import {
  beginRun,
  claimPendingGroup,
  getTaskRow,
  insertTask,
  renewLease,
  requeueRunningGroups,
  type Lease,
} from '../../src/tasks/task.repository.ts';
import { TaskRunner } from '../../src/tasks/task.runner.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { checkOnThisThread } from '../../src/dedup/check.ts';

/**
 * Group claiming as several instances do it on one database. On PostgreSQL every "instance"
 * has its own connection pool; SQLite has one instance per file by design, so there the
 * claimers share one handle and the tests check the same rules without the concurrency.
 */
// Real pools and databases on a shared 2-core machine: bunfig's timeout is not read by bun 1.4.
setDefaultTimeout(60_000);

let testDb: TestDatabase;
const handles: DatabaseHandle[] = [];
const now = () => new Date().toISOString();
const silent = pino({ level: 'silent' });

async function handle(): Promise<DatabaseHandle> {
  if (testDb.dialect === 'sqlite' && handles.length > 0) return handles[0]!;
  const opened = await connectDatabase(testDb.url, { maxConnections: 4 });
  handles.push(opened);
  return opened;
}

beforeAll(async () => {
  testDb = await createTestDatabase('claims');
  await migrateToLatest(await handle());
});

afterAll(async () => {
  for (const opened of handles) await opened.db.destroy();
  await testDb.drop();
});

/** A pending task with `groups` groups of `perGroup` questions each, under its own type name. */
async function pendingTask(groups: number, perGroup = 2) {
  const { db } = handles[0]!;
  const type = `type-${Math.random().toString(36).slice(2, 8)}`;
  const rows = Array.from({ length: groups * perGroup }, (_, index) => ({
    type_name: type,
    subject_name: `subject-${String(Math.floor(index / perGroup)).padStart(3, '0')}`,
    channel_code: 'default',
    content: `question ${index}`,
    row_hash: `hash-${index}`,
    created_at: now(),
    updated_at: now(),
  }));
  await db.insertInto('questions').values(rows).execute();
  return insertTask(db, { task_name: type, filters: { type_names: [type] }, scope: 'channel', max_distance: 3, min_similarity: 0.8 }, now());
}

const runningTask = async (groups: number, perGroup = 2) => beginRun(handles[0]!.db, (await pendingTask(groups, perGroup)).id, now());

const leaseOf = (owner: string, ms = 30_000): Lease => ({ owner, ms, lockRows: testDb.dialect === 'postgres' });

describe('group claims on a shared database', () => {
  it('hands every group to exactly one of several instances claiming at once', async () => {
    const task = await runningTask(40);
    const instances = await Promise.all(['a', 'b', 'c'].map(async (owner) => ({ owner, db: (await handle()).db })));
    const claimed: { id: number; owner: string }[] = [];
    // Four lanes per instance, as the runner has, all claiming until nothing is left.
    await Promise.all(
      instances.flatMap(({ owner, db }) =>
        Array.from({ length: 4 }, async () => {
          for (;;) {
            const group = await claimPendingGroup(db, task.id, now(), leaseOf(owner), task.run_number);
            if (!group) return;
            expect(group.lease_owner).toBe(owner);
            claimed.push({ id: group.id, owner });
          }
        }),
      ),
    );
    const ids = claimed.map((entry) => entry.id);
    expect(ids.length).toBe(40);
    expect(new Set(ids).size).toBe(40);
  });

  it('gives a group whose lease ran out to another instance and drops its first owner’s late result', async () => {
    const task = await runningTask(1);
    const { db } = handles[0]!;
    const first = await claimPendingGroup(db, task.id, now(), leaseOf('a', 300), task.run_number);
    expect(first?.lease_owner).toBe('a');
    expect(await claimPendingGroup(db, task.id, now(), leaseOf('b'), task.run_number)).toBeUndefined();

    await Bun.sleep(350);
    const second = await claimPendingGroup(db, task.id, now(), leaseOf('b'), task.run_number);
    expect(second?.id).toBe(first!.id);
    expect(second?.lease_owner).toBe('b');
    expect(second?.attempts).toBe(2);

    expect(await renewLease(db, first!, task.run_number, leaseOf('a'))).toBe(false);
    expect(await renewLease(db, second!, task.run_number, leaseOf('b'))).toBe(true);
    const result = { clusters: [{ canonicalId: 1, members: [{ questionId: 1, distance: 0, similarity: 1 }, { questionId: 2, distance: 0, similarity: 1 }] }] };
    expect(await saveGroupResult(db, task.id, task.run_number, first!, result, 5, now())).toBeUndefined();
    const saved = await saveGroupResult(db, task.id, task.run_number, second!, result, 5, now());
    expect(saved?.processed_groups).toBe(1);
    expect(saved?.cluster_count).toBe(1);
    const group = await db.selectFrom('dedup_task_groups').selectAll().where('id', '=', first!.id).executeTakeFirstOrThrow();
    expect(group).toMatchObject({ status: 'done', lease_owner: 'b', lease_expires_at: null });
  });

  it('counts every group exactly once when instances save results at the same time', async () => {
    const task = await runningTask(30, 3);
    const instances = await Promise.all(['a', 'b', 'c'].map(async (owner) => ({ owner, db: (await handle()).db })));
    const claims = [];
    for (let index = 0; index < 30; index++) {
      const { owner, db } = instances[index % 3]!;
      claims.push({ db, group: (await claimPendingGroup(db, task.id, now(), leaseOf(owner), task.run_number))! });
    }
    const result = { clusters: [{ canonicalId: 1, members: [{ questionId: 1, distance: 0, similarity: 1 }, { questionId: 2, distance: 1, similarity: 0.9 }] }] };
    await Promise.all(claims.map(({ db, group }) => saveGroupResult(db, task.id, task.run_number, group, result, 1, now())));
    const done = await getTaskRow(handles[0]!.db, task.id);
    expect(done).toMatchObject({ processed_groups: 30, total_groups: 30, processed_questions: 90, total_questions: 90, cluster_count: 30, duplicate_count: 30 });
  });

  it('starts a task once when two instances start it at the same time', async () => {
    const task = await pendingTask(5);
    const [a, b] = await Promise.all([handle(), handle()]);
    const outcomes = await Promise.allSettled([beginRun(a.db, task.id, now()), beginRun(b.db, task.id, now())]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ status: 409 });
    const groups = await handles[0]!.db.selectFrom('dedup_task_groups').select('id').where('task_id', '=', task.id).execute();
    expect(groups).toHaveLength(5);
    expect((await getTaskRow(handles[0]!.db, task.id)).run_number).toBe(1);
  });

  it('claims nothing for a run that is no longer the task’s current one', async () => {
    const task = await runningTask(2);
    const { db } = handles[0]!;
    expect(await claimPendingGroup(db, task.id, now(), leaseOf('a'), task.run_number - 1)).toBeUndefined();
    const group = await claimPendingGroup(db, task.id, now(), leaseOf('a'), task.run_number);
    expect(group).toBeDefined();
    await db.updateTable('dedup_tasks').set({ status: 'cancelled' }).where('id', '=', task.id).execute();
    expect(await renewLease(db, group!, task.run_number, leaseOf('a'))).toBe(false);
    expect(await claimPendingGroup(db, task.id, now(), leaseOf('a'), task.run_number)).toBeUndefined();
  });

  it('puts back only its own running groups when an instance stops', async () => {
    const task = await runningTask(2);
    const { db } = handles[0]!;
    await claimPendingGroup(db, task.id, now(), leaseOf('a'), task.run_number);
    await claimPendingGroup(db, task.id, now(), leaseOf('b'), task.run_number);
    await requeueRunningGroups(db, task.id, 'a');
    const groups = await db.selectFrom('dedup_task_groups').select(['status', 'lease_owner']).where('task_id', '=', task.id).orderBy('id').execute();
    expect(groups).toEqual([
      { status: 'pending', lease_owner: null },
      { status: 'running', lease_owner: 'b' },
    ]);
  });
});

describe('runners sharing a task', () => {
  it('share one task between two runners and complete it once', async () => {
    const task = await runningTask(16);
    await handles[0]!.db.updateTable('dedup_tasks').set({ status: 'pending' }).where('id', '=', task.id).execute();
    const pool = new Piscina({ filename: new URL('../fixtures/slow-worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 2 });
    const completions: number[] = [];
    const runners = await Promise.all(
      ['a', 'b'].map(async (instanceId) => {
        // Earlier tests leave tasks running too; these runners pick those up as well.
        const progress = createProgressSink((_room, event, payload) => {
          if (event === 'task_completed' && (payload as { task_id: number }).task_id === task.id) completions.push(Date.now());
        }, 0);
        const { db } = await handle();
        return new TaskRunner({
          db,
          pool,
          bank: new BankIndex({ db, pool, logger: silent, printWorker: new URL('../../workers/print.worker.ts', import.meta.url), checks: checkOnThisThread() }),
          progress,
          logger: silent,
          now,
          maxInFlight: 1,
          groupTimeoutMs: 30_000,
          instanceId,
          leaseMs: 5_000,
          exclusive: testDb.dialect === 'sqlite',
          discoveryMs: 50,
          lockRows: testDb.dialect === 'postgres',
        });
      }),
    );
    try {
      await runners[0]!.start(task.id);
      // The second runner was not told: it finds the task by looking.
      await runners[1]!.resumeInterrupted();
      const deadline = Date.now() + 20_000;
      while ((await getTaskRow(handles[0]!.db, task.id)).status === 'running' && Date.now() < deadline) await Bun.sleep(50);
      const done = await getTaskRow(handles[0]!.db, task.id);
      expect(done).toMatchObject({ status: 'completed', processed_groups: 16 });
      const owners = await handles[0]!.db
        .selectFrom('dedup_task_groups')
        .select(['lease_owner', (eb) => eb.fn.countAll<number>().as('groups')])
        .where('task_id', '=', task.id)
        .groupBy('lease_owner')
        .execute();
      expect(owners.map((row) => row.lease_owner).sort()).toEqual(['a', 'b']);
      await Bun.sleep(100);
      expect(completions.length).toBe(1);
    } finally {
      await Promise.all(runners.map((runner) => runner.stop(1_000)));
      await pool.close({ force: true });
    }
  });
});
