import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startTestService, type TestService } from './support/service.ts';

const SLOW_WORKER = new URL('./fixtures/slow-worker.ts', import.meta.url);

const stem = '已知函数 f(x) = 2x^2 - 3x + 1，求 f(x) 在区间 [0, 2] 上的最大值和最小值，并写出取得最值时 x 的值。';
const other = '某校高三年级共有学生 600 人，按分层抽样抽取 60 人进行视力调查，其中男生 32 人，求该校女生人数。';

/** One group with a planted near-duplicate pair and one unrelated question, in another group a lone question. */
const plantedBank = [
  { external_id: 'a', type_name: '解答题', subject_name: '数学', channel_code: 'c1', content: stem },
  { external_id: 'b', type_name: '解答题', subject_name: '数学', channel_code: 'c1', content: `<p>17. （12分）${stem.replace('，', ',')}</p>` },
  { external_id: 'c', type_name: '解答题', subject_name: '数学', channel_code: 'c1', content: other },
  { external_id: 'd', type_name: '解答题', subject_name: '数学', channel_code: 'c2', content: `${stem}&nbsp;` },
  { external_id: 'e', type_name: '单选题', subject_name: '物理', channel_code: 'c1', content: '一物体做自由落体运动，下落 2 s 时的速度为多少？（g 取 10 m/s²）' },
];

async function waitForStatus(service: TestService, id: number, statuses: string[], ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const task = (await service.api('GET', `/api/dedup/tasks/${id}`)).body.data;
    if (statuses.includes(task.status)) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} still ${task.status}`);
    await Bun.sleep(20);
  }
}

describe('dedup tasks API with the real worker', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
    const imported = await service.api('POST', '/api/questions', plantedBank);
    expect(imported.body.data.inserted).toBe(plantedBank.length);
  });
  afterAll(() => service.stop());

  it('creates a pending task with the default options', async () => {
    const response = await service.api('POST', '/api/dedup/tasks', { task_name: '默认任务' });
    expect(response.status).toBe(201);
    expect(response.body.code).toBe(201);
    expect(response.body.data).toMatchObject({
      task_name: '默认任务',
      status: 'pending',
      scope: 'channel',
      filters: {},
      max_distance: 3,
      total_groups: 0,
      processed_groups: 0,
      progress_percentage: 0,
      error: null,
      started_at: null,
      finished_at: null,
    });
    expect(response.body.data.min_similarity).toBeGreaterThan(0);
    expect(Date.parse(response.body.data.created_at)).not.toBeNaN();
  });

  it('rejects invalid task bodies with 422 and the failing fields', async () => {
    const cases: [unknown, string][] = [
      [{}, 'task_name'],
      [{ task_name: '' }, 'task_name'],
      [{ task_name: 't', max_distance: 17 }, 'max_distance'],
      [{ task_name: 't', max_distance: 1.5 }, 'max_distance'],
      [{ task_name: 't', min_similarity: 1.2 }, 'min_similarity'],
      [{ task_name: 't', scope: 'galaxy' }, 'scope'],
      [{ task_name: 't', filters: { type_names: 'single' } }, 'filters.type_names'],
    ];
    for (const [body, path] of cases) {
      const response = await service.api('POST', '/api/dedup/tasks', body);
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 422, data: null });
      expect(response.body.errors?.map((error) => error.path)).toContain(path);
    }
    expect((await service.api('POST', '/api/dedup/tasks', '[', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await service.api('POST', '/api/dedup/tasks', 'task_name=x', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
  });

  it('runs a task to completion and reports clusters with distance and similarity', async () => {
    const created = (await service.api('POST', '/api/dedup/tasks', { task_name: '数学', filters: { subject_names: ['数学'] } })).body.data;
    const started = await service.api('POST', `/api/dedup/tasks/${created.id}/start`);
    expect(started.status).toBe(200);
    expect(started.body.data).toMatchObject({ status: 'running', total_groups: 2, total_questions: 4 });
    expect(started.body.data.started_at).not.toBeNull();

    const task = await waitForStatus(service, created.id, ['completed', 'failed']);
    expect(task).toMatchObject({ status: 'completed', processed_groups: 2, progress_percentage: 100, processed_questions: 4, cluster_count: 1, duplicate_count: 1 });
    expect(task.finished_at).not.toBeNull();

    const groups = (await service.api('GET', `/api/dedup/tasks/${created.id}/groups`)).body.data;
    expect(groups).toHaveLength(2);
    const c1 = groups.find((group: { channel_code: string }) => group.channel_code === 'c1');
    expect(c1).toMatchObject({ type_name: '解答题', subject_name: '数学', status: 'done', question_count: 3, duplicate_count: 1 });
    expect(c1.elapsed_ms).toBeGreaterThanOrEqual(0);

    const clusters = (await service.api('GET', `/api/dedup/tasks/${created.id}/clusters`)).body.data;
    expect(clusters.total).toBe(1);
    const [cluster] = clusters.items;
    const ids = (await service.api('GET', '/api/questions?channel_code=c1&subject_name=%E6%95%B0%E5%AD%A6')).body.data.items.map((q: { id: number }) => q.id);
    expect(cluster.group).toEqual({ type_name: '解答题', subject_name: '数学', channel_code: 'c1' });
    expect(cluster.canonical_question_id).toBe(ids[0]);
    expect(cluster.members.map((member: { question_id: number }) => member.question_id)).toEqual([ids[0], ids[1]]);
    expect(cluster.members[0]).toMatchObject({ distance: 0, similarity: 1 });
    // Why each is there: the canonical is its own text; the other is the same text under HTML, number and score note.
    expect(cluster.members.map((member: { reason: unknown }) => member.reason)).toEqual([{ stage: 'exact', checks: ['text'] }, { stage: 'exact', checks: ['text'] }]);
    expect(cluster.members[1].distance).toBeLessThanOrEqual(3);
    expect(cluster.members[1].similarity).toBeGreaterThanOrEqual(task.min_similarity);

    const filtered = await service.api('GET', `/api/dedup/tasks/${created.id}/clusters?channel_code=c2`);
    expect(filtered.body.data).toMatchObject({ items: [], total: 0 });
  });

  it('finds duplicates across channels with scope "subject"', async () => {
    const created = (await service.api('POST', '/api/dedup/tasks', { task_name: '跨渠道', scope: 'subject', filters: { subject_names: ['数学'] } })).body.data;
    await service.api('POST', `/api/dedup/tasks/${created.id}/start`);
    const task = await waitForStatus(service, created.id, ['completed', 'failed']);
    expect(task).toMatchObject({ status: 'completed', total_groups: 1, cluster_count: 1, duplicate_count: 2 });
    const groups = (await service.api('GET', `/api/dedup/tasks/${created.id}/groups`)).body.data;
    expect(groups[0]).toMatchObject({ type_name: '解答题', subject_name: '数学', channel_code: '*', question_count: 4 });
  });

  it('counts the groups its scope and filters select, each over its own questions', async () => {
    const groupsOf = async (body: object) => {
      const created = (await service.api('POST', '/api/dedup/tasks', { task_name: '分组', ...body })).body.data;
      await service.api('POST', `/api/dedup/tasks/${created.id}/start`);
      const task = await waitForStatus(service, created.id, ['completed', 'failed']);
      const groups = (await service.api('GET', `/api/dedup/tasks/${created.id}/groups`)).body.data as { type_name: string; subject_name: string; channel_code: string; question_count: number }[];
      const listed = groups.map((g) => `${g.type_name}/${g.subject_name}/${g.channel_code}:${g.question_count}`).sort();
      expect(task.total_groups).toBe(listed.length);
      expect(task.total_questions).toBe(groups.reduce((sum, g) => sum + g.question_count, 0));
      return listed;
    };
    expect(await groupsOf({})).toEqual(['单选题/物理/c1:1', '解答题/数学/c1:3', '解答题/数学/c2:1']);
    expect(await groupsOf({ filters: { type_names: ['解答题'], channel_codes: ['c2'] } })).toEqual(['解答题/数学/c2:1']);
    expect(await groupsOf({ scope: 'subject' })).toEqual(['单选题/物理/*:1', '解答题/数学/*:4']);
    // Across channels, a channel filter narrows each group's questions; a group left with none is no group.
    expect(await groupsOf({ scope: 'subject', filters: { channel_codes: ['c2'] } })).toEqual(['解答题/数学/*:1']);
    expect(await groupsOf({ scope: 'subject', filters: { subject_names: ['物理'] } })).toEqual(['单选题/物理/*:1']);
    expect(await groupsOf({ filters: { channel_codes: ['nowhere'] } })).toEqual([]);
  });

  it('exports every duplicate pair as CSV and as NDJSON', async () => {
    const created = (await service.api('POST', '/api/dedup/tasks', { task_name: '导出', scope: 'subject' })).body.data;
    await service.api('POST', `/api/dedup/tasks/${created.id}/start`);
    await waitForStatus(service, created.id, ['completed']);

    const csv = await fetch(`${service.url}/api/dedup/tasks/${created.id}/export?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toContain(`task-${created.id}-duplicates.csv`);
    const rows = (await csv.text()).trim().split('\n');
    expect(rows[0]).toBe('cluster_id,type_name,subject_name,channel_code,canonical_question_id,question_id,distance,similarity,reason_stage,reason_checks');
    expect(rows).toHaveLength(3);
    for (const row of rows.slice(1)) expect(row.endsWith(',exact,text')).toBe(true);

    const ndjson = await fetch(`${service.url}/api/dedup/tasks/${created.id}/export?format=ndjson`);
    const pairs = (await ndjson.text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(pairs).toHaveLength(2);
    for (const pair of pairs) {
      expect(pair.question_id).not.toBe(pair.canonical_question_id);
      expect(pair.channel_code).toBe('*');
      expect(pair.reason).toEqual({ stage: 'exact', checks: ['text'] });
    }
    expect((await service.api('GET', `/api/dedup/tasks/${created.id}/export?format=xml`)).status).toBe(400);
  });

  it('runs a finished task again as a fresh run, keeping its unchanged clusters under their ids', async () => {
    const created = (await service.api('POST', '/api/dedup/tasks', { task_name: '重跑', filters: { channel_codes: ['c1'] } })).body.data;
    await service.api('POST', `/api/dedup/tasks/${created.id}/start`);
    const first = await waitForStatus(service, created.id, ['completed']);
    const firstClusters = (await service.api('GET', `/api/dedup/tasks/${created.id}/clusters`)).body.data;

    const restarted = await service.api('POST', `/api/dedup/tasks/${created.id}/start`);
    expect(restarted.status).toBe(200);
    expect(restarted.body.data.processed_groups).toBe(0);
    const second = await waitForStatus(service, created.id, ['completed']);
    const secondClusters = (await service.api('GET', `/api/dedup/tasks/${created.id}/clusters`)).body.data;
    expect(second.cluster_count).toBe(first.cluster_count);
    expect(secondClusters.total).toBe(firstClusters.total);
    expect(secondClusters.items).toEqual(firstClusters.items);
  });

  it('completes a task whose filters match no question with 100% and no groups', async () => {
    const created = (await service.api('POST', '/api/dedup/tasks', { task_name: '空', filters: { subject_names: ['不存在'] } })).body.data;
    await service.api('POST', `/api/dedup/tasks/${created.id}/start`);
    const task = await waitForStatus(service, created.id, ['completed']);
    expect(task).toMatchObject({ total_groups: 0, processed_groups: 0, progress_percentage: 100 });
  });

  it('lists tasks newest first, filtered by status and paged', async () => {
    const all = await service.api('GET', '/api/dedup/tasks?page_size=2');
    expect(all.status).toBe(200);
    expect(all.body.data.items).toHaveLength(2);
    expect(all.body.data.items[0].id).toBeGreaterThan(all.body.data.items[1].id);
    const pending = await service.api('GET', '/api/dedup/tasks?status=pending');
    expect(pending.body.data.items.every((task: { status: string }) => task.status === 'pending')).toBe(true);
    expect(pending.body.data.total).toBeGreaterThan(0);
    expect((await service.api('GET', '/api/dedup/tasks?status=done')).status).toBe(400);
  });

  it('answers 404 for unknown tasks on every task route', async () => {
    for (const [method, path] of [
      ['GET', '/api/dedup/tasks/999999'],
      ['POST', '/api/dedup/tasks/999999/start'],
      ['POST', '/api/dedup/tasks/999999/cancel'],
      ['DELETE', '/api/dedup/tasks/999999'],
      ['GET', '/api/dedup/tasks/999999/groups'],
      ['GET', '/api/dedup/tasks/999999/clusters'],
      ['GET', '/api/dedup/tasks/999999/export'],
    ] as const) {
      const response = await service.api(method, path);
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ code: 404, data: null });
    }
  });
});

describe('task state changes', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({}, { workerFile: SLOW_WORKER });
    const bank = Array.from({ length: 12 }, (_, i) => ({ type_name: '单选题', subject_name: '数学', channel_code: `ch${i}`, content: `第 ${i} 题` }));
    await service.api('POST', '/api/questions', bank);
  });
  afterAll(() => service.stop());

  it('answers 409 to start, delete while running and to cancel when not running', async () => {
    const { id } = (await service.api('POST', '/api/dedup/tasks', { task_name: '状态' })).body.data;
    expect((await service.api('POST', `/api/dedup/tasks/${id}/cancel`)).status).toBe(409);
    expect((await service.api('POST', `/api/dedup/tasks/${id}/start`)).status).toBe(200);
    const again = await service.api('POST', `/api/dedup/tasks/${id}/start`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 409, data: null });
    expect((await service.api('DELETE', `/api/dedup/tasks/${id}`)).status).toBe(409);

    const cancelled = await service.api('POST', `/api/dedup/tasks/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toMatchObject({ status: 'cancelled', error: 'cancelled' });
    expect(cancelled.body.data.processed_groups).toBeLessThan(12);
    expect((await service.api('POST', `/api/dedup/tasks/${id}/cancel`)).status).toBe(409);

    // Results of groups that finished before the cancel stay readable.
    const groups = (await service.api('GET', `/api/dedup/tasks/${id}/groups`)).body.data;
    expect(groups).toHaveLength(12);
    expect(groups.every((group: { status: string }) => group.status === 'done' || group.status === 'pending')).toBe(true);

    const deleted = await service.api('DELETE', `/api/dedup/tasks/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data.id).toBe(id);
    expect((await service.api('GET', `/api/dedup/tasks/${id}`)).status).toBe(404);
  });

  it('starts a cancelled task again and completes it', async () => {
    const { id } = (await service.api('POST', '/api/dedup/tasks', { task_name: '再来' })).body.data;
    await service.api('POST', `/api/dedup/tasks/${id}/start`);
    await service.api('POST', `/api/dedup/tasks/${id}/cancel`);
    expect((await service.api('POST', `/api/dedup/tasks/${id}/start`)).status).toBe(200);
    const task = await waitForStatus(service, id, ['completed']);
    expect(task.processed_groups).toBe(12);
  });
});
