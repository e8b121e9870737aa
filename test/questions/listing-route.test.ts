import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test';
import { Database } from 'bun:sqlite';
import { startTestService, type TestService } from '../support/service.ts';
import { testDatabaseServer } from '../support/database.ts';

/**
 * `GET /api/questions` through the real service must take its total from the kept group counts
 * whenever the filter names groups only: counting a million rows for every page of a listing
 * was ~2 s of statements on the main thread. The route once passed its page fields along with
 * the filter, so every listing looked filtered and walked the bank. The service here runs
 * in-process on SQLite, so the statements it executes can be watched where bun:sqlite runs them.
 */
describe.skipIf(Boolean(testDatabaseServer()))('GET /api/questions: totals of group filters from the kept counts', () => {
  let service: TestService;
  const executed: string[] = [];
  const prepare = Database.prototype.prepare;

  beforeAll(async () => {
    service = await startTestService();
    const rows = Array.from({ length: 300 }, (_, i) => ({
      external_id: `listing-route-${i}`,
      type_name: '单选题',
      subject_name: i % 3 === 0 ? '物理' : '数学',
      content: `第${i}题 求函数的最大值 ${i}`,
    }));
    const body = rows.map((row) => JSON.stringify(row)).join('\n');
    expect((await service.api('POST', '/api/questions', body, { 'content-type': 'application/x-ndjson' })).status).toBe(201);
    // Statements prepared from here on record each execution (the connection prepares each SQL text once, then reuses it).
    Database.prototype.prepare = function (this: Database, sql: string, ...rest: unknown[]) {
      const statement = (prepare as (...args: unknown[]) => ReturnType<Database['prepare']>).call(this, sql, ...rest);
      for (const method of ['all', 'get', 'run', 'values'] as const) {
        const original = statement[method] as (...args: unknown[]) => unknown;
        (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
          executed.push(sql);
          return original.apply(statement, args);
        };
      }
      return statement;
    } as Database['prepare'];
  });
  afterEach(() => {
    executed.length = 0;
  });
  afterAll(async () => {
    Database.prototype.prepare = prepare;
    await service.stop();
  });

  const countsOfQuestions = () => executed.filter((sql) => /count\(\*\)/i.test(sql) && /from "questions"/i.test(sql));

  it('counts nothing for an unfiltered page or a group filter, and answers the right totals', async () => {
    const all = await service.api('GET', '/api/questions?page=2&page_size=7');
    expect(all.status).toBe(200);
    expect(all.body.data).toMatchObject({ total: 300, page: 2, page_size: 7 });
    expect(all.body.data.items.map((item: { external_id: string }) => item.external_id)).toEqual(Array.from({ length: 7 }, (_, k) => `listing-route-${7 + k}`));
    const physics = await service.api('GET', `/api/questions?subject_name=${encodeURIComponent('物理')}&page_size=5`);
    expect(physics.body.data).toMatchObject({ total: 100, page: 1, page_size: 5 });
    expect(executed.some((sql) => /question_group_counts/.test(sql))).toBe(true);
    expect(countsOfQuestions()).toEqual([]);
  });

  it('still counts matches for a text search (the watch sees the statements it must)', async () => {
    const search = await service.api('GET', `/api/questions?q=${encodeURIComponent('第12')}&page_size=5`);
    expect(search.body.data.total).toBe(11); // 第12题 and 第120题 … 第129题
    expect(countsOfQuestions().length).toBeGreaterThan(0);
  });
});
