import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startTestService, type TestService } from './support/service.ts';
import { testDatabaseServer } from './support/database.ts';

const question = (overrides: Record<string, unknown> = {}) => ({
  type_name: '单选题',
  subject_name: '数学',
  content: '已知集合 A = {1, 2, 3}，B = {2, 3, 4}，则 A ∩ B = （ ）',
  options: { A: '{1}', B: '{2, 3}', C: '{4}', D: '{1, 4}' },
  answer: ['B'],
  ...overrides,
});

function expectEnvelope(response: { status: number; body: { code: number; message: string; data: unknown } }, status: number) {
  expect(response.status).toBe(status);
  expect(response.body.code).toBe(status);
  expect(typeof response.body.message).toBe('string');
  if (status >= 400) expect(response.body.data).toBeNull();
}

describe('questions API', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ MAX_BODY_MB: '1' }, { workerFile: new URL('./fixtures/slow-worker.ts', import.meta.url) });
  });
  afterAll(() => service.stop());

  it('imports a JSON array, fills defaults and drops unknown fields', async () => {
    const response = await service.api('POST', '/api/questions', [question({ external_id: 'q-1', year: '2020' }), question({ content: '第二题：求 1 + 1 的值', options: ['1', '2'] })]);
    expectEnvelope(response, 201);
    expect(response.body.data).toMatchObject({ inserted: 2, updated: 0, unchanged: 0, rejected: [] });

    const list = await service.api('GET', '/api/questions?q=A%20%E2%88%A9%20B');
    expect(list.body.data.total).toBe(1);
    const stored = list.body.data.items[0];
    expect(stored).toMatchObject({ external_id: 'q-1', channel_code: 'default', options: question().options, answer: ['B'], analysis: null });
    expect(stored).not.toHaveProperty('year');
    expect(Date.parse(stored.created_at)).not.toBeNaN();
  });

  it('accepts { questions: [...] } and reports bad rows by index while keeping the good ones', async () => {
    const response = await service.api('POST', '/api/questions', {
      questions: [question({ content: '好的题目 1' }), { type_name: '单选题' }, question({ content: '   ' }), question({ content: '好的题目 2', options: 'not options' }), question({ content: '好的题目 3' })],
    });
    expectEnvelope(response, 201);
    expect(response.body.data.inserted).toBe(2);
    expect(response.body.data.rejected.map((row: { index: number }) => row.index)).toEqual([1, 2, 3]);
    for (const row of response.body.data.rejected) expect(row.message.length).toBeGreaterThan(3);
  });

  it('streams NDJSON, rejecting malformed lines by line number', async () => {
    const lines = [JSON.stringify(question({ content: 'NDJSON 题 1', channel_code: 'nd' })), '{"broken', '', JSON.stringify(question({ content: 'NDJSON 题 2', channel_code: 'nd' })), '[1,2]'];
    const response = await service.api('POST', '/api/questions', lines.join('\n'), { 'content-type': 'application/x-ndjson' });
    expectEnvelope(response, 201);
    expect(response.body.data.inserted).toBe(2);
    expect(response.body.data.rejected.map((row: { index: number }) => row.index)).toEqual([1, 4]);
    expect(response.body.data.rejected[0].message).toContain('malformed JSON');
  });

  it('re-importing the same (channel_code, external_id) updates in place, idempotently', async () => {
    const first = question({ external_id: 'same', channel_code: 'idem', content: '原始题干' });
    expect((await service.api('POST', '/api/questions', [first])).body.data.inserted).toBe(1);
    expect((await service.api('POST', '/api/questions', [first])).body.data).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    const changed = await service.api('POST', '/api/questions', [{ ...first, content: '修改后的题干' }]);
    expect(changed.body.data).toMatchObject({ inserted: 0, updated: 1, unchanged: 0 });
    const other = await service.api('POST', '/api/questions', [{ ...first, channel_code: 'other' }]);
    expect(other.body.data.inserted).toBe(1);
    const list = await service.api('GET', '/api/questions?channel_code=idem');
    expect(list.body.data.total).toBe(1);
    expect(list.body.data.items[0].content).toBe('修改后的题干');
  });

  it('lists with filters and pagination, and groups with counts', async () => {
    await service.api('POST', '/api/questions', Array.from({ length: 25 }, (_, i) => question({ subject_name: '物理', channel_code: 'pages', content: `物理题 ${i}` })));
    const page2 = await service.api('GET', '/api/questions?subject_name=%E7%89%A9%E7%90%86&page=2&page_size=10');
    expectEnvelope(page2, 200);
    expect(page2.body.data).toMatchObject({ total: 25, page: 2, page_size: 10 });
    expect(page2.body.data.items.map((item: { content: string }) => item.content)).toEqual(Array.from({ length: 10 }, (_, i) => `物理题 ${i + 10}`));

    const groups = await service.api('GET', '/api/groups?channel_code=pages');
    expect(groups.body.data).toEqual([{ type_name: '单选题', subject_name: '物理', channel_code: 'pages', question_count: 25 }]);
  });

  it('gets and deletes one question, then answers 404', async () => {
    const created = await service.api('POST', '/api/questions', [question({ content: '将被删除的题', channel_code: 'del' })]);
    expect(created.status).toBe(201);
    const { id } = (await service.api('GET', '/api/questions?channel_code=del')).body.data.items[0];
    expectEnvelope(await service.api('GET', `/api/questions/${id}`), 200);
    const deleted = await service.api('DELETE', `/api/questions/${id}`);
    expectEnvelope(deleted, 200);
    expect(deleted.body.data.content).toBe('将被删除的题');
    expectEnvelope(await service.api('GET', `/api/questions/${id}`), 404);
    expectEnvelope(await service.api('DELETE', `/api/questions/${id}`), 404);
  });

  it('answers 400 for ids that cannot name a row', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      expectEnvelope(await service.api('GET', `/api/questions/${id}`), 400);
    }
  });

  it('answers 400 for bad query parameters, with the failing field', async () => {
    const response = await service.api('GET', '/api/questions?page=0');
    expectEnvelope(response, 400);
    expect(response.body.errors?.[0]?.path).toBe('page');
    expectEnvelope(await service.api('GET', '/api/questions?page_size=100000'), 400);
  });

  it('answers 400 for malformed JSON, 415 for other media types, 422 for a non-array body', async () => {
    expectEnvelope(await service.api('POST', '/api/questions', '[{"broken"', { 'content-type': 'application/json' }), 400);
    expectEnvelope(await service.api('POST', '/api/questions', 'type_name,content', { 'content-type': 'text/plain' }), 415);
    const notArray = await service.api('POST', '/api/questions', { foo: 1 });
    expectEnvelope(notArray, 422);
    expect(notArray.body.errors?.length).toBeGreaterThan(0);
  });

  it('answers 413 for a JSON body past MAX_BODY_MB, and imports nothing from it', async () => {
    const before = (await service.api('GET', '/api/questions')).body.data.total;
    const huge = [question({ content: 'x'.repeat(1_200_000) })];
    expectEnvelope(await service.api('POST', '/api/questions', huge), 413);
    expect((await service.api('GET', '/api/questions')).body.data.total).toBe(before);
  });

  it('answers unknown routes with a 404 envelope and health with the service state', async () => {
    expectEnvelope(await service.api('GET', '/api/nope'), 404);
    const health = await service.api('GET', '/api/health');
    expectEnvelope(health, 200);
    expect(health.body.data).toMatchObject({ status: 'ok', db: testDatabaseServer() ? 'postgres' : 'sqlite', workers: 2 });
    expect(health.body.data.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
