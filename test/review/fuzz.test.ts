import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { anyValue, junk, prng } from '../support/fuzz.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { REVIEW_BANK } from './bank.ts';
import { clusters, idsByExternal, runTask } from './support.ts';

/**
 * 400 seeded malformed review and resolve requests against a real service (SQLite, or PostgreSQL
 * with TEST_DATABASE_URL, which refuses NUL in text): every answer is the envelope with a client
 * status, never a 500, and the service still works afterwards.
 */
describe('review routes under malformed input', () => {
  let service: TestService;
  let taskId: number;
  let clusterIds: number[];
  let questionIds: number[];

  beforeAll(async () => {
    service = await startTestService();
    await service.api('POST', '/api/questions', REVIEW_BANK);
    questionIds = Object.values(await idsByExternal(service));
    taskId = (await runTask(service)).id;
    clusterIds = (await clusters(service, taskId)).items.map((c) => c.cluster_id);
  });
  afterAll(() => service.stop());

  it('answers every malformed request with a 4xx envelope, never a 500', async () => {
    const rng = prng(13);
    const actions = ['confirm', 'dismiss', 'reject_members', 'set_canonical'];
    const statuses = new Map<number, number>();
    for (let k = 0; k < 400; k++) {
      const body: Record<string, unknown> = { action: rng.next() < 0.7 ? rng.pick(actions) : anyValue(rng) };
      if (rng.next() < 0.6) body.question_ids = rng.next() < 0.5 ? [rng.pick(questionIds), anyValue(rng)] : anyValue(rng);
      if (rng.next() < 0.5) body.canonical_question_id = rng.next() < 0.3 ? rng.pick(questionIds) : anyValue(rng);
      // A note that is text, but not storable text.
      body.note = rng.next() < 0.5 ? `${junk(rng)}\u0000` : `${junk(rng)}\ud800x`;
      const cluster = rng.next() < 0.8 ? String(rng.pick(clusterIds)) : rng.pick(['0', '-1', '1e3', '%00', '99999999999999999999', '%F0%9F%A7%A8', '1%2F2', 'x'.repeat(300)]);
      const path = rng.next() < 0.85 ? `/api/dedup/tasks/${taskId}/clusters/${cluster}/review` : `/api/dedup/tasks/${taskId}/resolve`;
      const raw = rng.next() < 0.1 ? '{"action":' : JSON.stringify(body);
      const response = await fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Reviewer': rng.pick(['%', '%ZZ', '%E0%A4%A', '%00%01', 'a%20b', '%F0%9F%A7%A8', '%ED%A0%80']) }, body: raw });
      const envelope = (await response.json()) as { code: number; data: unknown };
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect(envelope.code).toBe(response.status);
      if (path.endsWith('/resolve') && response.status === 200) continue;
      if (![400, 404, 415, 422].includes(response.status)) throw new Error(`${response.status} for POST ${path} ${raw.slice(0, 200)}`);
      expect(envelope.data).toBeNull();
    }
    expect([...statuses.keys()].sort()).toEqual([400, 422]);
    // Nothing was decided, and a good review still works.
    expect((await service.api('GET', '/api/dedup/decisions')).body.data.total).toBe(0);
    const good = await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${clusterIds[0]}/review`, { action: 'confirm', note: 'ok 😀' }, { 'X-Reviewer': encodeURIComponent('%00\u0000王') });
    expect(good.status).toBe(200);
    expect(good.body.data.review).toMatchObject({ state: 'confirmed', note: 'ok 😀', decided_by: '%00王' });
  });
});
