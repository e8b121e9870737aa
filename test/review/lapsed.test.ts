import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { Migrator } from 'kysely';
import { connectDatabase, migrateToLatest, migrationsFor, type DatabaseHandle } from '../../src/db/connect.ts';
import { listDecisions, rememberVerdicts } from '../../src/review/pair-decisions.repository.ts';
import { upsertQuestions } from '../../src/questions/question.repository.ts';
import { questionInput, type QuestionInput } from '../../src/questions/question.schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * `pair_decisions.lapsed` (migration 013) must say exactly what checking each decision against its
 * two questions says: filled for the decisions a bank already had, then kept by the trigger through
 * every kind of change (content, group, a change back), on both databases.
 */
const question = (i: number, edit: Partial<QuestionInput> = {}): QuestionInput =>
  questionInput.parse({ external_id: `q${i}`, type_name: '单选题', subject_name: '数学', channel_code: 'c1', content: `第${i}题：求 x^2 + ${i} 的最小值`, ...edit });

/** What the flag must be: a question's current version and group against the decision's, worked out in JavaScript. */
async function expected(db: DatabaseHandle['db']): Promise<[number, boolean][]> {
  const decisions = await db.selectFrom('pair_decisions').selectAll().execute();
  const questions = new Map((await db.selectFrom('questions').select(['id', 'row_hash', 'type_name', 'subject_name', 'channel_code']).execute()).map((q) => [q.id, q]));
  const holds = (id: number, hash: string, channel: string, d: { type_name: string; subject_name: string }) => {
    const q = questions.get(id);
    return q !== undefined && q.row_hash === hash && q.channel_code === channel && q.type_name === d.type_name && q.subject_name === d.subject_name;
  };
  return decisions.map((d): [number, boolean] => [d.id, !(holds(d.question_a, d.row_hash_a, d.channel_a, d) && holds(d.question_b, d.row_hash_b, d.channel_b, d))]).sort((x, y) => x[0] - y[0]);
}

async function listed(db: DatabaseHandle['db']): Promise<[number, boolean][]> {
  const { items } = await listDecisions(db, {}, 0, 500);
  const flagged = new Set((await listDecisions(db, { lapsed: true }, 0, 500)).items.map((d) => d.id));
  expect((await listDecisions(db, { lapsed: false }, 0, 500)).total + flagged.size).toBe(items.length);
  for (const d of items) expect(flagged.has(d.id)).toBe(d.lapsed);
  return items.map((d): [number, boolean] => [d.id, d.lapsed]).sort((x, y) => x[0] - y[0]);
}

describe('decisions lapse with their questions (migration 013)', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  const now = '2026-12-04T23:00:00.000Z';

  beforeAll(async () => {
    database = await createTestDatabase('lapsed');
    handle = await connectDatabase(database.url);
  });
  afterAll(async () => {
    await handle.db.destroy();
    await database.drop();
  });

  it('fills the flag for the decisions a bank had before it, then keeps it through edits, moves and changes back', async () => {
    const { db } = handle;
    // A bank as it was before migration 013: decisions, then an edit that lapses one of them.
    const migrator = new Migrator({ db, provider: migrationsFor(handle.dialect) });
    const before = await migrator.migrateTo('012_bulk_insert_upkeep');
    expect(before.error).toBeUndefined();
    await upsertQuestions(db, Array.from({ length: 8 }, (_, i) => question(i + 1)), now);
    const ids = (await db.selectFrom('questions').select('id').orderBy('id').execute()).map((row) => row.id);
    // Written as 009 wrote them (rememberVerdicts now also resets the flag 013 adds).
    for (const [a, b, verdict] of [[0, 1, 'duplicate'], [2, 3, 'distinct'], [4, 5, 'distinct']] as const) {
      const qa = await db.selectFrom('questions').selectAll().where('id', '=', ids[a]!).executeTakeFirstOrThrow();
      const qb = await db.selectFrom('questions').selectAll().where('id', '=', ids[b]!).executeTakeFirstOrThrow();
      await db
        .insertInto('pair_decisions')
        .values({ question_a: qa.id, question_b: qb.id, verdict, row_hash_a: qa.row_hash, row_hash_b: qb.row_hash, type_name: qa.type_name, subject_name: qa.subject_name, channel_a: qa.channel_code, channel_b: qb.channel_code, decided_by: 'alice', decided_at: now, note: null })
        .execute();
    }
    await upsertQuestions(db, [question(2, { content: '第2题：改过了' })], now);

    await migrateToLatest(handle);
    expect(await listed(db)).toEqual(await expected(db));
    expect((await listed(db)).map(([, lapsed]) => lapsed)).toEqual([true, false, false]);

    // Content edits, a move to another group (subject) and a change back: the flag follows each, both ways.
    const steps: QuestionInput[][] = [
      [question(3, { content: '第3题：改' })],
      [question(2)],
      [question(6, { subject_name: '物理' })],
      [question(3), question(6)],
      [question(7, { content: '第7题：与决定无关' })],
    ];
    for (const batch of steps) {
      await upsertQuestions(db, batch, now);
      expect(await listed(db)).toEqual(await expected(db));
    }
    expect((await listed(db)).map(([, lapsed]) => lapsed)).toEqual([false, false, false]);
    // A decision made again, with the current versions, holds.
    await upsertQuestions(db, [question(1, { content: '第1题：改' })], now);
    expect((await listed(db)).map(([, lapsed]) => lapsed)).toEqual([true, false, false]);
    await db.transaction().execute((trx) => rememberVerdicts(trx, [{ a: ids[1]!, b: ids[0]!, verdict: 'distinct' }], 'bob', now, null));
    expect(await listed(db)).toEqual(await expected(db));
    expect((await listed(db)).map(([, lapsed]) => lapsed)).toEqual([false, false, false]);
  });
});
