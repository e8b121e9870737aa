import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { Piscina } from 'piscina';
import pino from 'pino';
import { BankIndex } from '../../src/dedup/bank-index.ts';
import { createProgressSink } from '../../src/realtime/progress.ts';
import { getTaskRow, insertTask } from '../../src/tasks/task.repository.ts';
import { TaskRunner, type GroupPool } from '../../src/tasks/task.runner.ts';
import type { GroupJob } from '../../workers/protocol.ts';
import { openTestDatabase } from '../support/database.ts';
import { checkOnThisThread } from '../../src/dedup/check.ts';

// A real pool and database on a shared 2-core machine: bunfig's timeout is not read by bun 1.4.
setDefaultTimeout(60_000);

const now = () => new Date().toISOString();
const silent = pino({ level: 'silent' });
let handle: Awaited<ReturnType<typeof openTestDatabase>>;
let piscina: Piscina;

beforeAll(async () => {
  handle = await openTestDatabase('budget');
  // Holds its thread 150 ms per group, so groups overlap long enough to be seen together.
  piscina = new Piscina({ filename: new URL('../fixtures/slow-worker.ts', import.meta.url).href, minThreads: 2, maxThreads: 2 });
});

afterAll(async () => {
  await piscina.close({ force: true });
  await handle.close();
});

describe('the question budget', () => {
  it('never has more questions in flight than the budget, runs a larger group alone, and fills the room beside a big one', async () => {
    const sizes = [12, 9, 8, 3, 3, 2, 1, 1];
    const rows = sizes.flatMap((size, group) =>
      Array.from({ length: size }, (_, k) => ({
        type_name: '单选题',
        subject_name: `subject-${group}`,
        channel_code: 'default',
        content: `question ${group}-${k}`,
        row_hash: `hash-${group}-${k}`,
        created_at: now(),
        updated_at: now(),
      })),
    );
    await handle.db.insertInto('questions').values(rows).execute();
    const task = await insertTask(handle.db, { task_name: 'budget', filters: {}, scope: 'channel', max_distance: 3, min_similarity: 0.8 }, now());

    // The real pool, watched: which groups (by size) compute together.
    const computing = new Set<number[]>();
    const together: number[][] = [];
    const pool: GroupPool = {
      async run(job: GroupJob, options) {
        const entry = [job.ids.length];
        computing.add(entry);
        together.push([...computing].map((e) => e[0]!).sort((a, b) => b - a));
        try {
          return await piscina.run(job, options);
        } finally {
          computing.delete(entry);
        }
      },
    };
    const runner = new TaskRunner({
      db: handle.db,
      pool,
      bank: new BankIndex({ db: handle.db, pool: piscina, logger: silent, printWorker: new URL('../../workers/print.worker.ts', import.meta.url), checks: checkOnThisThread() }),
      progress: createProgressSink(() => {}, 0),
      logger: silent,
      now,
      maxInFlight: 3,
      poolThreads: 2,
      questionsInFlight: 10,
      groupTimeoutMs: 30_000,
    });
    try {
      await runner.start(task.id);
      const deadline = Date.now() + 20_000;
      while ((await getTaskRow(handle.db, task.id)).status === 'running' && Date.now() < deadline) await Bun.sleep(25);
      expect(await getTaskRow(handle.db, task.id)).toMatchObject({ status: 'completed', processed_groups: sizes.length });
    } finally {
      await runner.stop(1_000);
    }
    expect(together.length).toBe(sizes.length);
    for (const sizesTogether of together) {
      const total = sizesTogether.reduce((a, b) => a + b, 0);
      if (sizesTogether.includes(12)) expect(sizesTogether).toEqual([12]);
      else expect(total).toBeLessThanOrEqual(10);
    }
    // The 9 did not hold the second thread idle: the one group that fits beside it ran with it.
    expect(together.some((group) => group[0] === 9 && group.length === 2)).toBe(true);
  });
});
