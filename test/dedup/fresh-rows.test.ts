import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { printOf } from '../../src/dedup/check.ts';
import { storePrints } from '../../src/dedup/fingerprints.ts';
import { FreshRows } from '../../src/dedup/fresh-rows.ts';
import type { UnprintedRow } from '../../src/dedup/print-queue.ts';
import { upsertQuestions } from '../../src/questions/question.repository.ts';
import type { QuestionInput } from '../../src/questions/question.schema.ts';
import { FINGERPRINT_WORDS } from '../../workers/protocol.ts';
import { openTestDatabase } from '../support/database.ts';

/**
 * A check's walk down its group's new rows reads at most a budget of group-index entries. It used
 * to start from the newest row every time: once the newest were printed, a group with more new rows
 * than the budget had the rest found by no check (and every check walked the budget for nothing).
 * Real database (SQLite, or PostgreSQL with TEST_DATABASE_URL); the walk is the same on both.
 */
describe('FreshRows', () => {
  let handle: Awaited<ReturnType<typeof openTestDatabase>>;
  const group = { type_name: '单选题', subject_name: '数学', channel_code: 'fresh' };
  const row = (k: number): QuestionInput => ({ external_id: `f${k}`, type_name: group.type_name, subject_name: group.subject_name, channel_code: group.channel_code, content: `第${k}题 求函数 f(x) = x^2 + ${k}x 的最小值` });

  beforeAll(async () => {
    handle = await openTestDatabase('fresh-rows');
  });
  afterAll(() => handle.close());

  async function print(rows: UnprintedRow[]) {
    const prints = new Uint32Array(rows.length * FINGERPRINT_WORDS);
    rows.forEach((r, i) => prints.set(printOf(r.content, r.options), i * FINGERPRINT_WORDS));
    await storePrints(handle.db, rows.map((r, i) => ({ id: r.id, rowHash: r.row_hash, row: i })), prints);
  }
  const ids = async (channel = group.channel_code) => (await handle.db.selectFrom('questions').select('id').where('channel_code', '=', channel).orderBy('id').execute()).map((r) => Number(r.id));
  /** Thirty new rows in a group of their own (channel), none printed: the group and their ids. */
  async function thirtyRows(channel: string, first: number) {
    const other = { ...group, channel_code: channel };
    await upsertQuestions(handle.db, Array.from({ length: 30 }, (_, k) => ({ ...row(first + k), external_id: `${channel}-${k}`, channel_code: channel })), new Date().toISOString());
    return { other, all: await ids(channel) };
  }

  it('goes on down from where the last walk stopped, then finds only rows newer than what it has seen printed', async () => {
    await upsertQuestions(handle.db, Array.from({ length: 35 }, (_, k) => row(k)), new Date().toISOString());
    const all = await ids();
    const fresh = new FreshRows(handle.db, 10);
    const found: number[][] = [];
    for (let walk = 0; walk < 5; walk++) {
      const { rows, settle } = await fresh.find(0, [group], 5000);
      found.push(rows.map((r) => r.id));
      await print(rows);
      settle(true);
    }
    // Ten entries a walk, newest first: 35 rows in four walks, the fifth finds nothing left.
    expect(found).toEqual([all.slice(25), all.slice(15, 25), all.slice(5, 15), all.slice(0, 5), []]);

    await upsertQuestions(handle.db, [row(100), row(101)], new Date().toISOString());
    const newer = (await ids()).slice(35);
    const next = await fresh.find(0, [group], 5000);
    expect(next.rows.map((r) => r.id)).toEqual(newer);
    // Another check of the group meanwhile waits for that walk to end.
    let waited = false;
    const meanwhile = fresh.find(0, [group], 5000).then((found) => {
      waited = true;
      return found;
    });
    await Bun.sleep(20);
    expect(waited).toBe(false);
    // Its rows not printed (printing failed): nothing is kept, and the other check finds them too.
    next.settle(false);
    const again = await meanwhile;
    expect(again.rows.map((r) => r.id)).toEqual(newer);
    again.settle(false);
    // A limit cuts the walk short at the last row taken.
    const one = await fresh.find(0, [group], 1);
    expect(one.rows.map((r) => r.id)).toEqual(newer.slice(1));
    one.settle(false);
  });

  it('trusts a span a task reports printed, and a walk that ends beside it joins it', async () => {
    const { other, all } = await thirtyRows('fresh-task', 200);
    const fresh = new FreshRows(handle.db, 10);
    // As a task would after reading the older twenty (here they have no print, so a walk that
    // looked at them would answer them).
    fresh.printed(other, all[0]!, all[19]!);
    const first = await fresh.find(0, [other], 5000);
    expect(first.rows.map((r) => r.id)).toEqual(all.slice(20));
    await print(first.rows);
    first.settle(true);
    // The walk's span (the newest ten) and the task's touch: one span, so nothing is walked again.
    const second = await fresh.find(0, [other], 5000);
    expect(second.rows).toEqual([]);
    second.settle(true);
  });

  it('keeps a task\'s span when a walk that began before it ends after it', async () => {
    const { other, all } = await thirtyRows('fresh-race', 300);
    const fresh = new FreshRows(handle.db, 10);
    const walk = await fresh.find(0, [other], 5000);
    expect(walk.rows.map((r) => r.id)).toEqual(all.slice(20));
    // The task reports the older twenty meanwhile; the walk's own span (the newest ten) must not replace it.
    fresh.printed(other, all[0]!, all[19]!);
    await print(walk.rows);
    walk.settle(true);
    const next = await fresh.find(0, [other], 5000);
    expect(next.rows).toEqual([]);
    next.settle(true);
  });
});
