/**
 * The sample bank scored end to end: import it into a real service, run a task with the real
 * dedup worker at default options, and compare the clusters with the generator's ground truth.
 * Formatting variants (question number and score note, pasted HTML, full-width characters,
 * extra spaces, exact repeats) are what normalization exists for: every one must be found, and
 * no cluster may join questions made from different originals. A reworded lead-in is a wording
 * edit on a short text; its recall is printed, not asserted, since it depends on tuning.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { generateLabelledBank, type PlantKind } from '../src/sample/generate.ts';
import { importQuestions, startTestService, type TestService } from './support/service.ts';

setDefaultTimeout(60_000);

async function all<T>(service: TestService, path: string): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const data = (await service.api('GET', `${path}${path.includes('?') ? '&' : '?'}page=${page}&page_size=500`)).body.data;
    items.push(...data.items);
    if (items.length >= data.total) return items;
  }
}

describe('the sample bank, deduplicated by the real engine', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(() => service.stop());

  it('finds every formatting variant and never merges different originals', async () => {
    const { questions, planted } = generateLabelledBank({ count: 3000, seed: 2024, channels: 3 });
    await importQuestions(service, questions as Record<string, unknown>[]);
    const externalOf = new Map((await all<{ id: number; external_id: string }>(service, '/api/questions')).map((q) => [q.id, q.external_id]));
    const task = (await service.api('POST', '/api/dedup/tasks', { task_name: 'recall' })).body.data;
    await service.api('POST', `/api/dedup/tasks/${task.id}/start`);
    for (let status = 'running'; status === 'running' || status === 'pending'; await Bun.sleep(100)) {
      status = (await service.api('GET', `/api/dedup/tasks/${task.id}`)).body.data.status;
    }
    const clusters = await all<{ cluster_id: number; members: { question_id: number }[] }>(service, `/api/dedup/tasks/${task.id}/clusters`);
    const clusterOf = new Map<string, number>();
    for (const cluster of clusters) for (const m of cluster.members) clusterOf.set(externalOf.get(m.question_id)!, cluster.cluster_id);

    const found = new Map<PlantKind, [number, number]>();
    for (const [copy, { from, kind }] of planted) {
      const [hit, total] = found.get(kind) ?? [0, 0];
      const together = clusterOf.has(copy) && clusterOf.get(copy) === clusterOf.get(from);
      found.set(kind, [hit + (together ? 1 : 0), total + 1]);
    }
    const original = (id: string) => planted.get(id)?.from ?? id;
    const mixed = clusters.filter((c) => new Set(c.members.map((m) => original(externalOf.get(m.question_id)!))).size > 1);

    const report = [...found].map(([kind, [hit, total]]) => `${kind} ${hit}/${total}`).join(', ');
    console.log(`sample recall by kind of copy: ${report}; clusters mixing originals: ${mixed.length} of ${clusters.length}`);
    for (const kind of ['numbered', 'html', 'full-width', 'spaced'] as const) {
      const [hit, total] = found.get(kind)!;
      expect(total).toBeGreaterThan(50);
      expect(`${kind} ${hit}/${total}`).toBe(`${kind} ${total}/${total}`);
    }
    expect(mixed.length).toBe(0);
  });
});
