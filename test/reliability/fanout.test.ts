import { afterAll, beforeAll, expect, it } from 'bun:test';
import { io, type Socket } from 'socket.io-client';
import { api, duplicateBank, importQuestions, spawnService, tempDir, waitFor, type ChildService } from '../support/child-service.ts';

/**
 * The load bench's promises at a CI-friendly size (test/bench/load.ts runs 1,000 clients):
 * 150 clients in one room, a fifth of them polling-only, all see every emitted step in
 * order, the final task_progress and task_completed.
 */
const temp = tempDir();
let service: ChildService;
beforeAll(async () => {
  service = await spawnService({ worker: 'chaos-worker.ts', dbFile: `${temp.dir}/fanout.sqlite`, env: { WORKERS: '1', FIXTURE_GROUP_MS: '5' } });
  await importQuestions(service.url, duplicateBank(100, 3));
});
afterAll(async () => {
  service?.kill('SIGKILL');
  await service?.exited;
  temp.remove();
});

it('brings every step, the final task_progress and task_completed to 150 clients (30 polling-only), never going down', async () => {
  const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'fan-out' })).body.data.id as number;
  const clients = await Promise.all(
    Array.from({ length: 150 }, (_, index) => {
      const socket: Socket = io(service.url, { transports: index < 30 ? ['polling'] : ['websocket'], forceNew: true });
      const seen: number[] = [];
      let completed = false;
      socket.on('connect', () => socket.emit('join_task', { task_id: taskId }));
      socket.on('task_progress', (payload) => seen.push(payload.processed_groups));
      socket.on('task_completed', () => (completed = true));
      return new Promise<{ socket: Socket; seen: number[]; done: () => boolean }>((resolve) => socket.once('task_status', () => resolve({ socket, seen, done: () => completed })));
    }),
  );
  expect((await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`)).status).toBe(200);
  await waitFor(() => clients.every((client) => client.done()), 30_000, 20);

  const reference = clients[0]!.seen;
  expect(reference.at(-1)).toBe(100);
  expect(reference.length).toBeGreaterThan(2);
  for (const client of clients) {
    expect(client.seen).toEqual(reference);
    for (let i = 1; i < client.seen.length; i++) expect(client.seen[i]!).toBeGreaterThan(client.seen[i - 1]!);
    client.socket.close();
  }
}, 45_000);
