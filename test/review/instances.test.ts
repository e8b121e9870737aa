import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from '../support/database.ts';
import { collect, nextEvent, startTestService, type TestService } from '../support/service.ts';
import { REVIEW_BANK } from './bank.ts';
import { clusters, runTask } from './support.ts';

/**
 * Two instances on one PostgreSQL database, each with its own Socket.IO server joined by the
 * PostgreSQL adapter: reviewers connected to different instances see each other's decisions.
 * PostgreSQL only (SQLite has one instance); runs when TEST_DATABASE_URL is set.
 */
describe.skipIf(!testDatabaseServer())('review events across instances (PostgreSQL)', () => {
  let database: TestDatabase;
  let first: TestService;
  let second: TestService;

  beforeAll(async () => {
    database = await createTestDatabase('review_instances');
    first = await startTestService({ DATABASE_URL: database.url, TASK_POLL_MS: '200' });
    second = await startTestService({ DATABASE_URL: database.url, TASK_POLL_MS: '200' });
    const deadline = Date.now() + 20_000;
    // Both adapters hear each other before anything is broadcast.
    while ((await first.api('GET', '/api/health')).body.data.instances !== 2 || (await second.api('GET', '/api/health')).body.data.instances !== 2) {
      if (Date.now() > deadline) throw new Error('the instances do not hear each other');
      await Bun.sleep(50);
    }
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await database?.drop();
  });

  it('brings cluster_reviewed and task_resolved to a reviewer on the other instance', async () => {
    expect((await first.api('POST', '/api/questions', REVIEW_BANK)).status).toBe(201);
    const task = await runTask(first);
    const [cluster] = (await clusters(first, task.id, '&type_name=单选题')).items;
    const watcher = await second.connect();
    watcher.emit('join_task', { task_id: task.id });
    await nextEvent(watcher, 'task_status');
    const reviewed = nextEvent(watcher, 'cluster_reviewed');
    const resolved = collect(watcher, 'task_resolved');

    const response = await first.api('POST', `/api/dedup/tasks/${task.id}/clusters/${cluster!.cluster_id}/review`, { action: 'confirm' }, { 'X-Reviewer': 'first' });
    expect(response.status).toBe(200);
    expect(await reviewed).toMatchObject({ task_id: task.id, cluster_id: cluster!.cluster_id, review: { state: 'confirmed', decided_by: 'first' }, review_progress: { reviewed: 1, total: 3 } });
    // The decision is the bank's: the other instance lists it at once.
    expect((await second.api('GET', '/api/dedup/decisions')).body.data.total).toBe(1);

    expect((await first.api('POST', `/api/dedup/tasks/${task.id}/resolve`)).body.data.resolved_questions).toBe(1);
    const deadline = Date.now() + 5_000;
    while (resolved.length === 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(resolved).toEqual([{ task_id: task.id, resolved_questions: 1 }]);
  });
});
