import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { loadCorpus, scaleCorpus } from '../bench/corpus.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { clusters, rerun, runTask, shape, type ClusterItem } from './support.ts';

/**
 * Runs honour remembered decisions, end to end through the REST API, the runner, the real pool
 * and the database: reviewers' verdicts are read for each group, the engine keeps distinct
 * pairs apart and duplicate pairs together, and a re-run (which reuses its previous run's
 * decisions) equals a fresh run made with the same verdicts.
 */
const SIZE = 1200;
const { base } = loadCorpus();
// The corpus plants near copies (of rows up to 50 back) past its base questions: take the end of the base and what follows.
const texts = scaleCorpus(base, base.length + SIZE - 200).slice(base.length - 200).map((q) => q.content);
// Two channels in blocks of 100, so subject-scoped tasks find clusters across channels too.
const bank = texts.map((content, i) => ({ external_id: `q${i}`, type_name: '解答题', subject_name: '数学', channel_code: Math.floor(i / 100) % 2 === 0 ? 'c1' : 'c2', content }));

/** A task's clusters as comparable values: membership, numbers and review state, without storage ids. */
async function result(service: TestService, taskId: number) {
  const { items } = await clusters(service, taskId);
  return items
    .map((c) => ({ shape: shape(c), members: [...c.members].sort((a, b) => a.question_id - b.question_id), state: c.review.state }))
    .sort((a, b) => a.shape[0]! - b.shape[0]!);
}

/** Whether two questions share a cluster. */
const together = (items: ClusterItem[], a: number, b: number) => items.some((c) => c.members.some((m) => m.question_id === a) && c.members.some((m) => m.question_id === b));

describe('runs honour remembered decisions', () => {
  let service: TestService;
  let taskId: number;
  let first: ClusterItem[];
  const review = (id: number, cluster: ClusterItem, body: unknown) => service.api('POST', `/api/dedup/tasks/${id}/clusters/${cluster.cluster_id}/review`, body);
  const expectEqualToFresh = async (options: Record<string, unknown> = {}) => {
    const fresh = await runTask(service, options);
    expect(await result(service, taskId)).toEqual(await result(service, fresh.id));
    return fresh;
  };

  beforeAll(async () => {
    service = await startTestService();
    expect((await service.api('POST', '/api/questions', bank)).body.data.inserted).toBe(SIZE);
    taskId = (await runTask(service)).id;
    first = (await clusters(service, taskId)).items;
    expect(first.length).toBeGreaterThan(20);
  });
  afterAll(() => service.stop());

  it('a dismissed cluster does not come back, a rejected member stays out, a confirmed cluster re-forms confirmed; the re-run equals a fresh run', async () => {
    const big = first.filter((c) => c.members.length >= 3);
    const pairs = first.filter((c) => c.members.length === 2);
    expect(big.length).toBeGreaterThanOrEqual(1);
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    const dismissed = pairs[0]!;
    const confirmed = pairs[1]!;
    const partial = big[0]!;
    const rejected = partial.members.find((m) => m.question_id !== partial.canonical_question_id)!.question_id;
    expect((await review(taskId, dismissed, { action: 'dismiss' })).status).toBe(200);
    expect((await review(taskId, confirmed, { action: 'confirm' })).status).toBe(200);
    expect((await review(taskId, partial, { action: 'reject_members', question_ids: [rejected] })).body.data.review.state).toBe('partial');

    const task = await rerun(service, taskId);
    const after = (await clusters(service, taskId)).items;
    const [a, b] = dismissed.members.map((m) => m.question_id);
    expect(together(after, a!, b!)).toBe(false);
    expect(together(after, partial.canonical_question_id, rejected)).toBe(false);
    const reformed = after.find((c) => c.canonical_question_id === confirmed.canonical_question_id)!;
    expect(shape(reformed)).toEqual(shape(confirmed));
    // Kept as stored (the reviewer's own review) or formed again (named after the remembered decisions): confirmed either way.
    expect(reformed.review).toMatchObject({ state: 'confirmed', decided_by: 'anonymous' });
    expect(task.confirmed_cluster_count).toBeGreaterThanOrEqual(1);
    expect(task.reviewed_cluster_count).toBe(task.confirmed_cluster_count + task.dismissed_cluster_count + after.filter((c) => c.review.state === 'partial').length);
    // The rest of the partial cluster is unreviewed again (only its rejected pair was decided).
    const fresh = await expectEqualToFresh();
    expect(fresh.confirmed_cluster_count).toBe(task.confirmed_cluster_count);
    const formed = (await clusters(service, fresh.id, '&review=confirmed')).items.find((c) => c.canonical_question_id === confirmed.canonical_question_id)!;
    expect(formed.review).toMatchObject({ state: 'confirmed', decided_by: 'anonymous', note: 'confirmed by remembered decisions' });
  });

  it('a decision made after the previous run changes the re-run so that it equals a fresh run', async () => {
    const before = (await clusters(service, taskId)).items;
    const target = before.find((c) => c.review.state === 'unreviewed' && c.members.length >= 2)!;
    expect((await review(taskId, target, { action: 'dismiss' })).status).toBe(200);
    await rerun(service, taskId);
    const after = (await clusters(service, taskId)).items;
    const others = target.members.filter((m) => m.question_id !== target.canonical_question_id);
    for (const member of others) expect(together(after, target.canonical_question_id, member.question_id)).toBe(false);
    await expectEqualToFresh();
  });

  it('subject-scoped runs honour the decisions too, re-run equal to fresh', async () => {
    const subject = await runTask(service, { scope: 'subject' });
    const items = (await clusters(service, subject.id)).items;
    const dismissed = (await service.api('GET', '/api/dedup/decisions?verdict=distinct&page_size=500')).body.data.items as { question_ids: [number, number] }[];
    expect(dismissed.length).toBeGreaterThan(0);
    for (const { question_ids: [a, b] } of dismissed) expect(together(items, a, b)).toBe(false);
    // A cross-channel cluster dismissed in the subject-scoped task.
    const across = items.find((c) => c.review.state === 'unreviewed' && new Set(c.members.map((m) => bank[m.question_id - 1]!.channel_code)).size === 2);
    expect(across).toBeDefined();
    expect((await review(subject.id, across!, { action: 'dismiss' })).status).toBe(200);
    await rerun(service, subject.id);
    const fresh = await runTask(service, { scope: 'subject' });
    expect(await result(service, subject.id)).toEqual(await result(service, fresh.id));
  });

  it('an edited question lapses its decisions: the pair may cluster again, and the re-run still equals a fresh run', async () => {
    const distinct = (await service.api('GET', '/api/dedup/decisions?verdict=distinct&page_size=500')).body.data.items as { id: number; question_ids: [number, number] }[];
    const [a, b] = distinct.at(-1)!.question_ids;
    // The same text in other dress: still a duplicate, but a new version of the question.
    const edited = { ...bank[b - 1]!, content: `<p>${bank[b - 1]!.content}</p>` };
    expect((await service.api('POST', '/api/questions', [edited])).body.data.updated).toBe(1);
    expect((await service.api('GET', '/api/dedup/decisions?lapsed=true')).body.data.items.map((d: { id: number }) => d.id)).toContain(distinct.at(-1)!.id);
    await rerun(service, taskId);
    expect(together((await clusters(service, taskId)).items, a, b)).toBe(true);
    await expectEqualToFresh();
  });

  it('a forgotten decision no longer counts: the re-run equals a fresh run', async () => {
    const holding = (await service.api('GET', '/api/dedup/decisions?verdict=distinct&lapsed=false&page_size=500')).body.data.items as { id: number; question_ids: [number, number] }[];
    // One the channel-scoped task's first run had together.
    const forgotten = holding.find(({ question_ids: [a, b] }) => together(first, a, b))!;
    expect((await service.api('DELETE', `/api/dedup/decisions/${forgotten.id}`)).status).toBe(200);
    await rerun(service, taskId);
    expect(together((await clusters(service, taskId)).items, ...forgotten.question_ids)).toBe(true);
    await expectEqualToFresh();
  });
});

describe('a kept cluster and its remembered decisions', () => {
  let service: TestService;
  let taskId: number;
  beforeAll(async () => {
    service = await startTestService();
    expect((await service.api('POST', '/api/questions', bank)).body.data.inserted).toBe(SIZE);
    taskId = (await runTask(service)).id;
  });
  afterAll(() => service.stop());

  it('a confirmed cluster whose duplicate decision is forgotten is unreviewed after the re-run, as a fresh run has it', async () => {
    const confirmed = (await clusters(service, taskId)).items.find((c) => c.members.length >= 2)!;
    expect((await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${confirmed.cluster_id}/review`, { action: 'confirm' })).status).toBe(200);
    // While its decisions hold, the re-run keeps it confirmed (as stored: the reviewer's own review).
    await rerun(service, taskId);
    const kept = (await clusters(service, taskId)).items.find((c) => c.canonical_question_id === confirmed.canonical_question_id)!;
    expect(kept.review.state).toBe('confirmed');
    const member = confirmed.members.find((m) => m.question_id !== confirmed.canonical_question_id)!.question_id;
    const decision = (await service.api('GET', `/api/dedup/decisions?question_id=${member}&verdict=duplicate`)).body.data.items[0] as { id: number };
    expect((await service.api('DELETE', `/api/dedup/decisions/${decision.id}`)).status).toBe(200);
    const before = (await service.api('GET', `/api/dedup/tasks/${taskId}`)).body.data;
    await rerun(service, taskId);
    const after = (await clusters(service, taskId)).items.find((c) => c.canonical_question_id === confirmed.canonical_question_id)!;
    // The engine still finds the cluster (a confirmed pair it joins anyway), but nothing confirms it now.
    expect(shape(after)).toEqual(shape(confirmed));
    expect(after.review).toEqual({ state: 'unreviewed', decided_by: null, decided_at: null, note: null });
    const task = (await service.api('GET', `/api/dedup/tasks/${taskId}`)).body.data;
    expect(task.confirmed_cluster_count).toBe(before.confirmed_cluster_count - 1);
    expect(task.reviewed_cluster_count).toBe(before.reviewed_cluster_count - 1);
    const fresh = await runTask(service);
    expect(await result(service, taskId)).toEqual(await result(service, fresh.id));
  });

  it('an unreviewed kept cluster that decisions made since (in another task) confirm is confirmed after the re-run, as a fresh run has it', async () => {
    const other = (await runTask(service)).id;
    const target = (await clusters(service, other)).items.find((c) => c.members.length >= 2 && c.review.state === 'unreviewed')!;
    const inTask = (await clusters(service, taskId)).items.find((c) => c.canonical_question_id === target.canonical_question_id)!;
    expect(inTask.review.state).toBe('unreviewed');
    expect((await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${inTask.cluster_id}/review`, { action: 'confirm' }, { 'X-Reviewer': 'alice' })).status).toBe(200);
    const before = (await service.api('GET', `/api/dedup/tasks/${other}`)).body.data;
    await rerun(service, other);
    const after = (await clusters(service, other)).items.find((c) => c.canonical_question_id === target.canonical_question_id)!;
    expect(shape(after)).toEqual(shape(target));
    expect(after.review).toMatchObject({ state: 'confirmed', decided_by: 'alice', note: 'confirmed by remembered decisions' });
    const task = (await service.api('GET', `/api/dedup/tasks/${other}`)).body.data;
    expect(task.confirmed_cluster_count).toBe(before.confirmed_cluster_count + 1);
    const fresh = await runTask(service);
    expect(await result(service, other)).toEqual(await result(service, fresh.id));
  });
});
