import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { Piscina } from 'piscina';
import { buildGroupJob } from '../../src/tasks/group-job.ts';
import { packTexts, TextPacker } from '../../workers/packed-texts.ts';
import { jobTransferList, type GroupJob } from '../../workers/protocol.ts';
import { openTestDatabase } from '../support/database.ts';
import type echoTextsWorker from '../fixtures/echo-texts-worker.ts';

/**
 * Texts cross into the pool's threads as UTF-8 bytes in moved buffers (workers/packed-texts.ts):
 * read from the real database as bytes, posted through a real Piscina pool, decoded there.
 */
setDefaultTimeout(60_000);

const TEXTS = [
  '已知函数 f(x)=x^2+1,求 f(2) 的值。',
  '',
  '表情 😀 与数学 𝔸𝔹 (surrogate pairs) 和 ½ ≤ √2',
  '\ufeff以 BOM 开头的题目',
  'plain ASCII, "quotes" and \\backslashes\\ and a\nnewline',
  '零宽\u200b连接符与组合字符 é',
];

const OPTIONS = [null, '["甲","乙"]', '{"A":"😀 x","B":"\\frac{1}{2}"}', null, '[]', null];

let handle: Awaited<ReturnType<typeof openTestDatabase>>;
let pool: Piscina;
const echo = (job: GroupJob): Promise<ReturnType<typeof echoTextsWorker>> => pool.run(job, { transferList: jobTransferList(job) as never });

beforeAll(async () => {
  handle = await openTestDatabase('group-texts');
  pool = new Piscina({ filename: new URL('../fixtures/echo-texts-worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 1 });
});

afterAll(async () => {
  await pool.destroy();
  await handle.close();
});

describe('group texts on their way to the worker', () => {
  it('arrive intact from the database, multi-byte, surrogate pairs, BOM, empty texts and options included', async () => {
    const now = new Date().toISOString();
    const rows = TEXTS.map((content, i) => ({ type_name: '单选题', subject_name: '数学', channel_code: 'texts', content, options: OPTIONS[i], row_hash: `h${i}`, created_at: now, updated_at: now }));
    await handle.db.insertInto('questions').values(rows).execute();
    const group = { type_name: '单选题', subject_name: '数学', channel_code: 'texts' } as Parameters<typeof buildGroupJob>[1];
    const { job } = await buildGroupJob(handle.db, group, { maxDistance: 3, minSimilarity: 0.8 });
    const sentBytes = job.contents.bytes.byteLength;
    expect(sentBytes).toBe(TEXTS.reduce((sum, text) => sum + Buffer.byteLength(text), 0));

    const arrived = await echo(job);
    expect(arrived.texts).toEqual(TEXTS);
    expect(arrived.options).toEqual(OPTIONS);
    expect(arrived.bytes).toBe(sentBytes);
    expect(arrived.omitted).toBeNull();
    // Moved, not copied: the sending side's buffers are empty now.
    expect(job.contents.bytes.byteLength).toBe(0);
    expect(job.ids.length).toBe(0);
  });

  it('keep omitted rows in place as empty texts, marked in omitted', async () => {
    const packer = new TextPacker();
    packer.addString(TEXTS[0]!);
    packer.addOmitted();
    packer.addString(TEXTS[2]!);
    packer.addOmitted();
    packer.addString('');
    const job: GroupJob = {
      ids: Float64Array.of(1, 2, 3, 4, 5),
      contents: packer.finish(),
      omitted: packer.omitted(),
      options: packTexts([null, '["甲","乙"]', null, null, '{"A":"😀"}']),
      opts: { maxDistance: 3, minSimilarity: 0.8 },
    };
    const arrived = await echo(job);
    expect(arrived.texts).toEqual([TEXTS[0]!, '', TEXTS[2]!, '', '']);
    expect(Array.from(arrived.omitted!)).toEqual([0, 1, 0, 1, 0]);
    expect(arrived.options).toEqual([null, '["甲","乙"]', null, null, '{"A":"😀"}']);
  });

  it('copies, not moves, an array that is a view into a shared buffer', () => {
    const shared = new ArrayBuffer(64);
    const job: GroupJob = {
      ids: new Float64Array(shared, 8, 2),
      contents: new TextPacker().finish(),
      options: new TextPacker().finish(),
      opts: { maxDistance: 3, minSimilarity: 0.8 },
      previous: new Uint8Array(shared, 32, 8),
    };
    const moved = jobTransferList(job);
    expect(moved).toHaveLength(4);
    expect(moved).not.toContain(shared);
    for (const array of [job.contents.bytes, job.contents.ends, job.options.bytes, job.options.ends]) expect(moved).toContain(array.buffer as ArrayBuffer);
  });
});
