import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, migrateToLatest, type DatabaseHandle } from '../../src/db/connect.ts';
import { upsertQuestions } from '../../src/questions/question.repository.ts';
import { questionInput } from '../../src/questions/question.schema.ts';
import { waitFor } from '../support/child-service.ts';

/**
 * The FTS5 search indexer's thread takes SQLite's write lock step after step; the main connection
 * waits for it synchronously. It must step aside while the main connection writes (issue 13: a
 * review's POST waited 200-3,000 ms behind it) and carry on once the writes stop. Proven by what
 * the thread does (its mark), not by timing a request.
 */
const BANK = 20_000;
const row = (i: number) =>
  questionInput.parse({ external_id: `x${i}`, type_name: '单选题', subject_name: '数学', channel_code: 'c', content: `第${i}题 已知函数 f(x) = x^2 + ${i}x，求 f(${i % 9}) 的值。` });

describe('SQLite search indexer and the main connection', () => {
  let dir: string;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dedup-indexer-'));
    handle = await connectDatabase(`sqlite:${join(dir, 'bank.sqlite')}`);
    await migrateToLatest(handle);
    for (let start = 0; start < BANK; start += 2000) await upsertQuestions(handle.db, Array.from({ length: 2000 }, (_, k) => row(start + k)), 't1');
  });
  afterAll(async () => {
    await handle.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const mark = async () => Number((await sql<{ m: number }>`select indexed_through as m from question_search_state`.execute(handle.db)).rows[0]!.m);

  it('does no indexing step while the main connection keeps writing, and finishes once it stops', async () => {
    // Wait until it is indexing, so there is something to stop.
    await waitFor(async () => (await mark()) > 0, 30_000, 20);
    let writing = true;
    const writer = (async () => {
      for (let k = 0; writing; k++) {
        await handle.db.updateTable('questions').set({ updated_at: `t${k}` }).where('id', '=', 1 + (k % 100)).execute();
        await Bun.sleep(20);
      }
    })();
    // The round in progress ends at the first write it sees (after its step in progress, which a
    // loaded machine may stretch): from then on, the mark stands still.
    let held = await mark();
    await waitFor(async () => {
      await Bun.sleep(400);
      const now = await mark();
      const still = now === held;
      held = now;
      return still;
    }, 20_000, 0);
    expect(held).toBeLessThan(BANK);
    await Bun.sleep(1500);
    expect(await mark()).toBe(held);
    writing = false;
    await writer;
    await waitFor(async () => (await mark()) === BANK, 60_000, 50);
  }, 90_000);
});
