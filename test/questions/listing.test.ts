import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql } from 'kysely';
import { connectDatabase, migrateToLatest, migrationsFor, type DatabaseHandle } from '../../src/db/connect.ts';
import { PostgresSearchIndexer } from '../../src/db/postgres-search-indexer.ts';
import { deleteQuestion, upsertQuestions } from '../../src/questions/question.repository.ts';
import { listGroups, listQuestions } from '../../src/questions/question-listing.ts';
import { InteractiveWork } from '../../src/tasks/interactive-work.ts';
import { insertTask } from '../../src/tasks/task.repository.ts';
import { questionInput, type Question, type QuestionInput } from '../../src/questions/question.schema.ts';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/child-service.ts';

/**
 * The listing and search of issue 15 must answer exactly what a scan would: group counts kept
 * by triggers, searches through FTS5 / pg_trgm, deep pages found by walking id ranges. Each
 * answer is compared with the same question asked of every stored row in plain JavaScript.
 */
const SUBJECTS = ['数学', '物理', 'Chemistry'];
const row = (i: number): QuestionInput =>
  questionInput.parse({
    external_id: `ext-${i}`,
    type_name: i % 5 === 0 ? '填空题' : '单选题',
    subject_name: SUBJECTS[i % 3],
    channel_code: `ch-${i % 2}`,
    content: `第${i}题 Find the value of x + ${i % 50} when f(x) = ${i % 7}x^2; 求最大值${i % 11 === 0 ? ' 100%_done' : ''}`,
  });
const BANK = 6200;

/** What a full scan would answer: ASCII-case-insensitive substring, ids ascending. */
function naive(all: Question[], filter: { type_name?: string; subject_name?: string; channel_code?: string; q?: string }) {
  const q = filter.q?.toLowerCase();
  return all.filter(
    (item) =>
      (!filter.type_name || item.type_name === filter.type_name) &&
      (!filter.subject_name || item.subject_name === filter.subject_name) &&
      (!filter.channel_code || item.channel_code === filter.channel_code) &&
      (q === undefined || item.content.toLowerCase().includes(q)),
  );
}

function naiveGroups(all: Question[], filter: { q?: string } = {}) {
  const counts = new Map<string, { type_name: string; subject_name: string; channel_code: string; question_count: number }>();
  for (const item of naive(all, filter)) {
    const key = `${item.type_name}\u0000${item.subject_name}\u0000${item.channel_code}`;
    const seen = counts.get(key) ?? { type_name: item.type_name, subject_name: item.subject_name, channel_code: item.channel_code, question_count: 0 };
    seen.question_count++;
    counts.set(key, seen);
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...counts.values()].sort((a, b) => cmp(a.type_name, b.type_name) || cmp(a.subject_name, b.subject_name) || cmp(a.channel_code, b.channel_code));
}

const QUERIES = ['x', '第1', 'value', 'VALUE OF', '求最大值', 'x + 4', '100%_d', '%', '_', 'no such text at all', '第6199题'];
const FILTERS = [{}, { type_name: '填空题' }, { subject_name: 'Chemistry', channel_code: 'ch-1' }, { type_name: '单选题', subject_name: '数学', channel_code: 'ch-0' }];

async function expectSameAsScan(db: DatabaseHandle['db']) {
  const all = (await listQuestions(db, {}, 0, 1_000_000)).items;
  for (const filter of FILTERS) {
    for (const q of [undefined, ...QUERIES]) {
      const wanted = naive(all, { ...filter, q });
      for (const [offset, limit] of [[0, 20], [40, 7], [5100, 50], [wanted.length - 3, 10]] as const) {
        if (offset < 0) continue;
        const got = await listQuestions(db, { ...filter, q }, offset, limit);
        expect({ filter, q, offset, total: got.total, ids: got.items.map((item) => item.id) }).toEqual({ filter, q, offset, total: wanted.length, ids: wanted.slice(offset, offset + limit).map((item) => item.id) });
      }
    }
  }
  expect(await listGroups(db, {})).toEqual(naiveGroups(all));
  expect(await listGroups(db, { subject_name: '物理' })).toEqual(naiveGroups(all).filter((group) => group.subject_name === '物理'));
  for (const q of ['value', '求最大值', 'x', '100%_d']) expect(await listGroups(db, { q })).toEqual(naiveGroups(all, { q }));
}

/** Every search (first page and total) and a search's groups, as a scan of `all` would answer: lighter than expectSameAsScan. */
async function expectSearchesSameAsScan(db: DatabaseHandle['db'], all: Question[]) {
  for (const filter of FILTERS) {
    for (const q of QUERIES) {
      const wanted = naive(all, { ...filter, q });
      const got = await listQuestions(db, { ...filter, q }, 0, 20);
      expect({ filter, q, total: got.total, ids: got.items.map((item) => item.id) }).toEqual({ filter, q, total: wanted.length, ids: wanted.slice(0, 20).map((item) => item.id) });
    }
  }
  for (const q of ['value', '求最大值', 'x', '100%_d']) expect(await listGroups(db, { q })).toEqual(naiveGroups(all, { q }));
}

describe('question listing and search', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    database = await createTestDatabase('listing');
    handle = await connectDatabase(database.url);
    await migrateToLatest(handle);
    for (let start = 0; start < BANK; start += 2000) {
      await upsertQuestions(handle.db, Array.from({ length: Math.min(2000, BANK - start) }, (_, k) => row(start + k)), 't1');
    }
  });
  afterAll(async () => {
    await handle.db.destroy();
    await database.drop();
  });

  it('answers every filter, search and page (deep ones too) exactly as a scan of the bank would', async () => {
    await expectSameAsScan(handle.db);
  }, 60_000);

  it('keeps group counts and search right through updates that move questions between groups, edits and deletes', async () => {
    const moved = Array.from({ length: 300 }, (_, i) => ({ ...row(i), subject_name: '历史', content: `改写后的题目 ${i} moved` }));
    expect(await upsertQuestions(handle.db, moved, 't2')).toMatchObject({ updated: 300 });
    const some = (await listQuestions(handle.db, { subject_name: '历史' }, 0, 50)).items;
    for (const question of some.slice(0, 25)) expect(await deleteQuestion(handle.db, question.id)).toBeDefined();
    await expectSameAsScan(handle.db);
    expect((await listQuestions(handle.db, { q: '改写后的题目' }, 0, 1)).total).toBe(275);
  }, 60_000);
});

describe('SQLite search index (FTS5 trigram, built by its own thread)', () => {
  let dir: string;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dedup-search-'));
    handle = await connectDatabase(`sqlite:${join(dir, 'search.sqlite')}`);
    await migrateToLatest(handle);
    for (let start = 0; start < BANK; start += 2000) {
      await upsertQuestions(handle.db, Array.from({ length: Math.min(2000, BANK - start) }, (_, k) => row(start + k)), 't1');
    }
  });
  afterAll(async () => {
    await handle.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const mark = async () => Number((await sql<{ m: number }>`select indexed_through as m from question_search_state`.execute(handle.db)).rows[0]!.m);
  const maxId = async () => Number((await sql<{ m: number }>`select max(id) as m from questions`.execute(handle.db)).rows[0]!.m);

  it('indexes the bank in the background, and searches answer the same before, during and after', async () => {
    await expectSameAsScan(handle.db);
    await waitFor(async () => (await mark()) === (await maxId()), 30_000, 100);
    await expectSameAsScan(handle.db);
    // The index itself holds the text: an FTS5 query alone finds what LIKE finds.
    const fts = await sql<{ n: number }>`select count(*) as n from questions_fts where questions_fts match '"求最大值 100%"'`.execute(handle.db);
    expect(Number(fts.rows[0]!.n)).toBe(Math.ceil(BANK / 11));
  }, 60_000);

  it('keeps indexed rows in step through edits and deletes (triggers), and indexes rows imported later', async () => {
    await waitFor(async () => (await mark()) === (await maxId()), 30_000, 100);
    const edited = Array.from({ length: 200 }, (_, i) => ({ ...row(i), content: `完全不同的内容 ${i} zebra` }));
    await upsertQuestions(handle.db, edited, 't2');
    const victims = (await listQuestions(handle.db, { q: 'zebra' }, 0, 20)).items;
    for (const question of victims) await deleteQuestion(handle.db, question.id);
    await upsertQuestions(handle.db, Array.from({ length: 100 }, (_, i) => row(BANK + i)), 't3');
    await expectSameAsScan(handle.db);
    expect((await listQuestions(handle.db, { q: 'zebra' }, 0, 1)).total).toBe(180);
    expect((await listQuestions(handle.db, { q: 'Find the value of x + 0 ' }, 0, 1)).total).toBe(naive((await listQuestions(handle.db, {}, 0, 1_000_000)).items, { q: 'Find the value of x + 0 ' }).length);
    await waitFor(async () => (await mark()) === (await maxId()), 30_000, 100);
    await expectSameAsScan(handle.db);
    const integrity = await sql`insert into questions_fts (questions_fts, rank) values ('integrity-check', 1)`.execute(handle.db);
    expect(integrity).toBeDefined();
  }, 60_000);
});

describe.skipIf(!testDatabaseServer())('PostgreSQL search index (pg_trgm, filled in the background)', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  /** The same database through connections that may not scan a table: searches must come from the indexes. */
  let indexOnly: DatabaseHandle;
  beforeAll(async () => {
    database = await createTestDatabase('pgsearch');
    handle = await connectDatabase(database.url);
    await migrateToLatest(handle);
    const url = new URL(database.url);
    url.searchParams.set('options', '-c enable_seqscan=off');
    indexOnly = await connectDatabase(url.toString());
    for (let start = 0; start < BANK; start += 2000) {
      await upsertQuestions(handle.db, Array.from({ length: Math.min(2000, BANK - start) }, (_, k) => row(start + k)), 't1');
    }
  });
  afterAll(async () => {
    await indexOnly.db.destroy();
    await handle.db.destroy();
    await database.drop();
  });

  const everything = async () => (await listQuestions(handle.db, {}, 0, 1_000_000)).items;
  const pending = async (db = handle.db) => Number((await sql<{ n: number }>`select count(*) as n from questions where not search_ready`.execute(db)).rows[0]!.n);
  const plan = async (q: string) =>
    (await sql<{ 'QUERY PLAN': string }>`explain select id from questions where search_ready and content ilike ${`%${q}%`}`.execute(indexOnly.db)).rows.map((line) => line['QUERY PLAN']).join('\n');

  it('stores imported rows outside the index, indexes them in the background, and searches answer the same before, during and after', async () => {
    expect(await pending()).toBe(BANK);
    expect((await sql<{ enable_seqscan: string }>`show enable_seqscan`.execute(indexOnly.db)).rows[0]!.enable_seqscan).toBe('off');
    await expectSameAsScan(handle.db);
    const indexer = new PostgresSearchIndexer(handle.db, 50);
    expect(await indexer.indexBatch(2500)).toBe(2500);
    expect(await pending()).toBe(BANK - 2500);
    await expectSameAsScan(handle.db);
    await expectSearchesSameAsScan(indexOnly.db, await everything());
    indexer.start();
    try {
      await waitFor(async () => (await pending()) === 0, 30_000, 100);
    } finally {
      await indexer.stop();
    }
    // The indexer merged the GIN pending list after its last round: nothing is left to merge.
    expect(Number((await sql<{ pages: number }>`select gin_clean_pending_list('questions_content_trgm') as pages`.execute(handle.db)).rows[0]!.pages)).toBe(0);
    expect(await plan('求最大值')).toContain('questions_content_trgm');
    await expectSameAsScan(handle.db);
    // Through the GIN index alone for every ready row: a row missing from it would be missing here.
    await expectSearchesSameAsScan(indexOnly.db, await everything());
  }, 120_000);

  it('keeps indexed rows searchable through edits and deletes, and rows imported later too', async () => {
    const edited = Array.from({ length: 200 }, (_, i) => ({ ...row(i), content: `完全不同的内容 ${i} zebra` }));
    expect(await upsertQuestions(handle.db, edited, 't2')).toMatchObject({ updated: 200 });
    const victims = (await listQuestions(handle.db, { q: 'zebra' }, 0, 20)).items;
    for (const question of victims) await deleteQuestion(handle.db, question.id);
    await upsertQuestions(handle.db, Array.from({ length: 100 }, (_, i) => row(BANK + i)), 't3');
    expect(await pending()).toBe(100);
    await expectSameAsScan(handle.db);
    await expectSearchesSameAsScan(indexOnly.db, await everything());
    expect((await listQuestions(indexOnly.db, { q: 'zebra' }, 0, 1)).total).toBe(180);
    expect((await listQuestions(indexOnly.db, { q: 'ZEBRA' }, 0, 1)).total).toBe(180);
    expect((await listQuestions(indexOnly.db, { q: `第0题 Find` }, 0, 1)).total).toBe(0);
    const indexer = new PostgresSearchIndexer(handle.db);
    while ((await indexer.indexBatch(64)) !== 0);
    expect(await pending()).toBe(0);
    await expectSearchesSameAsScan(indexOnly.db, await everything());
  }, 120_000);

  it('does not index while imports go on or a task runs', async () => {
    const indexer = new PostgresSearchIndexer(handle.db, 50);
    const task = await insertTask(handle.db, { task_name: 'busy', filters: {}, scope: 'channel', max_distance: 3, min_similarity: 0.8 }, 't');
    await handle.db.updateTable('dedup_tasks').set({ status: 'running' }).where('id', '=', task.id).execute();
    await upsertQuestions(handle.db, Array.from({ length: 50 }, (_, i) => row(BANK + 1000 + i)), 't4');
    indexer.start();
    try {
      await Bun.sleep(600);
      expect(await pending()).toBe(50);
      await handle.db.updateTable('dedup_tasks').set({ status: 'completed' }).where('id', '=', task.id).execute();
      await waitFor(async () => (await pending()) === 0, 30_000, 50);
    } finally {
      await indexer.stop();
    }
  }, 60_000);

  it('indexes after the checks in flight have answered', async () => {
    const checks = new InteractiveWork();
    const indexer = new PostgresSearchIndexer(handle.db, 50, checks);
    await upsertQuestions(handle.db, Array.from({ length: 50 }, (_, i) => row(BANK + 2000 + i)), 't5');
    let answer!: () => void;
    const check = checks.during(() => new Promise<void>((resolve) => (answer = resolve)));
    indexer.start();
    try {
      await Bun.sleep(600);
      expect(await pending()).toBe(50);
      answer();
      await check;
      await waitFor(async () => (await pending()) === 0, 30_000, 50);
    } finally {
      answer();
      await indexer.stop();
    }
  }, 60_000);
});

describe.skipIf(!testDatabaseServer())('PostgreSQL: migration 011 on a database made by 010', () => {
  it('drops the full index, leaves every row pending and exactly searchable, and the indexer catches up', async () => {
    const database = await createTestDatabase('pg011');
    const handle = await connectDatabase(database.url);
    try {
      const { error } = await new Migrator({ db: handle.db, provider: migrationsFor('postgres') }).migrateTo('010_search');
      expect(error).toBeUndefined();
      await upsertQuestions(handle.db, Array.from({ length: 1500 }, (_, i) => row(i)), 't1');
      await migrateToLatest(handle);
      const indexes = (await sql<{ indexdef: string }>`select indexdef from pg_indexes where tablename = 'questions' and indexname = 'questions_content_trgm'`.execute(handle.db)).rows;
      expect(indexes.map((index) => index.indexdef)).toEqual([expect.stringContaining('WHERE search_ready')]);
      expect(Number((await sql<{ n: number }>`select count(*) as n from questions where not search_ready`.execute(handle.db)).rows[0]!.n)).toBe(1500);
      const all = (await listQuestions(handle.db, {}, 0, 1_000_000)).items;
      for (const q of ['求最大值', 'VALUE OF', '100%_d', 'x']) expect((await listQuestions(handle.db, { q }, 0, 5000)).items.map((item) => item.id)).toEqual(naive(all, { q }).map((item) => item.id));
      const indexer = new PostgresSearchIndexer(handle.db);
      while ((await indexer.indexBatch(500)) !== 0);
      for (const q of ['求最大值', 'VALUE OF', '100%_d', 'x']) expect((await listQuestions(handle.db, { q }, 0, 5000)).items.map((item) => item.id)).toEqual(naive(all, { q }).map((item) => item.id));
    } finally {
      await handle.db.destroy();
      await database.drop();
    }
  }, 60_000);
});
