import { afterAll, beforeAll, expect, it } from 'bun:test';
import { io } from 'socket.io-client';
import { api, duplicateBank, importQuestions, spawnService, tempDir, waitFor, type ChildService } from '../support/child-service.ts';

/**
 * connectionStateRecovery: a client whose connection drops for a moment comes back with its
 * rooms, and the room events sent meanwhile are replayed, without a re-join. (After a
 * restart of the service there is nothing to recover; clients re-join on `connect`, which
 * crash-restart.test.ts covers.)
 */
const temp = tempDir();
let service: ChildService;
beforeAll(async () => {
  service = await spawnService({ worker: 'chaos-worker.ts', dbFile: `${temp.dir}/recovery.sqlite`, env: { WORKERS: '1', FIXTURE_GROUP_MS: '60', PROGRESS_INTERVAL_MS: '0' } });
  await importQuestions(service.url, duplicateBank(30, 3));
});
afterAll(async () => {
  service?.kill('SIGKILL');
  await service?.exited;
  temp.remove();
});

for (const transport of ['websocket', 'polling'] as const) {
  it(`recovers the session of a ${transport} client after a dropped connection, replaying missed progress`, async () => {
    const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: `recover ${transport}` })).body.data.id as number;
    const client = io(service.url, { transports: [transport], reconnectionDelay: 300, reconnectionDelayMax: 300, forceNew: true });
    let joins = 0;
    client.on('connect', () => {
      // Join only once: a recovered session must still be in the room.
      if (joins++ === 0) client.emit('join_task', { task_id: taskId });
    });
    const progress: number[] = [];
    client.on('task_progress', (payload) => progress.push(payload.processed_groups));
    const completed = new Promise<any>((resolve) => client.on('task_completed', resolve));
    await waitFor(() => joins === 1 && client.connected);
    await Bun.sleep(100);

    expect((await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`)).status).toBe(200);
    await waitFor(() => progress.length >= 3, 10_000, 5);
    const reconnected = new Promise<void>((resolve) => client.io.once('reconnect', () => resolve()));
    client.io.engine.close();
    await reconnected;
    await waitFor(() => client.connected);
    expect(client.recovered).toBe(true);

    const done = await completed;
    expect(done.data.processed_groups).toBe(30);
    expect(joins).toBe(2);
    // Every step arrived, including those sent while the client was away, in order.
    expect(progress).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    client.close();
  }, 30_000);
}
