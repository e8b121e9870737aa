import { afterAll, beforeAll, expect, it } from 'bun:test';
import { statSync } from 'node:fs';
import {
  api,
  clusterSets,
  connectClient,
  getTask,
  importQuestions,
  spawnService,
  tempDir,
  waitFor,
  type ChildService,
  type SeedQuestion,
} from '../support/child-service.ts';

/**
 * Cancel while a group is computing: the AbortSignal terminates the worker thread (its
 * heartbeat file stops growing), the task is `cancelled`, the room hears `task_error:
 * "cancelled"`, and the clusters of the groups that had finished stay readable.
 */
const temp = tempDir();
let service: ChildService;
beforeAll(async () => {
  service = await spawnService({ worker: 'chaos-worker.ts', dbFile: `${temp.dir}/cancel.sqlite`, env: { WORKERS: '1' } });
});
afterAll(async () => {
  service?.kill('SIGKILL');
  await service?.exited;
  temp.remove();
});

const sizeOf = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

it('stops the worker mid-group, cancels the task, tells the room, and keeps finished results readable', async () => {
  const beat = `${temp.dir}/heartbeat`;
  const questions: SeedQuestion[] = [];
  for (const subject of ['a-0', 'a-1', 'a-2']) {
    questions.push(
      { type_name: '单选题', subject_name: subject, content: `${subject} what is 1+1` },
      { type_name: '单选题', subject_name: subject, content: `${subject} WHAT is 1+1` },
    );
  }
  questions.push({ type_name: '单选题', subject_name: 'z-long', content: `a long group @beat:${beat}` });
  await importQuestions(service.url, questions);
  const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'cancel me' })).body.data.id as number;

  const client = await connectClient(service.url);
  const taskErrors: { task_id: number; error: string }[] = [];
  client.on('task_error', (payload) => taskErrors.push(payload));
  let completed = false;
  client.on('task_completed', () => (completed = true));
  expect((await client.emitWithAck('join_task', { task_id: taskId })).ok).toBe(true);

  expect((await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`)).status).toBe(200);
  await waitFor(async () => (await getTask(service.url, taskId)).processed_groups === 3 && sizeOf(beat) >= 5, 20_000);

  const cancel = await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/cancel`);
  expect(cancel.status).toBe(200);
  expect(cancel.body.data.status).toBe('cancelled');

  // The worker thread is gone: its heartbeat stops (it would beat for 30 s otherwise).
  await Bun.sleep(150);
  const sizeAfterCancel = sizeOf(beat);
  await Bun.sleep(600);
  expect(sizeOf(beat)).toBe(sizeAfterCancel);

  await waitFor(() => taskErrors.length > 0);
  expect(taskErrors).toEqual([{ task_id: taskId, error: 'cancelled' }]);
  expect(completed).toBe(false);

  const task = await getTask(service.url, taskId);
  expect(task.status).toBe('cancelled');
  expect(task.error).toBe('cancelled');
  expect(task.processed_groups).toBe(3);
  expect(await clusterSets(service.url, taskId)).toHaveLength(3);
  const groups = (await api(service.url, 'GET', `/api/dedup/tasks/${taskId}/groups`)).body.data as { subject_name: string; status: string }[];
  expect(groups.find((group) => group.subject_name === 'z-long')!.status).toBe('pending');

  // A second cancel is a conflict, and the pool keeps serving: a fresh task completes.
  expect((await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/cancel`)).status).toBe(409);
  const next = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'after cancel', filters: { subject_names: ['a-0', 'a-1'] } })).body.data.id as number;
  expect((await api(service.url, 'POST', `/api/dedup/tasks/${next}/start`)).status).toBe(200);
  await waitFor(async () => (await getTask(service.url, next)).status === 'completed');
  expect(await clusterSets(service.url, next)).toHaveLength(2);
  client.close();
}, 45_000);
