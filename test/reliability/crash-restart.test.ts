import { afterAll, expect, it } from 'bun:test';
import {
  api,
  clusterSets,
  duplicateBank,
  freePort,
  getTask,
  importQuestions,
  readDb,
  spawnService,
  tempDir,
  waitFor,
  type ChildService,
  type SeedQuestion,
  type SpawnOptions,
} from '../support/child-service.ts';
import { Database } from 'bun:sqlite';
import { io } from 'socket.io-client';
import { sampleQuestions } from '../support/service.ts';

/**
 * `kill -9` mid-task, then a fresh process on the same database and port: the task resumes
 * by itself, keeps the groups it had finished, re-runs the interrupted ones, and ends with
 * the clusters an uninterrupted run finds. A client that re-joins on every `connect` sees
 * the current state at once and then the rest of the run.
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


interface GroupSnapshot {
  id: number;
  status: string;
  attempts: number;
  finished_at: string | null;
  elapsed_ms: number | null;
  clusters: string;
}

function runningGroups(dbFile: string, taskId: number): number {
  return readDb(dbFile, (db) => (db.query(`SELECT count(*) AS n FROM dedup_task_groups WHERE task_id = ? AND status = 'running'`).get(taskId) as { n: number }).n);
}

function groupSnapshot(dbFile: string, taskId: number): GroupSnapshot[] {
  return readDb(dbFile, (db) =>
    db
      .query(
        `SELECT g.id, g.status, g.attempts, g.finished_at, g.elapsed_ms,
                COALESCE((SELECT group_concat(c.id || '=' || c.canonical_question_id, ';') FROM dedup_clusters c WHERE c.group_id = g.id), '') AS clusters
         FROM dedup_task_groups g WHERE g.task_id = ? ORDER BY g.id`,
      )
      .all(taskId) as GroupSnapshot[],
  );
}

interface Scenario {
  name: string;
  options: Omit<SpawnOptions, 'port'>;
  questions: SeedQuestion[];
  groups: number;
  /** Kill once a client has seen this many groups processed. */
  killAt: number;
  /** Clusters the bank holds, when known up front. */
  clusters?: number;
}

async function crashAndResume({ options: base, questions, groups: GROUPS, killAt, clusters }: Scenario) {
  const port = await freePort();
  const options: SpawnOptions = { ...base, port };
  let service = await spawnService(options);
  children.push(service);
  await importQuestions(service.url, questions);
  const created = await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'crash me' });
  const taskId = created.body.data.id as number;

  // A client written like the seed's examples: reconnects by itself and re-joins on every connect.
  const client = io(service.url, { transports: ['websocket', 'polling'], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300, forceNew: true });
  const seen: { event: string; processed: number; status?: string }[] = [];
  let connects = 0;
  client.on('connect', () => {
    connects++;
    client.emit('join_task', { task_id: taskId });
  });
  client.on('task_status', (payload) => seen.push({ event: 'task_status', processed: payload.data.processed_groups, status: payload.status }));
  client.on('task_progress', (payload) => seen.push({ event: 'task_progress', processed: payload.processed_groups }));
  const completed = new Promise<any>((resolve) => client.on('task_completed', resolve));
  await waitFor(() => seen.some((entry) => entry.event === 'task_status'));

  expect((await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`)).status).toBe(200);
  await waitFor(() => seen.some((entry) => entry.event === 'task_progress' && entry.processed >= killAt), 20_000, 1);
  // Kill while a group is running: small groups of the real worker finish in a few ms, and a kill
  // between one group's save and the next claim would leave nothing interrupted to check.
  await waitFor(() => runningGroups(options.dbFile!, taskId) > 0, 20_000, 0);
  service.kill('SIGKILL');
  expect(await service.exited).not.toBe(0);

  const atCrash = groupSnapshot(options.dbFile!, taskId);
  const finished = atCrash.filter((group) => group.status === 'done');
  const interrupted = atCrash.filter((group) => group.status === 'running');
  expect(finished.length).toBeGreaterThanOrEqual(killAt);
  expect(finished.length).toBeLessThan(GROUPS);
  expect(interrupted.length).toBeGreaterThan(0);
  const processedAtCrash = Math.max(...seen.map((entry) => entry.processed));
  const seenBeforeRestart = seen.length;

  service = await spawnService(options);
  children.push(service);
  const done = await completed;
  expect(done.data.status).toBe('completed');
  expect(done.data.processed_groups).toBe(GROUPS);
  expect(connects).toBe(2);

  // The re-joined client got the current state at once, never less than it had seen.
  const rejoined = seen.slice(seenBeforeRestart).find((entry) => entry.event === 'task_status')!;
  expect(rejoined.status).toBe('running');
  expect(rejoined.processed).toBeGreaterThanOrEqual(processedAtCrash);
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.processed).toBeGreaterThanOrEqual(seen[i - 1]!.processed);
  expect(seen.at(-1)!.processed).toBe(GROUPS);

  // Finished groups were kept as they were; interrupted ones ran again.
  const after = groupSnapshot(options.dbFile!, taskId);
  const byId = new Map(after.map((group) => [group.id, group]));
  for (const group of finished) expect(byId.get(group.id)).toEqual(group);
  for (const group of interrupted) {
    expect(byId.get(group.id)!.status).toBe('done');
    expect(byId.get(group.id)!.attempts).toBe(2);
  }
  expect(after.every((group) => group.status === 'done')).toBe(true);

  // The same clusters as an uninterrupted run of the same task on the same bank.
  const resumed = await clusterSets(service.url, taskId);
  const again = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'uninterrupted' })).body.data.id as number;
  expect((await api(service.url, 'POST', `/api/dedup/tasks/${again}/start`)).status).toBe(200);
  await waitFor(async () => (await getTask(service.url, again)).status === 'completed', 20_000);
  const uninterrupted = await clusterSets(service.url, again);
  expect(resumed.length).toBeGreaterThan(0);
  if (clusters !== undefined) expect(resumed).toHaveLength(clusters);
  expect(resumed).toEqual(uninterrupted);
  const task = await getTask(service.url, taskId);
  expect(task.cluster_count).toBe(resumed.length);
  expect(task.duplicate_count).toBe((await getTask(service.url, again)).duplicate_count);
  client.close();
}

it('resumes a task after kill -9: finished groups kept, interrupted ones re-run, clusters as in an uninterrupted run', async () => {
  await crashAndResume({
    name: 'fixture',
    options: { worker: 'chaos-worker.ts', dbFile: `${temp.dir}/crash.sqlite`, env: { WORKERS: '2', FIXTURE_GROUP_MS: '60' } },
    questions: duplicateBank(60, 7),
    groups: 60,
    killAt: 15,
    clusters: 60,
  });
}, 60_000);

it('does the same with the real dedup worker on the GAOKAO bank (src/main.ts as is)', async () => {
  const questions = sampleQuestions() as unknown as SeedQuestion[];
  const groups = new Set(questions.map((q) => `${q.type_name}|${q.subject_name}|${q.channel_code ?? 'default'}`)).size;
  await crashAndResume({
    name: 'real',
    options: { dbFile: `${temp.dir}/crash-real.sqlite`, env: { WORKERS: '2' } },
    questions,
    groups,
    killAt: Math.ceil(groups / 5),
  });
}, 60_000);

it('fails, rather than leaves running forever, a task whose process died between failing a group and failing the task', async () => {
  const options: SpawnOptions = { worker: 'chaos-worker.ts', dbFile: `${temp.dir}/crash-failed.sqlite`, env: { WORKERS: '1' } };
  let service = await spawnService(options);
  children.push(service);
  await importQuestions(service.url, [
    { type_name: '单选题', subject_name: 'fine', content: 'one' },
    { type_name: '单选题', subject_name: 'poison', content: 'two @throw' },
  ]);
  const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'dies between writes' })).body.data.id as number;
  await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`);
  const failed = await waitFor(async () => {
    const task = await getTask(service.url, taskId);
    return task.status === 'failed' ? task : undefined;
  });
  service.kill('SIGKILL');
  await service.exited;
  // The state a kill -9 leaves when it lands after the group was marked failed but before the task was.
  const db = new Database(options.dbFile!);
  db.run("UPDATE dedup_tasks SET status = 'running', error = NULL, finished_at = NULL WHERE id = ?", [taskId]);
  db.close();

  service = await spawnService(options);
  children.push(service);
  const settled = await waitFor(async () => {
    const task = await getTask(service.url, taskId);
    return task.status !== 'running' ? task : undefined;
  }, 10_000);
  expect(settled.status).toBe('failed');
  expect(settled.error).toBe(failed.error);
}, 30_000);
