import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { loadDecisions, saveDecisions } from '../../src/tasks/decisions.repository.ts';
import { openTestDatabase } from '../support/database.ts';

/**
 * A group's decisions are one blob per task and group; PostgreSQL hands them back in slices of
 * 512 KB (a 4.6 MB blob decoded in one stretch held the event loop), which must add up to exactly
 * what was saved. Real database: SQLite, or PostgreSQL with TEST_DATABASE_URL.
 */
describe('group decisions', () => {
  let handle: Awaited<ReturnType<typeof openTestDatabase>>;
  let taskId: number;
  const group = { type_name: '单选题', subject_name: '数学', channel_code: 'decisions' };

  beforeAll(async () => {
    handle = await openTestDatabase('decisions');
    const now = new Date().toISOString();
    const task = await handle.db
      .insertInto('dedup_tasks')
      .values({ task_name: 'decisions', status: 'completed', scope: 'channel', filters: '{}', max_distance: 3, min_similarity: 0.8, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    taskId = Number(task.id);
  });
  afterAll(() => handle.close());

  it('come back byte for byte, across several slices, a slice exactly, empty or absent', async () => {
    expect(await loadDecisions(handle.db, taskId, group)).toBeNull();
    for (const size of [1_300_007, 512 * 1024, 1, 0]) {
      const saved = new Uint8Array(size);
      for (let i = 0; i < size; i++) saved[i] = (i * 2654435761) >>> 24;
      await saveDecisions(handle.db, taskId, group, saved);
      const loaded = await loadDecisions(handle.db, taskId, group);
      expect(loaded?.byteLength).toBe(size);
      expect(Buffer.from(loaded!).equals(Buffer.from(saved))).toBe(true);
    }
  });
});
