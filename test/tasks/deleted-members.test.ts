import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { startTestService, type TestService } from '../support/service.ts';

const stem = '已知函数 f(x) = 2x^2 - 3x + 1，求 f(x) 在区间 [0, 2] 上的最大值和最小值，并写出取得最值时 x 的值。';
const second = '某校高三年级共有学生 600 人，按分层抽样抽取 60 人进行视力调查，其中男生 32 人，求该校女生人数。';

/** Two clusters of three in one group: the canonical of one will be deleted, a plain member of the other. */
const bank = [
  { external_id: 'a1', content: stem },
  { external_id: 'a2', content: `<p>17. （12分）${stem}</p>` },
  { external_id: 'a3', content: `${stem}&nbsp;` },
  { external_id: 'b1', content: second },
  { external_id: 'b2', content: `<p>3. ${second}</p>` },
  { external_id: 'b3', content: `${second} ` },
].map((row) => ({ ...row, type_name: '解答题', subject_name: '数学', channel_code: 'c1' }));

interface Member {
  question_id: number;
  deleted: boolean;
}
interface ClusterItem {
  cluster_id: number;
  canonical_question_id: number;
  members: Member[];
}

describe('clusters whose questions were deleted after the run', () => {
  let service: TestService;
  let taskId: number;
  const ids = new Map<string, number>();
  beforeAll(async () => {
    service = await startTestService();
    expect((await service.api('POST', '/api/questions', bank)).body.data.inserted).toBe(bank.length);
    for (const question of (await service.api('GET', '/api/questions?page_size=100')).body.data.items) ids.set(question.external_id, question.id);
    taskId = (await service.api('POST', '/api/dedup/tasks', { task_name: 'deleted members' })).body.data.id;
    await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
    for (;;) {
      const task = (await service.api('GET', `/api/dedup/tasks/${taskId}`)).body.data;
      if (task.status === 'completed') break;
      if (task.status === 'failed') throw new Error(task.error);
      await Bun.sleep(20);
    }
  });
  afterAll(() => service.stop());

  const clusters = async (): Promise<ClusterItem[]> => (await service.api('GET', `/api/dedup/tasks/${taskId}/clusters?page_size=100`)).body.data.items;

  it('marks every member deleted: false while all of them exist', async () => {
    const items = await clusters();
    expect(items.map((cluster) => cluster.members.map((member) => member.question_id).sort((x, y) => x - y))).toEqual([
      ['a1', 'a2', 'a3'].map((key) => ids.get(key)!),
      ['b1', 'b2', 'b3'].map((key) => ids.get(key)!),
    ]);
    expect(items.flatMap((cluster) => cluster.members).every((member) => member.deleted === false)).toBe(true);
  });

  it('marks deleted members, names a live canonical question, and every member not marked can be followed', async () => {
    expect((await service.api('DELETE', `/api/questions/${ids.get('a1')}`)).status).toBe(200);
    expect((await service.api('DELETE', `/api/questions/${ids.get('b3')}`)).status).toBe(200);
    const items = await clusters();
    const [a, b] = items;
    // The canonical question a1 is gone: the earliest live member, a2, takes its place and comes first.
    expect(a!.canonical_question_id).toBe(ids.get('a2')!);
    expect(a!.members[0]).toMatchObject({ question_id: ids.get('a2'), deleted: false });
    expect(a!.members.find((member) => member.question_id === ids.get('a1'))).toMatchObject({ deleted: true });
    expect(b!.canonical_question_id).toBe(ids.get('b1')!);
    expect(b!.members.find((member) => member.question_id === ids.get('b3'))).toMatchObject({ deleted: true });
    for (const cluster of items) {
      for (const member of cluster.members) {
        const followed = await service.api('GET', `/api/questions/${member.question_id}`);
        expect({ id: member.question_id, status: followed.status }).toEqual({ id: member.question_id, status: member.deleted ? 404 : 200 });
      }
      expect((await service.api('GET', `/api/questions/${cluster.canonical_question_id}`)).status).toBe(200);
    }
  });

  it('exports pairs against the live canonical question, the deleted ones marked', async () => {
    const response = await fetch(`${service.url}/api/dedup/tasks/${taskId}/export?format=ndjson`);
    const pairs = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
    const ofA = pairs.filter((pair) => [ids.get('a1'), ids.get('a3')].includes(pair.question_id));
    expect(ofA.map((pair) => [pair.canonical_question_id, pair.question_id, pair.deleted])).toEqual([
      [ids.get('a2'), ids.get('a1'), true],
      [ids.get('a2'), ids.get('a3'), false],
    ]);
  });

  it('keeps a cluster whose members are all deleted, every one marked', async () => {
    for (const key of ['a2', 'a3']) await service.api('DELETE', `/api/questions/${ids.get(key)}`);
    const [a] = await clusters();
    expect(a!.members.every((member) => member.deleted)).toBe(true);
    expect(a!.canonical_question_id).toBe(ids.get('a1')!);
  });
});
