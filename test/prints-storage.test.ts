import { afterEach, describe, expect, it } from 'bun:test';
import { Migrator, sql } from 'kysely';
import { connectDatabase, migrateToLatest, migrationsFor, type DatabaseHandle } from '../src/db/connect.ts';
import { storePrints } from '../src/dedup/fingerprints.ts';
import { upsertQuestions } from '../src/questions/question.repository.ts';
import type { QuestionInput } from '../src/questions/question.schema.ts';
import { FINGERPRINT_WORDS } from '../workers/protocol.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { waitingForPrint } from './support/print-backlog.ts';

const NOW = '2026-01-01T00:00:00.000Z';
const question = (externalId: string, content: string, channel = 'default'): QuestionInput =>
  ({ external_id: externalId, type_name: '单选题', subject_name: '数学', channel_code: channel, content }) as QuestionInput;

/** A recognisable print per row: every word is row * 100 + word. */
function printsFor(rows: number): Uint32Array {
  const prints = new Uint32Array(rows * FINGERPRINT_WORDS);
  prints.forEach((_, k) => (prints[k] = Math.floor(k / FINGERPRINT_WORDS) * 100 + (k % FINGERPRINT_WORDS) + 1));
  return prints;
}

describe('question prints and their backlog', () => {
  let database: TestDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.db.destroy();
    await database?.drop();
    handle = database = undefined;
  });

  async function open() {
    database = await createTestDatabase('prints');
    handle = await connectDatabase(database.url);
    return handle;
  }

  const rowsOf = async ({ db }: DatabaseHandle) =>
    db.selectFrom('questions').select(['id', 'external_id', 'row_hash', 'channel_code']).orderBy('id').execute();
  const backlog = async ({ db }: DatabaseHandle) =>
    (await waitingForPrint(db)).map(
      (row) => `${row.question_id}@${row.type_name === '单选题' ? '' : `${row.type_name}/`}${row.channel_code}`,
    );
  /** Ids whose stored print is valid: made for the row as it is now. */
  const validPrints = async ({ db }: DatabaseHandle) =>
    (
      await db
        .selectFrom('question_prints as p')
        .innerJoin('questions as q', (join) => join.onRef('q.id', '=', 'p.question_id').onRef('q.row_hash', '=', 'p.row_hash'))
        .select('q.id')
        .orderBy('q.id')
        .execute()
    ).map((row) => row.id);

  it('lists new questions until a print of their current version is stored', async () => {
    const handle = await open();
    await migrateToLatest(handle);
    await upsertQuestions(handle.db, [question('a', '甲'), question('b', '乙'), question('c', '丙')], NOW);
    const rows = await rowsOf(handle);
    expect(await backlog(handle)).toEqual(rows.map((row) => `${row.id}@default`));

    const printed = rows.slice(0, 2).map((row) => ({ id: row.id, rowHash: row.row_hash }));
    await storePrints(handle.db, printed.map((row, i) => ({ ...row, row: i })), printsFor(2));
    expect(await backlog(handle)).toEqual([`${rows[2]!.id}@default`]);
    expect(await validPrints(handle)).toEqual([rows[0]!.id, rows[1]!.id]);
    const stored = await handle.db.selectFrom('question_prints').select('print').where('question_id', '=', rows[1]!.id).executeTakeFirstOrThrow();
    expect([...new Uint32Array(new Uint8Array(stored.print).buffer)]).toEqual([...printsFor(2).subarray(FINGERPRINT_WORDS)]);
  });

  it('puts a changed question back on the backlog, under its new group, and never trusts its old print', async () => {
    const handle = await open();
    await migrateToLatest(handle);
    await upsertQuestions(handle.db, [question('a', '甲'), question('b', '乙')], NOW);
    const before = await rowsOf(handle);
    await storePrints(handle.db, before.map((row, i) => ({ id: row.id, rowHash: row.row_hash, row: i })), printsFor(2));
    expect(await backlog(handle)).toEqual([]);

    // Same external id, new text and type; and an identical re-import, which changes nothing.
    await upsertQuestions(handle.db, [{ ...question('a', '甲改'), type_name: '多选题' }, question('b', '乙')], NOW);
    const [a, b] = before;
    expect(await backlog(handle)).toEqual([`${a!.id}@多选题/default`]);
    expect(await validPrints(handle)).toEqual([b!.id]);

    // A print computed from the version read before the change arrives late: it stays invalid, the row stays listed.
    await storePrints(handle.db, [{ id: a!.id, rowHash: a!.row_hash, row: 0 }], printsFor(1));
    expect(await validPrints(handle)).toEqual([b!.id]);
    expect(await backlog(handle)).toEqual([`${a!.id}@多选题/default`]);

    const after = await rowsOf(handle);
    await storePrints(handle.db, [{ id: a!.id, rowHash: after[0]!.row_hash, row: 0 }], printsFor(1));
    expect(await validPrints(handle)).toEqual([a!.id, b!.id]);
    expect(await backlog(handle)).toEqual([]);
  });

  it('forgets the backlog entry and the print of a deleted question', async () => {
    const handle = await open();
    await migrateToLatest(handle);
    await upsertQuestions(handle.db, [question('a', '甲'), question('b', '乙')], NOW);
    const [a, b] = await rowsOf(handle);
    await storePrints(handle.db, [{ id: a!.id, rowHash: a!.row_hash, row: 0 }], printsFor(1));
    await handle.db.deleteFrom('questions').where('id', 'in', [a!.id, b!.id]).execute();
    expect(await backlog(handle)).toEqual([]);
    expect(await handle.db.selectFrom('question_prints').selectAll().execute()).toEqual([]);
  });

  it('moves prints out of the questions rows when upgrading a bank made before them', async () => {
    const handle = await open();
    const migrator = new Migrator({ db: handle.db, provider: migrationsFor(handle.dialect) });
    const { error } = await migrator.migrateTo('004_group_decisions');
    expect(error).toBeUndefined();
    await sql`INSERT INTO questions (external_id, type_name, subject_name, channel_code, content, row_hash, created_at, updated_at, fingerprint)
      VALUES ('a', '单选题', '数学', 'default', '甲', 'h1', ${NOW}, ${NOW}, ${Buffer.alloc(64, 7)}),
             ('b', '单选题', '数学', 'x', '乙', 'h2', ${NOW}, ${NOW}, NULL)`.execute(handle.db);
    await migrateToLatest(handle);
    const [a, b] = await rowsOf(handle);
    expect(await validPrints(handle)).toEqual([a!.id]);
    expect(await backlog(handle)).toEqual([`${b!.id}@x`]);
    const stored = await handle.db.selectFrom('question_prints').select('print').executeTakeFirstOrThrow();
    expect([...new Uint8Array(stored.print)]).toEqual(Array(64).fill(7));
    // The triggers are in place after the upgrade too.
    await upsertQuestions(handle.db, [question('c', '丙')], NOW);
    expect((await backlog(handle)).length).toBe(2);
  });
});
