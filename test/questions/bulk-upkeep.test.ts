import { afterEach, describe, expect, it } from 'bun:test';
import { Migrator, sql } from 'kysely';
import { connectDatabase, migrationsFor, migrateToLatest, type DatabaseHandle } from '../../src/db/connect.ts';
import { deleteQuestion, upsertQuestions, upsertStoredQuestions } from '../../src/questions/question.repository.ts';
import { questionInput, type QuestionInput } from '../../src/questions/question.schema.ts';
import { toStoredFields } from '../../src/questions/stored-question.ts';
import { createTestDatabase, openTestDatabase } from '../support/database.ts';
import { waitingForPrint } from '../support/print-backlog.ts';

/**
 * An import batch puts its new rows into the group counts set-based on SQLite (migration 012)
 * and leaves them above the print backlog's mark (014); updates and deletes go through per-row
 * triggers. Whatever the mix of new, unchanged, changed and moved rows, repeated keys, deletes
 * and failed batches, both must stay exactly what a scan of `questions` says: every question
 * (none is printed here) waiting for a print once, under its current group, and each group's
 * count its number of questions.
 */
const question = (i: number, version = 0, group = i % 7): QuestionInput =>
  questionInput.parse({
    external_id: i % 11 === 0 ? undefined : `id-${i}`,
    type_name: group % 2 === 0 ? '单选题' : '填空题',
    subject_name: `科目-${group}`,
    channel_code: `ch-${group % 3}`,
    content: `已知 f(x) = ${i}x + ${version}，求 f(1)。`,
  });

async function expectUpkeepExact({ db }: DatabaseHandle) {
  const scanCounts = await sql<{ g: string; n: number }>`SELECT type_name || '/' || subject_name || '/' || channel_code AS g, count(*) AS n
    FROM questions GROUP BY type_name, subject_name, channel_code ORDER BY g`.execute(db);
  const keptCounts = await sql<{ g: string; n: number }>`SELECT type_name || '/' || subject_name || '/' || channel_code AS g, question_count AS n
    FROM question_group_counts ORDER BY g`.execute(db);
  expect(keptCounts.rows.map((row) => [row.g, Number(row.n)])).toEqual(scanCounts.rows.map((row) => [row.g, Number(row.n)]));
  const scanBacklog = await sql<{ k: string }>`SELECT type_name || '/' || subject_name || '/' || channel_code || '/' || id AS k FROM questions ORDER BY k`.execute(db);
  const waiting = (await waitingForPrint(db)).map((row) => `${row.type_name}/${row.subject_name}/${row.channel_code}/${row.question_id}`).sort();
  expect(waiting).toEqual(scanBacklog.rows.map((row) => row.k).sort());
}

describe('backlog and group counts through import batches (set-based on SQLite)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('stay exact through new, unchanged, changed, moved and repeated rows, deletes and a failed batch', async () => {
    const handle = await openTestDatabase('bulk-upkeep');
    close = handle.close;
    const { db } = handle;
    const now = new Date().toISOString();

    // New rows, a key repeated inside the batch (the later row wins), rows without an external_id.
    const first = Array.from({ length: 1200 }, (_, i) => question(i));
    first.push(question(5, 1), question(6));
    expect(await upsertQuestions(db, first, now)).toEqual({ inserted: 1200, updated: 1, unchanged: 1 });
    await expectUpkeepExact(handle);

    // Unchanged, changed in place, moved to another group (same channel, so the same key), and new rows in one batch.
    const second = Array.from({ length: 1500 }, (_, i) => (i % 3 === 0 ? question(i, 2) : i % 3 === 1 ? question(i, 0, (i % 7) + 3) : question(i)));
    const counts = await upsertQuestions(db, second, now);
    // New: the 300 keys not stored yet, and every row without an external_id among the first 1,200.
    expect(counts.inserted).toBe(300 + Array.from({ length: 1200 }, (_, i) => i).filter((i) => i % 11 === 0).length);
    await expectUpkeepExact(handle);

    const [firstId] = (await db.selectFrom('questions').select('id').orderBy('id').limit(1).execute()).map((row) => row.id);
    await deleteQuestion(db, firstId!);
    await expectUpkeepExact(handle);

    // A batch that fails half-way (a row SQLite and PostgreSQL refuse: no content) leaves nothing of itself.
    const before = await db.selectFrom('questions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const bad = [...Array.from({ length: 700 }, (_, i) => toStoredFields(question(50_000 + i))), { ...toStoredFields(question(60_000)), content: null as unknown as string }];
    await expect(upsertStoredQuestions(db, bad, now)).rejects.toThrow();
    const after = await db.selectFrom('questions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    await expectUpkeepExact(handle);

    // And the next batch after the failure is kept right again.
    await upsertQuestions(db, Array.from({ length: 300 }, (_, i) => question(70_000 + i)), now);
    await expectUpkeepExact(handle);
  });

  it('stay exact for a batch of several INSERT statements, after the newest rows were deleted (ids skip past the largest)', async () => {
    const handle = await openTestDatabase('bulk-upkeep-ranges');
    close = handle.close;
    const { db } = handle;
    const now = new Date().toISOString();
    await upsertQuestions(db, Array.from({ length: 50 }, (_, i) => question(i)), now);
    // The newest rows deleted: the next ids continue past the largest id left, not right after it.
    const newest = await db.selectFrom('questions').select('id').orderBy('id', 'desc').limit(20).execute();
    for (const { id } of newest) await deleteQuestion(db, id);
    expect(await upsertQuestions(db, Array.from({ length: 6000 }, (_, i) => question(1000 + i)), now)).toEqual({ inserted: 6000, updated: 0, unchanged: 0 });
    await expectUpkeepExact(handle);
  });

  it('migrates a bank stored before migration 012: its backlog and counts stay exact, and imports after keep them so', async () => {
    const database = await createTestDatabase('bulk-upkeep-migrate');
    const handle = await connectDatabase(database.url);
    close = async () => {
      await handle.db.destroy();
      await database.drop();
    };
    const migrator = new Migrator({ db: handle.db, provider: migrationsFor(handle.dialect) });
    const { error } = await migrator.migrateTo('010_search');
    expect(error).toBeUndefined();
    const now = new Date().toISOString();
    // Written under the schema of 010 (per-row INSERT triggers), as a bank of an earlier release was.
    const old = Array.from({ length: 400 }, (_, i) => toStoredFields(question(i)));
    await handle.db
      .insertInto('questions')
      .values(old.map((row) => ({ ...row, content: row.content as string, options: null, answer: null, analysis: null, created_at: now, updated_at: now })))
      .execute();
    await migrateToLatest(handle);
    await expectUpkeepExact(handle);
    // Rows without an external_id are new each time; the others are unchanged (version 0) or changed.
    const stored = Array.from({ length: 400 }, (_, i) => i);
    const keyed = stored.filter((i) => i % 11 !== 0);
    expect(await upsertQuestions(handle.db, Array.from({ length: 800 }, (_, i) => question(i, i % 2)), now)).toEqual({
      inserted: 400 + (stored.length - keyed.length),
      updated: keyed.filter((i) => i % 2 === 1).length,
      unchanged: keyed.filter((i) => i % 2 === 0).length,
    });
    await expectUpkeepExact(handle);
  });
});
