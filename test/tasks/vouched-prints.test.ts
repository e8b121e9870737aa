import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { Piscina } from 'piscina';
import pino from 'pino';
import { BankIndex } from '../../src/dedup/bank-index.ts';
import { upsertQuestions } from '../../src/questions/question.repository.ts';
import type { QuestionInput } from '../../src/questions/question.schema.ts';
import { createProgressSink } from '../../src/realtime/progress.ts';
import { listClusters } from '../../src/tasks/result.repository.ts';
import { getTaskRow, insertTask } from '../../src/tasks/task.repository.ts';
import { TaskRunner, type GroupPool } from '../../src/tasks/task.runner.ts';
import { dedupGroup } from '../../workers/dedup/engine.ts';
import { packTexts } from '../../workers/packed-texts.ts';
import type { GroupJob, GroupResult } from '../../workers/protocol.ts';
import { loadCorpus, scaleCorpus } from '../bench/corpus.ts';
import { openTestDatabase } from '../support/database.ts';
import { waitingForPrint } from '../support/print-backlog.ts';
import { checkOnThisThread } from '../../src/dedup/check.ts';

/**
 * A group whose questions all have valid prints goes to the worker with those prints vouched
 * for: one trip, no print checked or computed again, and the answer a run from the texts alone
 * gives. Real database, real pool running the real dedup worker.
 */
setDefaultTimeout(60_000);

const SIZE = 600;
const corpus = loadCorpus();
// Past the GAOKAO originals: generated questions with near copies among them.
const texts = scaleCorpus(corpus.base, corpus.base.length + SIZE).slice(corpus.base.length).map((q) => q.content);
const now = () => new Date().toISOString();
const silent = pino({ level: 'silent' });
let handle: Awaited<ReturnType<typeof openTestDatabase>>;
let piscina: Piscina;

beforeAll(async () => {
  handle = await openTestDatabase('vouched');
  piscina = new Piscina({ filename: new URL('../../workers/dedup.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 2 });
});

afterAll(async () => {
  await piscina.close({ force: true });
  await handle.close();
});

describe('a group whose questions are all printed', () => {
  it('is sent once with its prints vouched for, recomputes none, and finds the clusters of a run from the texts alone', async () => {
    const { db } = handle;
    const bank = texts.map((content, i) => ({ external_id: `q${i}`, type_name: '单选题', subject_name: '数学', channel_code: 'printed', content }) as QuestionInput);
    await upsertQuestions(db, bank, now());
    const printWorker = new URL('../../workers/print.worker.ts', import.meta.url);
    const index = new BankIndex({ db, pool: piscina, logger: silent, printWorker, checks: checkOnThisThread(), backfillDelayMs: 0 });
    await index.load();
    const deadline = Date.now() + 20_000;
    while ((await waitingForPrint(db)).length > 0 && Date.now() < deadline) await Bun.sleep(25);
    expect(await waitingForPrint(db)).toEqual([]);
    await index.close();

    // The real pool, watched: what each trip carried and what came back.
    const trips: { rows: number; vouched: number; omitted: number; fresh: number; asked: number }[] = [];
    const pool: GroupPool = {
      async run(job: GroupJob, options) {
        const sum = (flags: Uint8Array | null | undefined) => flags?.reduce((a, b) => a + b, 0) ?? 0;
        const seen = { rows: job.ids.length, vouched: sum(job.vouched), omitted: sum(job.omitted) };
        const result = (await piscina.run(job, options)) as GroupResult;
        trips.push({ ...seen, fresh: sum(result.fresh), asked: result.needContent?.length ?? 0 });
        return result;
      },
    };
    const task = await insertTask(db, { task_name: 'printed', filters: {}, scope: 'channel', max_distance: 3, min_similarity: 0.8 }, now());
    const runner = new TaskRunner({ db, pool, bank: index, progress: createProgressSink(() => {}, 0), logger: silent, now, maxInFlight: 2, groupTimeoutMs: 30_000 });
    try {
      await runner.start(task.id);
      while ((await getTaskRow(db, task.id)).status === 'running' && Date.now() < deadline) await Bun.sleep(25);
    } finally {
      await runner.stop(1_000);
    }
    expect(await getTaskRow(db, task.id)).toMatchObject({ status: 'completed', processed_groups: 1 });

    expect(trips).toEqual([{ rows: SIZE, vouched: SIZE, omitted: 0, fresh: 0, asked: 0 }]);

    const stored = await listClusters(db, task.id, {}, 0, 1000);
    const ids = (await db.selectFrom('questions').select('id').orderBy('id').execute()).map((row) => row.id);
    const everyText = dedupGroup({ ids: Float64Array.from(ids), contents: packTexts(texts), options: packTexts(texts.map(() => null)), opts: { maxDistance: 3, minSimilarity: 0.8 } });
    expect(everyText.clusters.length).toBeGreaterThan(10);
    // Members in id order on both sides (the listing orders them by distance).
    const byId = (members: { questionId: number; distance: number; similarity: number }[]) => [...members].sort((x, y) => x.questionId - y.questionId);
    const found = stored.items.map((c) => ({
      canonicalId: c.canonical_question_id,
      members: byId(c.members.map((m) => ({ questionId: m.question_id, distance: m.distance, similarity: m.similarity }))),
    }));
    expect(found).toEqual(everyText.clusters.map(({ canonicalId, members }) => ({ canonicalId, members: byId(members) })));
  });
});
