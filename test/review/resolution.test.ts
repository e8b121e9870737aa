import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import pg from 'pg';
import { testDatabaseServer } from '../support/database.ts';
import { collect, nextEvent, startTestService, type TestService } from '../support/service.ts';
import { REVIEW_BANK } from './bank.ts';
import { clusters, idsByExternal, type BankIds, runTask, type ClusterItem } from './support.ts';

describe('resolution', () => {
  let service: TestService;
  let taskId: number;
  let ids: BankIds;
  let clusterOf: Record<string, ClusterItem>;

  const question = async (id: number) => (await service.api('GET', `/api/questions/${id}`)).body.data;
  const listed = async (query: string) => (await service.api('GET', `/api/questions?page_size=500${query}`)).body.data;
  const download = async (format: string) => {
    const response = await fetch(`${service.url}/api/dedup/resolutions?format=${format}`);
    return { response, text: await response.text() };
  };

  beforeAll(async () => {
    service = await startTestService();
    expect((await service.api('POST', '/api/questions', REVIEW_BANK)).status).toBe(201);
    ids = await idsByExternal(service);
    taskId = (await runTask(service)).id;
    const byId = Object.fromEntries(Object.entries(ids).map(([external, id]) => [id, external]));
    clusterOf = Object.fromEntries((await clusters(service, taskId)).items.map((c) => [byId[c.canonical_question_id]!, c]));
  });
  afterAll(() => service.stop());

  it('resolves nothing before a review, and exports an empty file with its header', async () => {
    const response = await service.api('POST', `/api/dedup/tasks/${taskId}/resolve`);
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ resolved_questions: 0, clusters: 0 });
    const { response: file, text } = await download('csv');
    expect(file.headers.get('content-type')).toContain('text/csv');
    expect(text).toBe('question_id,external_id,channel_code,duplicate_of,duplicate_of_external_id,decided_by,resolved_at\n');
    expect((await download('ndjson')).text).toBe('');
  });

  it('refuses bad resolve bodies and unknown tasks', async () => {
    expect((await service.api('POST', `/api/dedup/tasks/${taskId}/resolve`, { clusters: 'all' })).status).toBe(422);
    expect((await service.api('POST', `/api/dedup/tasks/${taskId}/resolve`, { clusters: 'confirmed', extra: 1 })).status).toBe(422);
    expect((await service.api('POST', '/api/dedup/tasks/999999/resolve', {})).status).toBe(404);
    expect((await service.api('POST', '/api/questions/999999/restore')).status).toBe(404);
    expect((await service.api('GET', '/api/dedup/resolutions?format=xml')).status).toBe(400);
    expect((await service.api('GET', '/api/questions?status=deleted')).status).toBe(400);
  });

  it("marks every non-canonical member of the confirmed clusters as a duplicate of its canonical question, and tells the room", async () => {
    const client = await service.connect();
    client.emit('join_task', { task_id: taskId });
    await nextEvent(client, 'task_status');
    const events = collect(client, 'task_resolved');
    // m1 confirmed with m4 as its canonical; p1 confirmed; s1 dismissed (stays active).
    await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${clusterOf.m1!.cluster_id}/review`, { action: 'set_canonical', canonical_question_id: ids.m4 });
    await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${clusterOf.m1!.cluster_id}/review`, { action: 'confirm' }, { 'X-Reviewer': 'carol' });
    await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${clusterOf.p1!.cluster_id}/review`, { action: 'confirm' }, { 'X-Reviewer': 'dave' });
    await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${clusterOf.s1!.cluster_id}/review`, { action: 'dismiss' });

    const response = await service.api('POST', `/api/dedup/tasks/${taskId}/resolve`, { clusters: 'confirmed' }, { 'X-Reviewer': 'erin' });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ resolved_questions: 4, clusters: 2 });
    for (const member of ['m1', 'm2', 'm3']) expect((await question(ids[member as keyof BankIds])).duplicate_of).toBe(ids.m4);
    expect((await question(ids.p2!)).duplicate_of).toBe(ids.p1);
    for (const active of ['m4', 'm5', 's1', 's2', 'p1', 'p3']) expect((await question(ids[active as keyof BankIds])).duplicate_of).toBeNull();
    await Bun.sleep(100);
    expect(events).toEqual([{ task_id: taskId, resolved_questions: 4 }]);

    // Resolving again changes nothing.
    expect((await service.api('POST', `/api/dedup/tasks/${taskId}/resolve`)).body.data).toEqual({ resolved_questions: 0, clusters: 2 });
  });

  it('filters questions by status', async () => {
    const duplicates = await listed('&status=duplicate');
    expect(duplicates.items.map((q: { id: number }) => q.id).sort()).toEqual([ids.m1, ids.m2, ids.m3, ids.p2].sort());
    expect(duplicates.total).toBe(4);
    const active = await listed('&status=active&type_name=解答题');
    expect(active.items.map((q: { external_id: string }) => q.external_id).sort()).toEqual(['m4', 'm5', 's1', 's2']);
    expect((await listed('')).total).toBe(REVIEW_BANK.length);
  });

  it('exports every resolution as CSV and NDJSON, for a client to update its own records', async () => {
    const { response, text } = await download('csv');
    expect(response.headers.get('content-disposition')).toContain('resolutions.csv');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(new RegExp(`^${ids.m1},m1,c1,${ids.m4},m4,erin,\\d{4}-`));
    const ndjson = await download('ndjson');
    expect(ndjson.response.headers.get('content-type')).toContain('application/x-ndjson');
    const rows = ndjson.text.trim().split('\n').map((line) => JSON.parse(line));
    expect(rows.map((row) => row.question_id)).toEqual([ids.m1, ids.m2, ids.m3, ids.p2].sort((a, b) => a! - b!));
    expect(rows.at(-1)).toMatchObject({ question_id: ids.p2, external_id: 'p2', channel_code: 'c1', duplicate_of: ids.p1, duplicate_of_external_id: 'p1', decided_by: 'erin' });
    expect(Date.parse(rows[0].resolved_at)).not.toBeNaN();
  });

  it('answers a check with active questions only, naming the canonical question of a matched resolved duplicate', async () => {
    const p2 = REVIEW_BANK.find((q) => q.external_id === 'p2')!;
    const hits = (await service.api('POST', '/api/dedup/check', { ...p2, external_id: undefined })).body.data;
    // p2 and p1 are the same text: the canonical question matched itself at least as well, once.
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ question_id: ids.p1, distance: 0, similarity: 1 });
    expect(hits[0]).not.toHaveProperty('resolved_duplicate_id');
    const m3 = REVIEW_BANK.find((q) => q.external_id === 'm3')!;
    const m3Hits = (await service.api('POST', '/api/dedup/check', { ...m3, external_id: undefined })).body.data;
    expect(m3Hits.map((hit: { question_id: number }) => hit.question_id)).toEqual([ids.m4]);
    expect(m3Hits[0].resolved_duplicate_id).toBe(ids.m3);
  });

  it('answers concurrent checks each as it answers alone, and on PostgreSQL reads for them together', async () => {
    const bodies = REVIEW_BANK.map((q) => ({ ...q, external_id: undefined }));
    const check = async (body: (typeof bodies)[number]) => (await service.api('POST', '/api/dedup/check', body)).body.data;
    const alone: unknown[] = [];
    for (const body of bodies) alone.push(await check(body));
    expect(alone.some((hits) => (hits as { resolved_duplicate_id?: number }[]).some((hit) => hit.resolved_duplicate_id !== undefined))).toBe(true);
    // The statements this (in-process) service sends PostgreSQL while five copies of every check run at once.
    const storm = Array.from({ length: 5 }, () => bodies).flat();
    const sent: string[] = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text: string };
      sent.push(typeof config === 'string' ? config : config.text);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    let together: unknown[];
    try {
      together = await Promise.all(storm.map(check));
    } finally {
      pg.Client.prototype.query = query;
    }
    expect(together).toEqual(Array.from({ length: 5 }, () => alone).flat());
    if (testDatabaseServer()) {
      // Every check asks whether its group has questions waiting for a print; alone, each asked in a statement of its own.
      const backlog = sent.filter((text) => /question_backlog/.test(text)).length;
      expect(backlog).toBeGreaterThan(0);
      expect(backlog).toBeLessThan(storm.length / 2);
    }
  });

  it('leaves resolved duplicates out of new tasks unless include_resolved', async () => {
    const fresh = await runTask(service);
    expect(fresh.include_resolved).toBe(false);
    expect(fresh.total_questions).toBe(REVIEW_BANK.length - 4);
    const found = (await clusters(service, fresh.id)).items;
    const members = found.flatMap((c) => c.members.map((m) => m.question_id));
    for (const resolved of ['m1', 'm2', 'm3', 'p2']) expect(members).not.toContain(ids[resolved as keyof BankIds]);
    // s1 and s2 were dismissed: a remembered distinct pair, so no cluster is left.
    expect(found).toEqual([]);

    const all = await runTask(service, { include_resolved: true });
    expect(all.include_resolved).toBe(true);
    expect(all.total_questions).toBe(REVIEW_BANK.length);
    // The confirmed clusters form again from the remembered duplicates, and come out confirmed.
    const again = (await clusters(service, all.id)).items;
    expect(again.map((c) => c.review.state)).toEqual(['confirmed', 'confirmed']);
    expect(all.confirmed_cluster_count).toBe(2);
    expect((await service.api('POST', '/api/dedup/tasks', { task_name: 'x', include_resolved: 'yes' })).status).toBe(422);
  });

  it('a re-run of the reviewed task leaves its now-resolved members out too', async () => {
    const again = await runTask(service);
    expect(again.total_questions).toBe(REVIEW_BANK.length - 4);
  });

  it('restores a question, which is active again everywhere', async () => {
    const response = await service.api('POST', `/api/questions/${ids.m2}/restore`);
    expect(response.status).toBe(200);
    expect(response.body.data).toMatchObject({ id: ids.m2, external_id: 'm2', duplicate_of: null });
    expect((await listed('&status=duplicate')).total).toBe(3);
    const m2 = REVIEW_BANK.find((q) => q.external_id === 'm2')!;
    const hits = (await service.api('POST', '/api/dedup/check', { ...m2, external_id: undefined })).body.data;
    expect(hits.map((hit: { question_id: number }) => hit.question_id).sort()).toEqual([ids.m2, ids.m4].sort());
    // m2 answers as itself now; m4 still stands for the resolved m1 and m3 it matched through.
    const own = hits.find((hit: { question_id: number }) => hit.question_id === ids.m2);
    expect(own).toMatchObject({ question_id: ids.m2, distance: 0, similarity: 1 });
    expect(own).not.toHaveProperty('resolved_duplicate_id');
    expect([ids.m1, ids.m3]).toContain(hits.find((hit: { question_id: number }) => hit.question_id === ids.m4).resolved_duplicate_id);
    expect((await runTask(service)).total_questions).toBe(REVIEW_BANK.length - 3);
  });

  it('a canonical question deleted from the bank makes its duplicates active again', async () => {
    expect((await service.api('DELETE', `/api/questions/${ids.p1}`)).status).toBe(200);
    expect((await question(ids.p2!)).duplicate_of).toBeNull();
  });
});
