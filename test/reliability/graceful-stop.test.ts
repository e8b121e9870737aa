import { afterAll, describe, expect, it } from 'bun:test';
import {
  api,
  connectClient,
  duplicateBank,
  freePort,
  getTask,
  importQuestions,
  readDb,
  spawnService,
  tempDir,
  waitFor,
  type ChildService,
  type SpawnOptions,
} from '../support/child-service.ts';

/**
 * SIGTERM: no new work, in-flight groups finish within SHUTDOWN_GRACE_MS and are saved,
 * sockets close, the process exits 0, and the next start resumes the task.
 */
const temp = tempDir();
const children: ChildService[] = [];
afterAll(async () => {
  for (const child of children) {
    child.kill('SIGKILL');
    await child.exited;
  }
  temp.remove();
});

const groupRows = (dbFile: string, taskId: number) =>
  readDb(dbFile, (db) => db.query('SELECT id, status, attempts FROM dedup_task_groups WHERE task_id = ? ORDER BY id').all(taskId) as { id: number; status: string; attempts: number }[]);

describe('SIGTERM', () => {
  it('lets in-flight groups finish and persist, closes sockets, exits 0, and the task resumes on the next start', async () => {
    const port = await freePort();
    const options: SpawnOptions = {
      worker: 'chaos-worker.ts',
      port,
      dbFile: `${temp.dir}/graceful.sqlite`,
      env: { WORKERS: '2', FIXTURE_GROUP_MS: '400', SHUTDOWN_GRACE_MS: '5000' },
    };
    let service = await spawnService(options);
    children.push(service);
    await importQuestions(service.url, duplicateBank(16, 4));
    const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'stop me' })).body.data.id as number;
    const other = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'not yet' })).body.data.id as number;

    const client = await connectClient(service.url, { transports: ['websocket'] });
    expect((await client.emitWithAck('join_task', { task_id: taskId })).ok).toBe(true);
    const disconnected = new Promise<{ reason: string; at: number }>((resolve) => client.on('disconnect', (reason) => resolve({ reason, at: Date.now() })));
    expect((await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`)).status).toBe(200);
    await waitFor(async () => (await getTask(service.url, taskId)).processed_groups >= 2, 20_000, 10);

    const inFlight = groupRows(options.dbFile!, taskId).filter((row) => row.status === 'running');
    expect(inFlight.length).toBeGreaterThan(0);
    const processedAtSignal = (await getTask(service.url, taskId)).processed_groups as number;
    const signalledAt = Date.now();
    service.kill('SIGTERM');
    // New work is refused while the service drains (or the port is already closed).
    await service.waitForLog((line) => line.msg === 'service stopping');
    const late = await api(service.url, 'POST', `/api/dedup/tasks/${other}/start`).catch(() => undefined);
    if (late) expect(late.status).toBe(503);

    expect(await service.exited).toBe(0);
    const stoppedAfter = Date.now() - signalledAt;
    expect(stoppedAfter).toBeLessThan(5000 + 3000);
    expect(service.logs.some((line) => line.msg === 'service stopped')).toBe(true);
    const { reason, at } = await disconnected;
    expect(reason).toBe('transport close');
    expect(at - signalledAt).toBeLessThan(stoppedAfter + 500);

    // Groups that were computing at SIGTERM finished and were saved (those only claimed went
    // back to the queue); nothing is left running.
    const rows = groupRows(options.dbFile!, taskId);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const inFlightDone = inFlight.filter((row) => byId.get(row.id)!.status === 'done');
    expect(inFlightDone.length).toBeGreaterThanOrEqual(1);
    for (const row of inFlight) expect(['done', 'pending']).toContain(byId.get(row.id)!.status);
    expect(rows.some((row) => row.status === 'running')).toBe(false);
    const stored = readDb(options.dbFile!, (db) => db.query('SELECT status, processed_groups FROM dedup_tasks WHERE id = ?').get(taskId) as { status: string; processed_groups: number });
    expect(stored.status).toBe('running');
    expect(stored.processed_groups).toBe(rows.filter((row) => row.status === 'done').length);
    expect(stored.processed_groups).toBeGreaterThan(processedAtSignal);
    expect(stored.processed_groups).toBeLessThan(16);
    expect(readDb(options.dbFile!, (db) => db.query('SELECT status FROM dedup_tasks WHERE id = ?').get(other) as { status: string }).status).toBe('pending');

    // The next start picks the task up by itself; the stop spent no group's attempts.
    service = await spawnService(options);
    children.push(service);
    const finished = await waitFor(async () => {
      const task = await getTask(service.url, taskId);
      return task.status === 'completed' ? task : undefined;
    }, 30_000);
    expect(finished.processed_groups).toBe(16);
    expect(finished.cluster_count).toBe(16);
    expect(groupRows(options.dbFile!, taskId).every((row) => row.status === 'done' && row.attempts === 1)).toBe(true);
    client.close();
  }, 60_000);

  it('is bounded by SHUTDOWN_GRACE_MS when a group would run on, and puts that group back without spending an attempt', async () => {
    const options: SpawnOptions = {
      worker: 'chaos-worker.ts',
      dbFile: `${temp.dir}/bounded.sqlite`,
      env: { WORKERS: '1', SHUTDOWN_GRACE_MS: '500', GROUP_TIMEOUT_MS: '60000' },
    };
    const service = await spawnService(options);
    children.push(service);
    await importQuestions(service.url, [{ type_name: '单选题', subject_name: 'endless', content: 'never ends @hang' }]);
    const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'endless' })).body.data.id as number;
    expect((await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`)).status).toBe(200);
    await waitFor(() => groupRows(options.dbFile!, taskId).some((row) => row.status === 'running'));
    await Bun.sleep(200);

    const signalledAt = Date.now();
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    const took = Date.now() - signalledAt;
    expect(took).toBeGreaterThanOrEqual(500);
    expect(took).toBeLessThan(3000);
    expect(groupRows(options.dbFile!, taskId)).toEqual([expect.objectContaining({ status: 'pending', attempts: 0 })]);
  }, 30_000);
});
