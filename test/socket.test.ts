import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { collect, importQuestions, nextEvent, startTestService, type TestClient, type TestService } from './support/service.ts';

const SLOW_WORKER = new URL('./fixtures/slow-worker.ts', import.meta.url);
const FAILING_WORKER = new URL('./fixtures/failing-worker.ts', import.meta.url);

/** `groups` single-question groups: with the slow worker each takes 150 ms, two at a time. */
const bankOf = (groups: number, channel = 'ch') =>
  Array.from({ length: groups }, (_, i) => ({ type_name: '单选题', subject_name: '数学', channel_code: `${channel}${i}`, content: `题目 ${channel} ${i}` }));

async function createTask(service: TestService, filters: Record<string, string[]> = {}) {
  const response = await service.api('POST', '/api/dedup/tasks', { task_name: 'socket test', filters });
  expect(response.status).toBe(201);
  return response.body.data.id as number;
}

/** Joins and waits for the answer through both channels the contract offers: the event and the ack. */
async function join(client: TestClient, taskId: number | string) {
  const status = nextEvent(client, 'task_status');
  const ack = await client.timeout(5000).emitWithAck('join_task', { task_id: taskId });
  return { ack, status: await status };
}

function expectMonotonicProgress(progress: { processed_groups: number; total_groups: number }[], total: number) {
  expect(progress.length).toBeGreaterThan(0);
  for (let i = 1; i < progress.length; i++) expect(progress[i]!.processed_groups).toBeGreaterThanOrEqual(progress[i - 1]!.processed_groups);
  expect(progress.at(-1)).toMatchObject({ processed_groups: total, total_groups: total, progress_percentage: 100 });
}

for (const transport of ['websocket', 'polling'] as const) {
  describe(`Socket.IO over ${transport}`, () => {
    let service: TestService;
    const connect = () => service.connect({ transports: [transport] });
    beforeAll(async () => {
      service = await startTestService({ PROGRESS_INTERVAL_MS: '0' }, { workerFile: SLOW_WORKER });
      await importQuestions(service, bankOf(6, 'a'));
    });
    afterAll(() => service.stop());

    it('greets a new connection with connected', async () => {
      const client = await connect();
      expect(client.io.engine.transport.name).toBe(transport);
      // Reconnect with the listener in place, so the greeting cannot slip past it.
      const greeting = nextEvent(client, 'connected');
      client.disconnect().connect();
      expect((await greeting).message.length).toBeGreaterThan(0);
    });

    it('runs the seed flow: join, start, progress to 100%, completed', async () => {
      const client = await connect();
      const taskId = await createTask(service, { channel_codes: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'] });
      const { ack, status } = await join(client, taskId);
      expect(ack).toMatchObject({ ok: true, data: { id: taskId, status: 'pending' } });
      expect(status).toMatchObject({ task_id: taskId, status: 'pending', data: { id: taskId } });

      const progress = collect(client, 'task_progress');
      const completed = nextEvent(client, 'task_completed');
      expect((await service.api('POST', `/api/dedup/tasks/${taskId}/start`)).status).toBe(200);
      const done = await completed;
      expect(done).toMatchObject({ task_id: taskId, data: { id: taskId, status: 'completed', processed_groups: 6, total_groups: 6, progress_percentage: 100 } });
      expectMonotonicProgress(progress, 6);
      const first = progress[0]!;
      expect(first).toMatchObject({ task_id: taskId, status: 'running', total_groups: 6, total_questions: 6 });
      expect(first.current_group).toMatchObject({ type_name: '单选题', subject_name: '数学' });
      expect(first.message).toBe('已完成分组: 单选题 - 数学');
      expect(typeof first.duplicate_count).toBe('number');
      expect(progress.at(-1)!.eta_seconds).toBe(0);
    });

    it('accepts a numeric string task_id', async () => {
      const client = await connect();
      const taskId = await createTask(service);
      const { ack, status } = await join(client, String(taskId));
      expect(ack.ok).toBe(true);
      expect(status.task_id).toBe(taskId);
    });

    it('answers every malformed join_task with error and an ok:false ack, and joins nothing', async () => {
      const client = await connect();
      const errors = collect(client, 'error');
      const statuses = collect(client, 'task_status');
      const payloads: unknown[] = [null, 'task 1', 42, [1], [], {}, { task_id: null }, { task_id: 'abc' }, { task_id: -1 }, { task_id: 0 }, { task_id: 1.5 }, { task_id: '1e3' }, { task_id: 999_999 }, { task_id: { nested: 1 } }];
      for (const payload of payloads) {
        const ack = await client.timeout(5000).emitWithAck('join_task', payload as { task_id: number });
        expect(ack.ok).toBe(false);
        if (!ack.ok) expect(ack.message).toMatch(/task/);
      }
      // No payload at all, without an ack: the error event alone answers.
      const missing = nextEvent(client, 'error');
      (client.emit as (event: string) => void)('join_task');
      expect((await missing).message).toContain('join_task');
      expect(errors.length).toBe(payloads.length + 1);
      for (const error of errors) expect(typeof error.message).toBe('string');
      expect(statuses).toHaveLength(0);

      // The unknown task was not joined: its room's events never reach this client.
      const progress = collect(client, 'task_progress');
      const taskId = await createTask(service, { channel_codes: ['a0'] });
      const watcher = await connect();
      await join(watcher, taskId);
      const watcherDone = nextEvent(watcher, 'task_completed');
      await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
      await watcherDone;
      expect(progress).toHaveLength(0);
    });

    it('answers malformed leave_task and unknown events with error', async () => {
      const client = await connect();
      const badLeave = nextEvent(client, 'error');
      (client.emit as (event: string, payload: unknown) => void)('leave_task', 'nope');
      expect((await badLeave).message).toContain('leave_task');
      const unknown = nextEvent(client, 'error');
      (client.emit as (event: string, payload: unknown) => void)('explode', { task_id: 1 });
      expect((await unknown).message).toContain('unknown event');
    });

    it('sends the same progress to two clients in one room, and nothing more after leave_task', async () => {
      const [first, second, leaver] = [await connect(), await connect(), await connect()];
      const taskId = await createTask(service, { channel_codes: ['a0', 'a1', 'a2', 'a3'] });
      for (const client of [first, second, leaver]) await join(client, taskId);
      const left = nextEvent(leaver, 'left');
      const leaveAck = await leaver.timeout(5000).emitWithAck('leave_task', { task_id: taskId });
      expect(leaveAck.ok).toBe(true);
      expect(await left).toMatchObject({ task_id: taskId });
      expect(typeof (await left).message).toBe('string');

      const seen = [first, second, leaver].map((client) => collect(client, 'task_progress'));
      const done = [first, second].map((client) => nextEvent(client, 'task_completed'));
      await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
      await Promise.all(done);
      expectMonotonicProgress(seen[0]!, 4);
      expect(seen[1]).toEqual(seen[0]!);
      expect(seen[2]).toHaveLength(0);
    });

    it('sends a late joiner the current state at once', async () => {
      const taskId = await createTask(service, { channel_codes: ['a0', 'a1'] });
      const watcher = await connect();
      await join(watcher, taskId);
      const done = nextEvent(watcher, 'task_completed');
      await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
      await done;
      const late = await connect();
      const { status } = await join(late, taskId);
      expect(status).toMatchObject({ task_id: taskId, status: 'completed', data: { processed_groups: 2, progress_percentage: 100 } });
    });

    it('tells the room about a cancel with task_error "cancelled"', async () => {
      const client = await connect();
      const taskId = await createTask(service);
      await join(client, taskId);
      const error = nextEvent(client, 'task_error');
      await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
      await nextEvent(client, 'task_progress');
      expect((await service.api('POST', `/api/dedup/tasks/${taskId}/cancel`)).status).toBe(200);
      expect(await error).toEqual({ task_id: taskId, error: 'cancelled' });
    });
  });
}

describe('progress coalescing', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ PROGRESS_INTERVAL_MS: '1000' }, { workerFile: SLOW_WORKER });
    await importQuestions(service, bankOf(10));
  });
  afterAll(() => service.stop());

  it('sends fewer events than groups but never drops the final state', async () => {
    const client = await service.connect();
    const taskId = await createTask(service);
    await join(client, taskId);
    const progress = collect(client, 'task_progress');
    const done = nextEvent(client, 'task_completed');
    await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
    await done;
    // Ten groups at two per 150 ms take about 750 ms: a 1 s interval leaves room for two events.
    expect(progress.length).toBeLessThan(10);
    expectMonotonicProgress(progress, 10);
  });
});

describe('a failing group', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ PROGRESS_INTERVAL_MS: '0' }, { workerFile: FAILING_WORKER });
    await importQuestions(service, [...bankOf(3, 'ok'), { type_name: '填空题', subject_name: '化学', channel_code: 'bad', content: 'poison pill' }]);
  });
  afterAll(() => service.stop());

  it('fails the task with task_error naming the group, and the service keeps serving', async () => {
    const client = await service.connect();
    const taskId = await createTask(service);
    await join(client, taskId);
    const error = nextEvent(client, 'task_error');
    await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
    const { task_id, error: message } = await error;
    expect(task_id).toBe(taskId);
    expect(message).toContain('填空题 / 化学 / bad');
    expect(message).toContain('worker blew up');
    const task = (await service.api('GET', `/api/dedup/tasks/${taskId}`)).body.data;
    expect(task).toMatchObject({ status: 'failed' });
    expect(task.error).toContain('填空题 / 化学 / bad');
    const groups = (await service.api('GET', `/api/dedup/tasks/${taskId}/groups`)).body.data;
    expect(groups.find((group: { channel_code: string }) => group.channel_code === 'bad')).toMatchObject({ status: 'failed', attempts: 2 });

    const healthy = await createTask(service, { channel_codes: ['ok0', 'ok1'] });
    await join(client, healthy);
    const completed = nextEvent(client, 'task_completed');
    await service.api('POST', `/api/dedup/tasks/${healthy}/start`);
    expect((await completed).data.status).toBe('completed');
  });
});

describe('socket access control', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ AUTH_TOKENS: 'alpha,beta' }, { workerFile: SLOW_WORKER });
  });
  afterAll(() => service.stop());

  it('refuses a connection without a valid token and accepts one with it', async () => {
    await expect(service.connect()).rejects.toThrow(/unauthorized/);
    await expect(service.connect({ auth: { token: 'gamma' } })).rejects.toThrow(/unauthorized/);
    await expect(service.connect({ auth: { token: 'beta' }, transports: ['polling'] })).resolves.toBeDefined();
  });

  it('requires a bearer token on REST but keeps health open', async () => {
    expect((await service.api('GET', '/api/dedup/tasks')).status).toBe(401);
    expect((await service.api('GET', '/api/dedup/tasks', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await service.api('GET', '/api/dedup/tasks', undefined, { authorization: 'Bearer alpha' })).status).toBe(200);
    expect((await service.api('GET', '/api/health')).status).toBe(200);
  });
});
