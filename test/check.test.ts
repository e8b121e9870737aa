import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService, type TestService } from './support/service.ts';
import { TextDataCache, verifyCandidates } from '../workers/dedup/check-verify.ts';

const stem = '已知函数 f(x) = 2x^2 - 3x + 1，求 f(x) 在区间 [0, 2] 上的最大值和最小值，并写出取得最值时 x 的值。';
const bank = [
  { external_id: 'orig', type_name: '解答题', subject_name: '数学', channel_code: 'c1', content: stem },
  { external_id: 'other', type_name: '解答题', subject_name: '数学', channel_code: 'c1', content: '某校高三年级共有学生 600 人，按分层抽样抽取 60 人进行视力调查，其中男生 32 人，求该校女生人数。' },
  { external_id: 'far', type_name: '解答题', subject_name: '数学', channel_code: 'c2', content: `<p>3. （12分）${stem}</p>` },
];

describe('POST /api/dedup/check', () => {
  let service: TestService;
  let dir: string;
  let ids: Record<string, number>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dedup-check-'));
    service = await startTestService({ DATABASE_URL: `sqlite:${join(dir, 'bank.sqlite')}` });
    expect((await service.api('POST', '/api/questions', bank)).body.data.inserted).toBe(3);
    const items = (await service.api('GET', '/api/questions')).body.data.items as { id: number; external_id: string }[];
    ids = Object.fromEntries(items.map((item) => [item.external_id, item.id]));
  });
  afterAll(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (body: Record<string, unknown>) => service.api('POST', '/api/dedup/check', { type_name: '解答题', subject_name: '数学', channel_code: 'c1', ...body });

  it("finds a reformatted copy's original right after the import, and stores nothing", async () => {
    const response = await check({ content: `17．（10 分）${stem.replaceAll('，', ',')}&nbsp;` });
    expect(response.status).toBe(200);
    expect(response.body.data).toHaveLength(1);
    expect(response.body.data[0]).toMatchObject({ question_id: ids.orig, reason: { stage: 'exact', checks: ['text'] } });
    expect(response.body.data[0].distance).toBeLessThanOrEqual(3);
    expect(response.body.data[0].similarity).toBeGreaterThanOrEqual(0.8);
    expect((await service.api('GET', '/api/questions')).body.data.total).toBe(3);
  });

  it('looks across channels only with scope "subject", best first', async () => {
    const exact = await check({ content: stem, scope: 'subject' });
    expect(exact.body.data.map((hit: { question_id: number }) => hit.question_id).sort()).toEqual([ids.orig, ids.far].sort());
    expect(exact.body.data[0]).toMatchObject({ question_id: ids.orig, similarity: 1, distance: 0 });
    const channelOnly = await check({ content: stem });
    expect(channelOnly.body.data.map((hit: { question_id: number }) => hit.question_id)).toEqual([ids.orig]);
  });

  it('applies the task rules: another notation is found, one changed key word is not, and each hit says why', async () => {
    const field = '关于电场强度，下列说法正确的是\nA. 电场强度的方向就是放入电场中的电荷受到的电场力的方向\nB. 电场中某点的场强与试探电荷无关\nC. 电场强度是矢量\nD. 场强的单位是牛每库';
    const desk = '学校买了24张课桌，每张课桌135元，一共要付多少元？';
    const created = await service.api('POST', '/api/questions', [
      { external_id: 'field', type_name: '单选题', subject_name: '物理', channel_code: 'c9', content: field },
      { external_id: 'desk', type_name: '单选题', subject_name: '物理', channel_code: 'c9', content: desk },
    ]);
    expect(created.body.data.inserted).toBe(2);
    const items = (await service.api('GET', '/api/questions?channel_code=c9')).body.data.items as { id: number; external_id: string }[];
    const idOf = Object.fromEntries(items.map((item) => [item.external_id, item.id]));
    const probe = (content: string) => service.api('POST', '/api/dedup/check', { type_name: '单选题', subject_name: '物理', channel_code: 'c9', content });

    const traditional = await probe('關於電場強度，下列說法正確的是\n(A) 電場強度的方向就是放入電場中的電荷受到的電場力的方向\n(B) 電場中某點的場強與試探電荷無關\n(C) 電場強度是矢量\n(D) 場強的單位是牛每庫');
    expect(traditional.body.data).toEqual([{ question_id: idOf.field, distance: 0, similarity: 1, reason: { stage: 'exact', checks: ['text'] } }]);
    const reworded = await probe(field.replace('下列说法正确的是', '下列说法中正确的是'));
    expect(reworded.body.data).toHaveLength(1);
    expect(reworded.body.data[0]).toMatchObject({ question_id: idOf.field, reason: { stage: 'similar', checks: ['similarity', 'key_words', 'options'] } });
    expect((await probe(field.replace('正确', '错误'))).body.data).toEqual([]);
    expect((await probe(desk.replace('135元', '135角'))).body.data).toEqual([]);
    expect((await probe(`（2019·北京）3．（4分）${desk}`)).body.data).toMatchObject([{ question_id: idOf.desk, reason: { stage: 'exact' } }]);
    // The bank as the other tests expect it.
    for (const id of Object.values(idOf)) expect((await service.api('DELETE', `/api/questions/${id}`)).status).toBe(200);
  });

  it('does not call a question with other numbers a duplicate', async () => {
    const response = await check({ content: stem.replace('2x^2 - 3x + 1', '2x^2 - 3x - 1') });
    expect(response.body.data).toEqual([]);
  });

  it('forgets a deleted question', async () => {
    const created = await service.api('POST', '/api/questions', [{ external_id: 'gone', type_name: '填空题', subject_name: '物理', content: '一物体做自由落体运动，下落 2 s 时的速度为多少？（g 取 10 m/s²）' }]);
    expect(created.body.data.inserted).toBe(1);
    const probe = { type_name: '填空题', subject_name: '物理', channel_code: 'default', content: '一物体做自由落体运动,下落 2 s 时的速度为多少?(g 取 10 m/s²)' };
    const before = await service.api('POST', '/api/dedup/check', probe);
    expect(before.body.data).toHaveLength(1);
    await service.api('DELETE', `/api/questions/${before.body.data[0].question_id}`);
    expect((await service.api('POST', '/api/dedup/check', probe)).body.data).toEqual([]);
  });

  it('verifies an edited question against its new text, not the one a check saw before it', async () => {
    const original = '一辆汽车以 36 km/h 的速度在平直公路上匀速行驶，司机发现前方有障碍物后立即刹车，刹车时加速度大小为 2 m/s²，求汽车刹车后 6 s 内的位移大小。';
    const edited = original.replace('平直公路上', '平直的公路上');
    const put = async (content: string) => (await service.api('POST', '/api/questions', [{ external_id: 'edited', type_name: '计算题', subject_name: '物理', content }])).body.data;
    const probe = { type_name: '计算题', subject_name: '物理', channel_code: 'default', content: original.replace('立即刹车', '马上刹车') };
    expect((await put(original)).inserted).toBe(1);
    const before = (await service.api('POST', '/api/dedup/check', probe)).body.data;
    expect(before).toHaveLength(1);
    expect(before[0].reason.stage).toBe('similar');
    // The same stored row (same id), another version: the check pool's thread saw the old text.
    expect((await put(edited)).updated).toBe(1);
    const after = (await service.api('POST', '/api/dedup/check', probe)).body.data;
    expect(after).toHaveLength(1);
    expect(after[0].question_id).toBe(before[0].question_id);
    const [expected] = verifyCandidates(
      { content: probe.content, options: null, minSimilarity: 0.8, countWord: 0, candidates: [{ id: 1, distance: 0, content: edited, options: null, version: '' }] },
      new TextDataCache(0),
    );
    expect(after[0].similarity).toBe(expected!.similarity);
    expect(after[0].similarity).toBeLessThan(before[0].similarity);
    expect((await service.api('DELETE', `/api/questions/${after[0].question_id}`)).status).toBe(200);
  });

  it('rejects bad bodies with the envelope', async () => {
    const missing = await service.api('POST', '/api/dedup/check', { type_name: '解答题' });
    expect(missing.status).toBe(422);
    expect(missing.body.errors?.map((error) => error.path)).toContain('content');
    expect((await check({ content: stem, max_distance: 40 })).status).toBe(422);
    expect((await check({ content: stem, scope: 'planet' })).status).toBe(422);
    expect((await service.api('POST', '/api/dedup/check', '{', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await service.api('POST', '/api/dedup/check', 'content', { 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('stores a 96-byte print for every question once a task ran over them', async () => {
    const { id } = (await service.api('POST', '/api/dedup/tasks', { task_name: 'prints' })).body.data;
    await service.api('POST', `/api/dedup/tasks/${id}/start`);
    for (let i = 0; i < 200 && (await service.api('GET', `/api/dedup/tasks/${id}`)).body.data.status === 'running'; i++) await Bun.sleep(25);
    const sqlite = new Database(join(dir, 'bank.sqlite'), { readonly: true });
    try {
      const rows = sqlite
        .query(
          `select count(*) as total, count(p.print) as printed, min(length(p.print)) as bytes,
             (select count(*) from question_backlog) as waiting
           from questions q left join question_prints p on p.question_id = q.id and p.row_hash = q.row_hash`,
        )
        .get() as { total: number; printed: number; bytes: number; waiting: number };
      expect(rows).toEqual({ total: 3, printed: 3, bytes: 96, waiting: 0 });
    } finally {
      sqlite.close();
    }
  });
});
