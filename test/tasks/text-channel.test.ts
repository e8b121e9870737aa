import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { Piscina } from 'piscina';
import pino from 'pino';
import { BankIndex } from '../../src/dedup/bank-index.ts';
import type { GroupRow } from '../../src/db/schema.ts';
import { storePrints } from '../../src/dedup/fingerprints.ts';
import { upsertQuestions } from '../../src/questions/question.repository.ts';
import type { QuestionInput } from '../../src/questions/question.schema.ts';
import { buildGroupJob, printedRows, readTexts, type LoadedGroup } from '../../src/tasks/group-job.ts';
import { unpackTexts } from '../../workers/packed-texts.ts';
import { FINGERPRINT_WORDS, jobTransferList, type Cluster, type GroupJob, type GroupResult } from '../../workers/protocol.ts';
import { serveTexts } from '../../workers/text-channel.ts';
import { loadCorpus, scaleCorpus } from '../bench/corpus.ts';
import { openTestDatabase } from '../support/database.ts';
import { checkOnThisThread } from '../../src/dedup/check.ts';

/**
 * A re-run reads a group's stored prints without their texts; the worker fetches the few texts
 * it must read over the job's text channel while it waits, in the same trip. Real database,
 * real pool running the real dedup worker, a real MessageChannel between them.
 */
setDefaultTimeout(60_000);

const OLD = 400;
const NEW = 40;
const corpus = loadCorpus();
// Generated questions with near copies among them, past the GAOKAO originals; the new ones are
// old ones with a character changed, so they join old clusters and the worker must read old texts.
const oldTexts = scaleCorpus(corpus.base, corpus.base.length + OLD).slice(corpus.base.length).map((q) => q.content);
const typo = (text: string) => {
  const at = text.slice(text.length >> 1).search(/[\u4e00-\u9fff]/);
  const index = at < 0 ? -1 : (text.length >> 1) + at;
  return index < 0 ? `${text} 某` : `${text.slice(0, index)}${text[index] === '某' ? '甲' : '某'}${text.slice(index + 1)}`;
};
const texts = [...oldTexts, ...Array.from({ length: NEW }, (_, i) => typo(oldTexts[(i * 9) % OLD]!))];
const opts = { maxDistance: 3, minSimilarity: 0.8 };
const now = () => new Date().toISOString();
const question = (i: number): QuestionInput => ({ external_id: `q${i}`, type_name: '单选题', subject_name: '数学', channel_code: 'channel', content: texts[i]!, options: i % 7 === 0 ? ['甲', '乙'] : undefined });
const group = { type_name: '单选题', subject_name: '数学', channel_code: 'channel' } as GroupRow;

let handle: Awaited<ReturnType<typeof openTestDatabase>>;
let pool: Piscina;

beforeAll(async () => {
  handle = await openTestDatabase('text-channel');
  pool = new Piscina({ filename: new URL('../../workers/dedup.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 1 });
});

afterAll(async () => {
  await pool.destroy();
  await handle.close();
});

const run = (job: GroupJob): Promise<GroupResult> => pool.run(job, { transferList: jobTransferList(job) as never });
const answer = (clusters: Cluster[]) => clusters.map(({ canonicalId, members }) => ({ canonicalId, members }));

/** Sends a job read with omitPrinted, its texts served by `read`; returns the result and every row the worker asked for. */
async function runServed(loaded: LoadedGroup, read = (rows: Int32Array) => readTexts(handle.db, Array.from(rows, (row) => loaded.ids[row]!))) {
  const asked: number[][] = [];
  const served = serveTexts(async (rows) => {
    asked.push(Array.from(rows));
    return read(rows);
  });
  loaded.job.texts = served.channel;
  try {
    return { result: await run(loaded.job), asked };
  } finally {
    served.close();
  }
}

describe('a re-run group read without its printed texts', () => {
  it('leaves out exactly the printed rows, fetches only some of their texts, in one trip, and finds what a run with every text finds', async () => {
    const { db } = handle;
    await upsertQuestions(db, Array.from({ length: OLD }, (_, i) => question(i)), now());
    const first = await buildGroupJob(db, group, opts);
    const cold = await run(first.job);
    await storePrints(db, printedRows(first, cold.fresh!), cold.prints!);

    await upsertQuestions(db, Array.from({ length: NEW }, (_, i) => question(OLD + i)), now());
    const lazy = await buildGroupJob(db, group, opts, { omitPrinted: true });
    expect(lazy.ids).toHaveLength(OLD + NEW);
    // Only the rows read with their text have a version to store a print for.
    expect(lazy.versions.filter((version) => version !== undefined)).toHaveLength(NEW);
    // The old rows go without text, their prints vouched for; the new ones with their texts.
    expect(Array.from(lazy.job.omitted!)).toEqual(Array.from({ length: OLD + NEW }, (_, row) => (row < OLD ? 1 : 0)));
    expect(Array.from(lazy.job.vouched!)).toEqual(Array.from(lazy.job.omitted!));
    expect(unpackTexts(lazy.job.contents).slice(OLD)).toEqual(texts.slice(OLD, OLD + NEW));
    expect(unpackTexts(lazy.job.contents).slice(0, OLD).every((text) => text === '')).toBe(true);
    lazy.job.previous = cold.decisions!;
    const { result, asked } = await runServed(lazy);

    const whole = await buildGroupJob(db, group, opts);
    const expected = await run(whole.job);
    expect(result.needContent).toBeUndefined();
    // The worker writes the changed clusters and counts the kept ones, whose stored copies (the
    // cold run's, not in `dropped`) stay: together, exactly the clusters of a run with every text.
    const key = (c: ReturnType<typeof answer>[number]) => JSON.stringify(c);
    const stored = answer(cold.clusters).filter((c) => !Array.from(result.dropped!).includes(c.canonicalId));
    expect(result.kept!.clusters).toBe(stored.length);
    expect(result.kept!.clusters).toBeGreaterThan(0);
    expect(result.clusters.length).toBeGreaterThan(0);
    expect([...stored, ...answer(result.clusters)].map(key).sort()).toEqual(answer(expected.clusters).map(key).sort());
    expect(result.kept!.duplicates).toBe(stored.reduce((sum, c) => sum + c.members.length - 1, 0));
    // New questions joined old clusters, so some old texts were needed, but never all, never twice, never a new row's.
    const fetched = asked.flat();
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.length).toBeLessThan(OLD / 2);
    expect(new Set(fetched).size).toBe(fetched.length);
    expect(fetched.every((row) => row < OLD)).toBe(true);
  });

  it('fails the group with the runner’s reason when a fetch fails, and the worker thread stays usable', async () => {
    const { db } = handle;
    const lazy = await buildGroupJob(db, group, opts, { omitPrinted: true });
    expect(lazy.job.omitted).not.toBeNull();
    // No previous decisions: every candidate pair is verified, so texts are needed.
    await expect(runServed(lazy, async () => Promise.reject(new Error('database went away')))).rejects.toThrow('fetching texts failed: database went away');
    const again = await buildGroupJob(db, group, opts, { omitPrinted: true });
    const { result } = await runServed(again);
    expect(result.clusters.length).toBeGreaterThan(0);
  });
});

describe('a re-run group read with the check index at hand', () => {
  it('takes the prints it holds for the rows’ current versions instead of reading them, and reads the others', async () => {
    const { db } = handle;
    const index = new BankIndex({ db, pool, logger: pino({ level: 'silent' }), printWorker: new URL('../../workers/print.worker.ts', import.meta.url), checks: checkOnThisThread() });
    // Indexes the stored prints (the old rows'); closed at once, before its backfill prints the new rows.
    await index.load();
    await index.close();
    // One old row changes after it was indexed: the print held for it is of another version now.
    const changed = (await db.selectFrom('questions').select('id').where('external_id', '=', 'q3').executeTakeFirstOrThrow()).id;
    await db.updateTable('questions').set({ content: `${texts[3]}（改）`, row_hash: 'edited' }).where('id', '=', changed).execute();

    const fromTable = await buildGroupJob(db, group, opts, { omitPrinted: true });
    // With the stored prints gone, only the index can tell the job the old rows' prints.
    const stored = await db.selectFrom('question_prints').selectAll().execute();
    await db.deleteFrom('question_prints').execute();
    try {
      const fromIndex = await buildGroupJob(db, group, opts, { omitPrinted: true, printsFrom: index });
      expect(fromIndex.job.omitted!.reduce((a, b) => a + b, 0)).toBe(OLD - 1);
      expect(fromIndex.job.omitted![Array.from(fromIndex.ids).indexOf(changed)]).toBe(0);
      // The very job a read of the stored prints makes.
      expect(Array.from(fromIndex.ids)).toEqual(Array.from(fromTable.ids));
      expect(Array.from(fromIndex.job.omitted!)).toEqual(Array.from(fromTable.job.omitted!));
      expect(Array.from(fromIndex.job.vouched!)).toEqual(Array.from(fromTable.job.vouched!));
      expect(Array.from(fromIndex.job.prints!)).toEqual(Array.from(fromTable.job.prints!));
      expect(unpackTexts(fromIndex.job.contents)).toEqual(unpackTexts(fromTable.job.contents));
    } finally {
      await db.insertInto('question_prints').values(stored).execute();
    }
  });
});

describe('a question deleted while its group is read', () => {
  it('is left out, and the rows after it keep their own prints', async () => {
    // Needs the delete to land between the read's two queries: SQLite's one connection orders them,
    // a PostgreSQL pool does not.
    if (handle.dialect !== 'sqlite') return;
    const { db } = handle;
    const small = { ...group, channel_code: 'vanishing' } as GroupRow;
    const inChannel = (i: number): QuestionInput => ({ ...question(i), external_id: `v${i}`, channel_code: 'vanishing' });
    await upsertQuestions(db, [0, 1, 2].map(inChannel), now());
    const whole = await buildGroupJob(db, small, opts);
    const cold = await run(whole.job);
    await storePrints(db, printedRows(whole, cold.fresh!), cold.prints!);
    const ids = Array.from(whole.ids);
    // The middle question changes, so its print no longer counts: it is to be read with its text.
    await db.updateTable('questions').set({ content: `${texts[1]}（改）`, row_hash: 'changed' }).where('id', '=', ids[1]!).execute();

    // The delete queues behind the read's first query, so it lands between reading the prints and
    // reading the texts, where a row to read by id is gone.
    const reading = buildGroupJob(db, small, opts, { omitPrinted: true });
    const deleting = db.deleteFrom('questions').where('id', '=', ids[1]!).execute();
    const [loaded] = await Promise.all([reading, deleting]);
    expect(Array.from(loaded.job.ids)).toEqual([ids[0]!, ids[2]!]);
    expect(Array.from(loaded.ids)).toEqual([ids[0]!, ids[2]!]);
    expect(Array.from(loaded.job.omitted!)).toEqual([1, 1]);
    // The last row's print moved up to its new place.
    expect(Array.from(loaded.job.prints!)).toEqual([...cold.prints!.subarray(0, FINGERPRINT_WORDS), ...cold.prints!.subarray(2 * FINGERPRINT_WORDS, 3 * FINGERPRINT_WORDS)]);
  });
});

describe('readTexts', () => {
  it('returns texts and options in the order asked, a question gone as an empty text', async () => {
    const { db } = handle;
    const rows = await db.selectFrom('questions').select(['id', 'content', 'options']).where('external_id', 'in', ['q0', 'q7', 'q8']).orderBy('id').execute();
    const gone = Math.max(...rows.map((row) => row.id)) + 10_000;
    const asked = [rows[2]!.id, gone, rows[0]!.id, rows[1]!.id];
    const { contents, options } = await readTexts(db, asked);
    expect(unpackTexts(contents)).toEqual([rows[2]!.content, '', rows[0]!.content, rows[1]!.content]);
    expect(unpackTexts(options)).toEqual([rows[2]!.options ?? '', '', rows[0]!.options ?? '', rows[1]!.options ?? '']);
  });
});
