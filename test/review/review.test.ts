import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { collect, nextEvent, startTestService, type TestClient, type TestService } from '../support/service.ts';
import { REVIEW_BANK } from './bank.ts';
import { clusters, idsByExternal, type BankIds, runTask, waitForEnd, type ClusterItem } from './support.ts';

/** The real worker, slowed down per group, so a re-run stays `running` while a review arrives. */
const DELAYED_WORKER = new URL('../fixtures/delayed-worker.ts', import.meta.url);

const ALICE = { authorization: 'Bearer tok-alice' };
const PLAIN = { authorization: 'Bearer plain-token' };

describe('cluster review (REST, events, identity)', () => {
  let service: TestService;
  let taskId: number;
  let ids: BankIds;
  /** Cluster ids by their canonical external id: m1 (four members), s1, p1. */
  let clusterOf: Record<string, ClusterItem>;
  let client: TestClient;

  const review = (cluster: ClusterItem | number, body: unknown, headers: Record<string, string> = PLAIN) =>
    service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${typeof cluster === 'number' ? cluster : cluster.cluster_id}/review`, body, headers);
  const task = async () => (await service.api('GET', `/api/dedup/tasks/${taskId}`, undefined, PLAIN)).body.data;
  const decisions = async (query = '') => (await service.api('GET', `/api/dedup/decisions?page_size=500${query}`, undefined, PLAIN)).body.data;
  const current = async (cluster: ClusterItem) => (await clusters(service, taskId, '', PLAIN)).items.find((c) => c.cluster_id === cluster.cluster_id);

  beforeAll(async () => {
    service = await startTestService({ AUTH_TOKENS: 'alice:tok-alice,plain-token' }, { workerFile: DELAYED_WORKER });
    expect((await service.api('POST', '/api/questions', REVIEW_BANK, PLAIN)).status).toBe(201);
    ids = await idsByExternal(service, PLAIN);
    taskId = (await runTask(service, {}, PLAIN)).id;
    const listed = await clusters(service, taskId, '', PLAIN);
    const byId = Object.fromEntries(Object.entries(ids).map(([external, id]) => [id, external]));
    clusterOf = Object.fromEntries(listed.items.map((c) => [byId[c.canonical_question_id]!, c]));
    client = await service.connect({ auth: { token: 'plain-token' } });
    client.emit('join_task', { task_id: taskId });
    await nextEvent(client, 'task_status');
  });
  afterAll(() => service.stop());

  it('shows every cluster unreviewed and the task with zero review counts', async () => {
    expect(Object.keys(clusterOf).sort()).toEqual(['m1', 'p1', 's1']);
    for (const cluster of Object.values(clusterOf)) expect(cluster.review).toEqual({ state: 'unreviewed', decided_by: null, decided_at: null, note: null });
    expect(clusterOf.m1!.members.map((m) => m.question_id).sort()).toEqual([ids.m1, ids.m2, ids.m3, ids.m4].sort());
    expect(await task()).toMatchObject({ cluster_count: 3, reviewed_cluster_count: 0, confirmed_cluster_count: 0, dismissed_cluster_count: 0, include_resolved: false });
    // m3 is a reworded copy (similarity < 0.9): the only cluster in a lower band.
    const weak = await clusters(service, taskId, '&min_similarity=0.8&max_similarity=0.9', PLAIN);
    expect(weak.items.map((c) => c.cluster_id)).toEqual([clusterOf.m1!.cluster_id]);
    expect((await clusters(service, taskId, '&min_similarity=0.9', PLAIN)).total).toBe(2);
    // Both bounds inclusive, exactly at the weakest member's similarity as shown.
    const weakest = Math.min(...clusterOf.m1!.members.map((m) => m.similarity));
    expect((await clusters(service, taskId, `&min_similarity=${weakest}&max_similarity=${weakest}`, PLAIN)).items.map((c) => c.cluster_id)).toEqual([clusterOf.m1!.cluster_id]);
  });

  it('refuses bad reviews with the right status, never a 500, and changes nothing', async () => {
    const m1 = clusterOf.m1!;
    const cases: [unknown, number, string | number, Record<string, string>?][] = [
      [{ action: 'confirm' }, 404, 999_999],
      [{ action: 'merge' }, 422, m1.cluster_id],
      [{}, 422, m1.cluster_id],
      [{ action: 'reject_members' }, 422, m1.cluster_id],
      [{ action: 'reject_members', question_ids: [] }, 422, m1.cluster_id],
      [{ action: 'reject_members', question_ids: [ids.p1] }, 422, m1.cluster_id],
      [{ action: 'reject_members', question_ids: [ids.m2, ids.s1] }, 422, m1.cluster_id],
      [{ action: 'reject_members', question_ids: [m1.canonical_question_id] }, 422, m1.cluster_id],
      [{ action: 'reject_members', question_ids: ['2'] }, 422, m1.cluster_id],
      [{ action: 'set_canonical', canonical_question_id: ids.s1 }, 422, m1.cluster_id],
      [{ action: 'set_canonical' }, 422, m1.cluster_id],
      [{ action: 'confirm', note: 'x'.repeat(3000) }, 422, m1.cluster_id],
      [{ action: 'confirm' }, 400, 'abc'],
      ['[', 400, m1.cluster_id],
      ['action=confirm', 415, m1.cluster_id, { ...PLAIN, 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [body, status, cluster, headers] of cases) {
      const response = await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${cluster}/review`, body, headers ?? PLAIN);
      expect({ body, status: response.status }).toEqual({ body, status });
      expect(response.body).toMatchObject({ code: status, data: null });
      if (status === 422 && typeof body === 'object' && body !== null && 'action' in body && body.action !== 'merge') expect(response.body.errors?.length).toBeGreaterThan(0);
    }
    // An unknown task, and a cluster of another task.
    expect((await service.api('POST', `/api/dedup/tasks/999999/clusters/${m1.cluster_id}/review`, { action: 'confirm' }, PLAIN)).status).toBe(404);
    const other = (await service.api('POST', '/api/dedup/tasks', { task_name: 'other' }, PLAIN)).body.data.id;
    expect((await service.api('POST', `/api/dedup/tasks/${other}/clusters/${m1.cluster_id}/review`, { action: 'confirm' }, PLAIN)).status).toBe(404);
    expect(await current(m1)).toEqual(m1);
    expect((await decisions()).total).toBe(0);
    expect((await task()).reviewed_cluster_count).toBe(0);
  });

  it('needs a token like every route', async () => {
    expect((await review(clusterOf.m1!, { action: 'confirm' }, {})).status).toBe(401);
    expect((await service.api('GET', '/api/dedup/decisions')).status).toBe(401);
  });

  it('answers 409 while the task runs, and the review changes nothing', async () => {
    const started = await service.api('POST', `/api/dedup/tasks/${taskId}/start`, undefined, PLAIN);
    expect(started.status).toBe(200);
    const refused = await review(clusterOf.s1!, { action: 'confirm' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('running');
    expect((await service.api('POST', `/api/dedup/tasks/${taskId}/resolve`, undefined, PLAIN)).status).toBe(409);
    await waitForEnd(service, taskId, PLAIN);
    expect((await decisions()).total).toBe(0);
    // The re-run kept the clusters as they were (nothing changed in the bank).
    const again = await clusters(service, taskId, '', PLAIN);
    expect(again.items.map((c) => c.cluster_id).sort()).toEqual(Object.values(clusterOf).map((c) => c.cluster_id).sort());
  });

  it('confirm remembers a duplicate decision per (canonical, member) pair, by the token name, and tells the room', async () => {
    const events = collect(client, 'cluster_reviewed');
    const response = await review(clusterOf.m1!, { action: 'confirm', note: '同一道题' }, ALICE);
    expect(response.status).toBe(200);
    const cluster = response.body.data as ClusterItem;
    expect(cluster.review).toMatchObject({ state: 'confirmed', decided_by: 'alice', note: '同一道题' });
    expect(Date.parse(cluster.review.decided_at!)).not.toBeNaN();
    const listed = await decisions();
    expect(listed.total).toBe(3);
    for (const item of listed.items) {
      expect(item).toMatchObject({ verdict: 'duplicate', decided_by: 'alice', note: '同一道题', lapsed: false });
      expect(item.question_ids).toContain(ids.m1);
      expect(item.question_ids[0]).toBeLessThan(item.question_ids[1]);
    }
    expect(await task()).toMatchObject({ reviewed_cluster_count: 1, confirmed_cluster_count: 1, dismissed_cluster_count: 0 });
    await Bun.sleep(100);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      task_id: taskId,
      cluster_id: cluster.cluster_id,
      review: cluster.review,
      canonical_question_id: ids.m1!,
      members: cluster.members,
      review_progress: { reviewed: 1, total: 3 },
    } as never);
  });

  it('dismiss remembers distinct pairs, named by X-Reviewer under a plain token', async () => {
    const response = await review(clusterOf.p1!, { action: 'dismiss' }, { ...PLAIN, 'X-Reviewer': encodeURIComponent(' 王老师 ') });
    expect(response.status).toBe(200);
    expect(response.body.data.review).toMatchObject({ state: 'dismissed', decided_by: '王老师', note: null });
    const listed = await decisions(`&question_id=${ids.p2}`);
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ question_ids: [ids.p1, ids.p2], verdict: 'distinct', decided_by: '王老师' });
    expect(await task()).toMatchObject({ reviewed_cluster_count: 2, confirmed_cluster_count: 1, dismissed_cluster_count: 1 });
  });

  it('reject_members takes members out as distinct pairs (partial), anonymous without a name; the last one out dismisses', async () => {
    // Re-decide m1: m3 is not the same question after all. The pair's earlier decision is replaced.
    const response = await review(clusterOf.m1!, { action: 'reject_members', question_ids: [ids.m3, ids.m3] });
    expect(response.status).toBe(200);
    const cluster = response.body.data as ClusterItem;
    expect(cluster.review).toMatchObject({ state: 'partial', decided_by: 'anonymous' });
    expect(cluster.members.map((m) => m.question_id).sort()).toEqual([ids.m1, ids.m2, ids.m4].sort());
    const pair = (await decisions(`&question_id=${ids.m3}`)).items;
    expect(pair).toHaveLength(1);
    expect(pair[0]).toMatchObject({ verdict: 'distinct', decided_by: 'anonymous' });
    expect((await decisions()).total).toBe(4);
    expect(await task()).toMatchObject({ reviewed_cluster_count: 2, confirmed_cluster_count: 0, dismissed_cluster_count: 1 });

    const s1 = await review(clusterOf.s1!, { action: 'reject_members', question_ids: [ids.s2] });
    expect(s1.body.data.review.state).toBe('dismissed');
    expect(s1.body.data.members.map((m: { question_id: number }) => m.question_id)).toEqual([ids.s1]);
    expect(await task()).toMatchObject({ reviewed_cluster_count: 3, confirmed_cluster_count: 0, dismissed_cluster_count: 2 });
  });

  it('set_canonical makes a member canonical without a decision; later decisions pair with it', async () => {
    const before = (await decisions()).total;
    const response = await review(clusterOf.m1!, { action: 'set_canonical', canonical_question_id: ids.m4 });
    expect(response.status).toBe(200);
    expect(response.body.data.canonical_question_id).toBe(ids.m4);
    expect(response.body.data.members[0].question_id).toBe(ids.m4);
    expect(response.body.data.review.state).toBe('partial');
    expect((await decisions()).total).toBe(before);
    const confirmed = await review(clusterOf.m1!, { action: 'confirm' });
    expect(confirmed.body.data.review.state).toBe('confirmed');
    const m4 = (await decisions(`&question_id=${ids.m4}&verdict=duplicate`)).items;
    expect(m4.map((d: { question_ids: number[] }) => d.question_ids).sort()).toEqual([[ids.m1, ids.m4], [ids.m2, ids.m4]].sort());
  });

  it('filters clusters by review state and similarity band, and includes the questions on request', async () => {
    const states = async (query: string) => (await clusters(service, taskId, query, PLAIN)).items.map((c) => c.review.state);
    expect(await states('&review=confirmed')).toEqual(['confirmed']);
    expect(await states('&review=dismissed')).toEqual(['dismissed', 'dismissed']);
    expect(await states('&review=unreviewed')).toEqual([]);
    expect((await clusters(service, taskId, '&review=dismissed&type_name=单选题', PLAIN)).total).toBe(1);
    // Bands of the weakest member's similarity: every cluster here is exact copies now (m3 left).
    expect((await clusters(service, taskId, '&max_similarity=0.95', PLAIN)).total).toBe(0);
    expect((await clusters(service, taskId, '&min_similarity=0.95&max_similarity=1', PLAIN)).total).toBe(3);
    for (const bad of ['&review=maybe', '&min_similarity=2', '&max_similarity=x', '&include=everything']) {
      const response = await service.api('GET', `/api/dedup/tasks/${taskId}/clusters?${bad.slice(1)}`, undefined, PLAIN);
      expect({ bad, status: response.status }).toEqual({ bad, status: 400 });
    }
    // The task's export lists the pairs of the clusters not dismissed: here the confirmed one alone.
    const exported = await fetch(`${service.url}/api/dedup/tasks/${taskId}/export?format=ndjson`, { headers: PLAIN });
    const pairs = (await exported.text()).trim().split('\n').map((line) => JSON.parse(line) as { canonical_question_id: number; question_id: number });
    const confirmed = (await clusters(service, taskId, '&review=confirmed', PLAIN)).items[0]!;
    expect(pairs.map((pair) => pair.question_id).sort()).toEqual(confirmed.members.map((m) => m.question_id).filter((id) => id !== confirmed.canonical_question_id).sort());
    expect(new Set(pairs.map((pair) => pair.canonical_question_id))).toEqual(new Set([confirmed.canonical_question_id]));
    const withQuestions = await clusters(service, taskId, '&include=questions&review=confirmed', PLAIN);
    for (const member of withQuestions.items[0]!.members) {
      expect(member.question).toMatchObject({ id: member.question_id });
      expect(member.question!.content).toBe(REVIEW_BANK.find((q) => ids[q.external_id as keyof BankIds] === member.question_id)!.content);
    }
  });

  it('two reviewers at once: both succeed in order, the later wins, both rooms see the final state', async () => {
    const second = await service.connect({ auth: { token: 'tok-alice' } });
    second.emit('join_task', { task_id: taskId });
    await nextEvent(second, 'task_status');
    const seenFirst = collect(client, 'cluster_reviewed');
    const seenSecond = collect(second, 'cluster_reviewed');
    const cluster = clusterOf.p1!;
    const [a, b] = await Promise.all([review(cluster, { action: 'confirm' }, ALICE), review(cluster, { action: 'dismiss' }, { ...PLAIN, 'X-Reviewer': 'bob' })]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const final = (await current(cluster))!;
    // Each answer shows its own action applied; the final state is one of them, the later.
    expect(a.body.data.review.state).toBe('confirmed');
    expect(b.body.data.review.state).toBe('dismissed');
    expect(['confirmed', 'dismissed']).toContain(final.review.state);
    const decision = (await decisions(`&question_id=${ids.p2}`)).items[0];
    expect(decision.verdict).toBe(final.review.state === 'confirmed' ? 'duplicate' : 'distinct');
    await Bun.sleep(200);
    for (const seen of [seenFirst, seenSecond]) {
      expect(seen).toHaveLength(2);
      expect(seen[1]!.review).toEqual(final.review);
    }
    const counts = await task();
    expect(counts.reviewed_cluster_count).toBe(3);
    expect(counts.confirmed_cluster_count + counts.dismissed_cluster_count).toBe(3);
  });

  it('lists decisions with filters and pages, marks them lapsed when a question changes, and forgets one on DELETE', async () => {
    const all = await decisions();
    expect(all.total).toBeGreaterThanOrEqual(5);
    const pageOne = (await service.api('GET', '/api/dedup/decisions?page=1&page_size=2', undefined, PLAIN)).body.data;
    const pageTwo = (await service.api('GET', '/api/dedup/decisions?page=2&page_size=2', undefined, PLAIN)).body.data;
    expect([...pageOne.items, ...pageTwo.items].map((d: { id: number }) => d.id)).toEqual(all.items.slice(0, 4).map((d: { id: number }) => d.id));
    expect((await decisions('&verdict=distinct')).items.every((d: { verdict: string }) => d.verdict === 'distinct')).toBe(true);
    for (const bad of ['verdict=same', 'question_id=-1', 'lapsed=maybe', 'page_size=501']) {
      expect((await service.api('GET', `/api/dedup/decisions?${bad}`, undefined, PLAIN)).status).toBe(400);
    }

    // Editing s2 (re-import by external id) lapses its decision; an unchanged re-import does not.
    const s2 = REVIEW_BANK.find((q) => q.external_id === 's2')!;
    expect((await service.api('POST', '/api/questions', [s2], PLAIN)).body.data.unchanged).toBe(1);
    expect((await decisions('&lapsed=true')).total).toBe(0);
    expect((await service.api('POST', '/api/questions', [{ ...s2, content: `${s2.content}（改）` }], PLAIN)).body.data.updated).toBe(1);
    const lapsed = await decisions('&lapsed=true');
    expect(lapsed.items.map((d: { question_ids: number[] }) => d.question_ids)).toEqual([[ids.s1, ids.s2]]);
    expect((await decisions('&lapsed=false')).total).toBe(all.total - 1);
    expect((await decisions(`&question_id=${ids.s2}`)).items.every((d: { lapsed: boolean }) => d.lapsed)).toBe(true);
    // The content decided comes back: the decision holds again (the flag follows the question both ways).
    expect((await service.api('POST', '/api/questions', [s2], PLAIN)).body.data.updated).toBe(1);
    expect((await decisions('&lapsed=true')).total).toBe(0);
    expect((await decisions('&lapsed=false')).total).toBe(all.total);
    expect((await service.api('POST', '/api/questions', [{ ...s2, content: `${s2.content}（改）` }], PLAIN)).body.data.updated).toBe(1);
    expect((await decisions('&lapsed=true')).items).toEqual(lapsed.items);

    const gone = lapsed.items[0];
    const deleted = await service.api('DELETE', `/api/dedup/decisions/${gone.id}`, undefined, PLAIN);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual(gone);
    expect((await service.api('DELETE', `/api/dedup/decisions/${gone.id}`, undefined, PLAIN)).status).toBe(404);
    expect((await service.api('DELETE', '/api/dedup/decisions/abc', undefined, PLAIN)).status).toBe(400);
    expect((await decisions()).total).toBe(all.total - 1);
  });
});
