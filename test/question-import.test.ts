import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { connectDatabase, migrateToLatest, type DatabaseHandle } from '../src/db/connect.ts';
import { sql } from 'kysely';
import { packRows, unpackRows } from '../src/questions/packed-rows.ts';
import { listQuestions, upsertQuestions, upsertStoredQuestions } from '../src/questions/question.repository.ts';
import { legacyRowHash, toStoredFields } from '../src/questions/stored-question.ts';
import { questionInput, type QuestionInput } from '../src/questions/question.schema.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const row = (i: number, overrides: Record<string, unknown> = {}): QuestionInput =>
  questionInput.parse({
    external_id: i % 7 === 0 ? undefined : `ext-${i}`,
    type_name: '单选题',
    subject_name: '数学',
    channel_code: `ch-${i % 3}`,
    content: `第 ${i} 题：求 ${i} + 1 的值`,
    options: i % 2 === 0 ? [`${i}`, `${i + 1}`] : { A: `${i}`, B: `${i + 1}` },
    answer: i % 5 === 0 ? 1 : ['B'],
    analysis: i % 4 === 0 ? null : `解析 ${i}`,
    ...overrides,
  });

describe('upsertQuestions', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    database = await createTestDatabase('question-import');
    handle = await connectDatabase(database.url);
    await migrateToLatest(handle);
  });
  afterAll(async () => {
    await handle.db.destroy();
    await database.drop();
  });

  async function allRows() {
    const { items, total } = await listQuestions(handle.db, {}, 0, 100_000);
    expect(items.length).toBe(total);
    return items;
  }

  it('stores every field of a batch larger than one INSERT, and re-imports it as unchanged, updated and inserted', async () => {
    const first = Array.from({ length: 1234 }, (_, i) => row(i));
    expect(await upsertQuestions(handle.db, first, 't1')).toEqual({ inserted: 1234, updated: 0, unchanged: 0 });
    const stored = await allRows();
    expect(stored.map(({ id, created_at, updated_at, ...fields }) => fields)).toEqual(
      first.map((q) => ({ external_id: q.external_id ?? null, type_name: q.type_name, subject_name: q.subject_name, channel_code: q.channel_code, content: q.content, options: q.options ?? null, answer: q.answer ?? null, analysis: q.analysis ?? null, duplicate_of: null })),
    );
    expect(stored.every((q) => q.created_at === 't1' && q.updated_at === 't1')).toBe(true);

    // Rows with an external_id come back unchanged, or updated when edited; rows without one are new again.
    const again = first.map((q, i) => (i % 10 === 1 ? { ...q, content: `${q.content}（改）` } : q));
    const withKey = first.filter((q) => q.external_id != null).length;
    const edited = first.filter((q, i) => q.external_id != null && i % 10 === 1).length;
    expect(await upsertQuestions(handle.db, again, 't2')).toEqual({ inserted: 1234 - withKey, updated: edited, unchanged: withKey - edited });
    const byExternal = new Map((await allRows()).filter((q) => q.external_id !== null).map((q) => [q.external_id, q]));
    expect(byExternal.get('ext-1')).toMatchObject({ content: '第 1 题：求 1 + 1 的值（改）', created_at: 't1', updated_at: 't2' });
    expect(byExternal.get('ext-2')).toMatchObject({ content: '第 2 题：求 2 + 1 的值', updated_at: 't1' });
  });

  it('lets the later of two rows with the same key in one batch win', async () => {
    const batch = [row(5000, { content: '先' }), row(5001), row(5000, { content: '后' })];
    expect(await upsertQuestions(handle.db, batch, 't3')).toEqual({ inserted: 2, updated: 1, unchanged: 0 });
    const stored = (await allRows()).filter((q) => q.external_id === 'ext-5000');
    expect(stored.map((q) => q.content)).toEqual(['后']);
  });

  it('gives the same answers for batches of every size from 1 to 80 (more distinct statements than are kept prepared)', async () => {
    let next = 10_000;
    for (let size = 1; size <= 80; size++) {
      const batch = Array.from({ length: size }, () => row(next++, { external_id: `size-${next}` }));
      expect(await upsertQuestions(handle.db, batch, 't4')).toEqual({ inserted: size, updated: 0, unchanged: 0 });
      expect(await upsertQuestions(handle.db, batch, 't5')).toEqual({ inserted: 0, updated: 0, unchanged: size });
    }
    const sized = (await allRows()).filter((q) => q.external_id?.startsWith('size-'));
    expect(sized.length).toBe((80 * 81) / 2);
    expect(new Set(sized.map((q) => q.external_id)).size).toBe(sized.length);
  });

  it('stores rows whose text arrives as UTF-8 bytes (the NDJSON thread) exactly as rows with strings, and updates them', async () => {
    const inputs = Array.from({ length: 700 }, (_, i) => row(20_000 + i, { external_id: `bytes-${i}`, content: `第 ${i} 题 😀 é`, analysis: i % 3 === 0 ? '' : null }));
    const asBytes = () => unpackRows(packRows(inputs.map(toStoredFields)));
    expect(asBytes()[0]!.content).toBeInstanceOf(Uint8Array);
    expect(await upsertStoredQuestions(handle.db, asBytes(), 't6')).toEqual({ inserted: 700, updated: 0, unchanged: 0 });
    const stored = (await allRows()).filter((q) => q.external_id?.startsWith('bytes-'));
    expect(stored.map(({ id, created_at, updated_at, ...fields }) => fields)).toEqual(
      inputs.map((q) => ({ external_id: q.external_id ?? null, type_name: q.type_name, subject_name: q.subject_name, channel_code: q.channel_code, content: q.content, options: q.options ?? null, answer: q.answer ?? null, analysis: q.analysis ?? null, duplicate_of: null })),
    );
    const types = await sql<{ kind: string }>`select distinct typeof(content) as kind from questions where external_id like 'bytes-%'`.execute(handle.db).catch(() => undefined);
    if (types) expect(types.rows.map((r) => r.kind)).toEqual(['text']);
    // The same rows sent again as strings are unchanged; an edited one arriving as bytes is updated.
    expect(await upsertQuestions(handle.db, inputs, 't7')).toEqual({ inserted: 0, updated: 0, unchanged: 700 });
    inputs[5] = { ...inputs[5]!, content: '改过的 😀' };
    expect(await upsertStoredQuestions(handle.db, asBytes(), 't8')).toEqual({ inserted: 0, updated: 1, unchanged: 699 });
    expect((await allRows()).find((q) => q.external_id === 'bytes-5')).toMatchObject({ content: '改过的 😀', updated_at: 't8' });
  });

  it('recognises rows stored with the hash of earlier releases as unchanged, and updates them when edited', async () => {
    const inputs = Array.from({ length: 20 }, (_, i) => row(30_000 + i, { external_id: `legacy-${i}` }));
    await upsertQuestions(handle.db, inputs, 't9');
    // As an earlier release stored them.
    for (const input of inputs) {
      const stored = toStoredFields(input);
      await handle.db.updateTable('questions').set({ row_hash: legacyRowHash(stored as never) }).where('external_id', '=', stored.external_id).execute();
    }
    expect(await upsertStoredQuestions(handle.db, unpackRows(packRows(inputs.map(toStoredFields))), 't10')).toEqual({ inserted: 0, updated: 0, unchanged: 20 });
    inputs[0] = { ...inputs[0]!, answer: 'C' };
    expect(await upsertQuestions(handle.db, inputs, 't11')).toEqual({ inserted: 0, updated: 1, unchanged: 19 });
  });
});
