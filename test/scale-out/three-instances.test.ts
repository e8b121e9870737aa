import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { io as connect, type Socket } from 'socket.io-client';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.ts';
import type { ClientToServerEvents, ServerToClientEvents, TaskProgressPayload } from '../../src/realtime/events.ts';
import type { Task } from '../../src/tasks/task.schema.ts';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from '../support/database.ts';
import { api, clusterFormed, startInstance, stopInstances, waitFor, type Instance } from '../support/instances.ts';

/**
 * Three service processes on one PostgreSQL database, as in a scale-out deployment: a client on
 * the first, the task started through the second, the groups shared by all three; then one of
 * them killed with SIGKILL half-way through a task. Needs TEST_DATABASE_URL (`.ci/run` sets it).
 */
const GROUPS = 45;
const PER_GROUP = 8;
const LEASE_MS = 1_500;
const SETTINGS = {
  WORKERS: '1',
  LEASE_MS: String(LEASE_MS),
  TASK_POLL_MS: '200',
  PROGRESS_INTERVAL_MS: '0',
  DB_POOL_SIZE: '4',
  TEST_WORKER: 'exact-worker.ts',
};

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Every group's questions: each text appears on several questions, so every group has clusters. */
const questions = Array.from({ length: GROUPS * PER_GROUP }, (_, index) => {
  const group = Math.floor(index / PER_GROUP);
  return {
    external_id: `q-${index}`,
    type_name: '单选题',
    subject_name: `科目-${String(group).padStart(2, '0')}`,
    content: `第 ${group} 组的题目 ${index % (3 + (group % 3))}`,
  };
});

/** What a client in a task's room hears, in order. */
function listen(client: Client, taskId: number) {
  const events: ({ event: 'task_progress'; payload: TaskProgressPayload } | { event: 'task_completed' | 'task_error'; payload: unknown })[] = [];
  client.on('task_progress', (payload) => payload.task_id === taskId && events.push({ event: 'task_progress', payload }));
  client.on('task_completed', (payload) => payload.task_id === taskId && events.push({ event: 'task_completed', payload }));
  client.on('task_error', (payload) => payload.task_id === taskId && events.push({ event: 'task_error', payload }));
  const completed = waitFor('task_completed', async () => events.some((entry) => entry.event === 'task_completed'), 60_000);
  return { events, completed };
}

function expectOrderlyStream(events: ReturnType<typeof listen>['events']) {
  const progress = events.filter((entry) => entry.event === 'task_progress').map((entry) => entry.payload as TaskProgressPayload);
  const counts = progress.map((payload) => payload.processed_groups);
  expect(counts).toEqual([...counts].sort((a, b) => a - b));
  expect(events.filter((entry) => entry.event === 'task_completed')).toHaveLength(1);
  expect(events.at(-1)?.event).toBe('task_completed');
  expect(events.at(-2)?.event).toBe('task_progress');
  expect((events.at(-2)?.payload as TaskProgressPayload).processed_groups).toBe(GROUPS);
  expect(events.some((entry) => entry.event === 'task_error')).toBe(false);
  return progress;
}

async function joinRoom(client: Client, taskId: number) {
  const answer = await client.timeout(5_000).emitWithAck('join_task', { task_id: taskId });
  expect(answer.ok).toBe(true);
}

async function clustersOf(instance: Instance, taskId: number) {
  const page = await api<{ items: { group: { subject_name: string }; canonical_question_id: number; members: { question_id: number }[] }[]; total: number }>(
    instance,
    'GET',
    `/dedup/tasks/${taskId}/clusters?page_size=500`,
  );
  expect(page.items.length).toBe(page.total);
  return page.items
    .map((cluster) => `${cluster.group.subject_name}:${cluster.canonical_question_id}:${cluster.members.map((member) => member.question_id).sort((a, b) => a - b).join(',')}`)
    .sort();
}

const groupsByOwner = async (db: DatabaseHandle['db'], taskId: number) =>
  db.selectFrom('dedup_task_groups').select(['id', 'subject_name', 'status', 'lease_owner']).where('task_id', '=', taskId).execute();

describe.skipIf(!testDatabaseServer())('three instances on one PostgreSQL', () => {
  let shared: TestDatabase;
  let reference: TestDatabase;
  let database: DatabaseHandle;
  const instances: Instance[] = [];
  const clients: Client[] = [];
  let expectedClusters: string[];

  beforeAll(async () => {
    [shared, reference] = await Promise.all([createTestDatabase('scale_out'), createTestDatabase('scale_out_ref')]);

    // The one-instance run every multi-instance run must match.
    const alone = await startInstance('alone', reference.url, SETTINGS);
    try {
      await api(alone, 'POST', '/questions', questions);
      const task = await api<Task>(alone, 'POST', '/dedup/tasks', { task_name: 'reference' });
      await api(alone, 'POST', `/dedup/tasks/${task.id}/start`);
      await waitFor('the reference run', async () => (await api<Task>(alone, 'GET', `/dedup/tasks/${task.id}`)).status === 'completed', 60_000);
      expectedClusters = await clustersOf(alone, task.id);
      expect(expectedClusters.length).toBeGreaterThan(GROUPS);
    } finally {
      await stopInstances([alone]);
    }

    // The first instance migrates; the others then start side by side.
    instances.push(await startInstance('a', shared.url, SETTINGS));
    instances.push(...(await Promise.all(['b', 'c'].map((name) => startInstance(name, shared.url, SETTINGS)))));
    database = await connectDatabase(shared.url, { maxConnections: 2 });
    await api(instances[1]!, 'POST', '/questions', questions);
    await clusterFormed(instances, 3);
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await stopInstances(instances);
    await database?.db.destroy();
    await Promise.all([shared?.drop(), reference?.drop()]);
  }, 30_000);

  it('shares one task among all three and streams every group’s progress to a client on another instance', async () => {
    const [a, b] = instances as [Instance, Instance, Instance];
    const client: Client = connect(a.url, { transports: ['websocket'] });
    clients.push(client);
    const task = await api<Task>(b, 'POST', '/dedup/tasks', { task_name: 'three instances', filters: { type_names: ['单选题'] } });
    await joinRoom(client, task.id);
    const stream = listen(client, task.id);

    await api(b, 'POST', `/dedup/tasks/${task.id}/start`);
    await stream.completed;

    const progress = expectOrderlyStream(stream.events);
    const done = await api<Task>(a, 'GET', `/dedup/tasks/${task.id}`);
    expect(done).toMatchObject({ status: 'completed', processed_groups: GROUPS, total_groups: GROUPS, processed_questions: GROUPS * PER_GROUP });

    const groups = await groupsByOwner(database.db, task.id);
    const owners = new Map(groups.map((group) => [group.subject_name, group.lease_owner]));
    for (const name of ['a', 'b', 'c']) expect(groups.filter((group) => group.lease_owner === name).length).toBeGreaterThan(0);
    // The client on a heard of groups that b and c finished, relayed through PostgreSQL.
    const heardFrom = new Set(progress.map((payload) => owners.get(payload.current_group!.subject_name)));
    expect([...heardFrom].sort()).toEqual(['a', 'b', 'c']);
    // Without coalescing, a client hears about (nearly) every group; only events overtaken by a later count are dropped.
    expect(progress.length).toBeGreaterThan(GROUPS / 2);
    expect(await clustersOf(a, task.id)).toEqual(expectedClusters);
  }, 90_000);

  it('answers a check on one instance with questions imported and fingerprinted through another', async () => {
    const [a, b] = instances as [Instance, Instance, Instance];
    const question = {
      external_id: 'check-across',
      type_name: '解答题',
      subject_name: '物理',
      content: '一辆汽车以每秒二十米的速度在平直公路上匀速行驶，司机发现前方障碍物后立即刹车，求汽车停下所需的时间和滑行的距离。',
    };
    await api(b, 'POST', '/questions', [question]);
    const [stored] = await database.db.selectFrom('questions').select(['id']).where('external_id', '=', 'check-across').execute();
    // b fingerprints it in the background; once stored, a must learn of it from b, not print it itself.
    await waitFor('b to store the new question’s print', async () => {
      const row = await database.db.selectFrom('question_prints').select('print').where('question_id', '=', stored!.id).executeTakeFirst();
      return row !== undefined;
    });
    const hits = await waitFor(
      'a to find the question',
      async () => {
        const found = await api<{ question_id: number }[]>(a, 'POST', '/dedup/check', { ...question, external_id: undefined });
        return found.some((hit) => hit.question_id === stored!.id) && found;
      },
      5_000,
      100,
    );
    expect(hits[0]!.question_id).toBe(stored!.id);
  }, 30_000);

  it('finishes the task when one instance is killed half-way, with the same clusters as one instance', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const client: Client = connect(a.url, { transports: ['websocket'] });
    clients.push(client);
    const task = await api<Task>(b, 'POST', '/dedup/tasks', { task_name: 'kill one', filters: { type_names: ['单选题'] } });
    await joinRoom(client, task.id);
    const stream = listen(client, task.id);
    await api(b, 'POST', `/dedup/tasks/${task.id}/start`);

    // Kill c while it holds groups, after it has finished some.
    const held = await waitFor('c to be working on the task', async () => {
      const groups = await groupsByOwner(database.db, task.id);
      const running = groups.filter((group) => group.lease_owner === 'c' && group.status === 'running');
      const doneByC = groups.filter((group) => group.lease_owner === 'c' && group.status === 'done');
      return running.length > 0 && doneByC.length > 0 && running;
    });
    c.process.kill('SIGKILL');
    await c.process.exited;
    const killedAt = Date.now();
    const orphaned = new Set(held.map((group) => group.id));

    await stream.completed;
    expectOrderlyStream(stream.events);
    // Its groups waited for their leases to run out, then went to the survivors.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(LEASE_MS / 2);
    const groups = await groupsByOwner(database.db, task.id);
    expect(groups.every((group) => group.status === 'done')).toBe(true);
    for (const group of groups.filter((entry) => orphaned.has(entry.id))) expect(['a', 'b']).toContain(group.lease_owner ?? 'none');
    const done = await api<Task>(a, 'GET', `/dedup/tasks/${task.id}`);
    expect(done).toMatchObject({ status: 'completed', processed_groups: GROUPS, processed_questions: GROUPS * PER_GROUP });
    expect(await clustersOf(b, task.id)).toEqual(expectedClusters);
  }, 90_000);
});
