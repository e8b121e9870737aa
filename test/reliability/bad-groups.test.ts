import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
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
 * A service process with the chaos fixture worker (one per group time limit). Each faulty task has three healthy
 * groups and bad ones (the worker throws, hangs, exits or eats memory); a healthy task runs
 * beside it each time. The bad group is retried once, then fails its task with a
 * `task_error` naming the group; the healthy task, and the process, carry on.
 */
const GROUP_TIMEOUT_MS = 2500;
/**
 * The memory fault's own service, with a group time limit the hoard cannot reach: page faults
 * run at ~100 MB/s on a loaded 2-core VM, so 700 MB can take longer than GROUP_TIMEOUT_MS,
 * and the time limit, not the memory guard, would end the group.
 */
const MEMORY_FAULT_TIMEOUT_MS = 40_000;
const temp = tempDir();
const services = new Map<string, ChildService>();

const group = (subject: string, contents: string[]): SeedQuestion[] =>
  contents.map((content, index) => ({ type_name: '单选题', subject_name: subject, content, external_id: `${subject}-${index}` }));
const healthy = (subject: string) => group(subject, ['what is 1+1', 'What  is 1+1', 'what is 2+2']);

const FAULTS = {
  throw: { marker: '@throw', reason: /chaos worker threw on purpose/, badGroups: 1, timeoutMs: GROUP_TIMEOUT_MS },
  // Two hanging groups hold both threads: the healthy task's groups must wait for a thread
  // without their own time limit running out.
  hang: { marker: '@hang', reason: new RegExp(`timed out after ${GROUP_TIMEOUT_MS} ms`), badGroups: 2, timeoutMs: GROUP_TIMEOUT_MS },
  exit: { marker: '@exit', reason: /exited with code: 7/, badGroups: 1, timeoutMs: GROUP_TIMEOUT_MS },
  oom: { marker: '@oom', reason: /out of memory/, badGroups: 1, timeoutMs: MEMORY_FAULT_TIMEOUT_MS },
} as const;

async function startService(groupTimeoutMs: number): Promise<ChildService> {
  const service = await spawnService({
    worker: 'chaos-worker.ts',
    dbFile: `${temp.dir}/bad-groups-${groupTimeoutMs}.sqlite`,
    env: { WORKERS: '2', GROUP_TIMEOUT_MS: String(groupTimeoutMs), MEMORY_LIMIT_MB: '700', FIXTURE_GROUP_MS: '20' },
  });
  const questions: SeedQuestion[] = [];
  for (const [name, fault] of Object.entries(FAULTS)) {
    for (let i = 0; i < 3; i++) questions.push(...healthy(`${name}-ok-${i}`));
    for (let i = 0; i < fault.badGroups; i++) questions.push(...group(`${name}-bad-${i}`, [`a question ${fault.marker}`, 'another one']));
  }
  for (let i = 0; i < 12; i++) questions.push(...healthy(`bystander-${String(i).padStart(2, '0')}`));
  await importQuestions(service.url, questions);
  return service;
}

beforeAll(async () => {
  for (const timeoutMs of new Set(Object.values(FAULTS).map((fault) => fault.timeoutMs))) services.set(String(timeoutMs), await startService(timeoutMs));
});

afterAll(async () => {
  for (const service of services.values()) {
    service.kill('SIGKILL');
    await service.exited;
  }
  temp.remove();
});

async function createTask(service: ChildService, name: string, subjects: string[]) {
  const answer = await api(service.url, 'POST', '/api/dedup/tasks', { task_name: name, filters: { subject_names: subjects } });
  expect(answer.status).toBe(201);
  return answer.body.data.id as number;
}

const bystanderSubjects = Array.from({ length: 12 }, (_, i) => `bystander-${String(i).padStart(2, '0')}`);

describe('a bad group', () => {
  for (const [name, fault] of Object.entries(FAULTS)) {
    it(`is retried once, then fails its task naming the group, when the worker ${name === 'oom' ? 'runs out of memory' : name + 's'}`, async () => {
      const service = services.get(String(fault.timeoutMs))!;
      const pid = service.proc.pid;
      const badSubjects = Array.from({ length: fault.badGroups }, (_, i) => `${name}-bad-${i}`);
      const faulty = await createTask(service, `faulty ${name}`, [...[0, 1, 2].map((i) => `${name}-ok-${i}`), ...badSubjects]);
      const bystander = await createTask(service, `bystander beside ${name}`, bystanderSubjects);

      const client = await connectClient(service.url);
      const errors: { task_id: number; error: string }[] = [];
      client.on('task_error', (payload) => errors.push(payload));
      for (const id of [faulty, bystander]) expect((await client.emitWithAck('join_task', { task_id: id })).ok).toBe(true);
      const completed = new Promise((resolve) => client.on('task_completed', (payload) => payload.task_id === bystander && resolve(payload)));

      expect((await api(service.url, 'POST', `/api/dedup/tasks/${faulty}/start`)).status).toBe(200);
      expect((await api(service.url, 'POST', `/api/dedup/tasks/${bystander}/start`)).status).toBe(200);

      const failed = await waitFor(async () => {
        const task = await getTask(service.url, faulty);
        return task.status === 'failed' ? task : undefined;
      }, 40_000);
      const badGroupName = new RegExp(`group 单选题 / ${name}-bad-\\d / default failed: `);
      expect(failed.error).toMatch(badGroupName);
      expect(failed.error).toMatch(fault.reason);
      await waitFor(() => errors.some((event) => event.task_id === faulty));
      expect(errors.find((event) => event.task_id === faulty)!.error).toBe(failed.error);

      const groups = (await api(service.url, 'GET', `/api/dedup/tasks/${faulty}/groups`)).body.data as { subject_name: string; status: string; attempts: number }[];
      const failedGroup = groups.find((row) => row.status === 'failed')!;
      expect(failedGroup.subject_name).toStartWith(`${name}-bad-`);
      expect(failedGroup.attempts).toBe(2);

      // The task beside it completes with every cluster, and the process is the same one.
      await completed;
      const done = await getTask(service.url, bystander);
      expect(done.status).toBe('completed');
      expect(done.processed_groups).toBe(12);
      expect(await clusterSets(service.url, bystander)).toHaveLength(12);
      const bystanderGroups = (await api(service.url, 'GET', `/api/dedup/tasks/${bystander}/groups`)).body.data as { attempts: number }[];
      expect(bystanderGroups.every((row) => row.attempts === 1)).toBe(true);
      expect(errors.some((event) => event.task_id === bystander)).toBe(false);

      expect((await api(service.url, 'GET', '/api/health')).status).toBe(200);
      expect(service.proc.pid).toBe(pid);
      expect(service.proc.exitCode).toBeNull();
      client.close();
    }, 60_000);
  }
});
