import { Database } from 'bun:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus, scaleCorpus } from './bench/corpus.ts';
import { testDatabaseServer } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

const SIZE = 1500;
const texts = scaleCorpus(loadCorpus().base, SIZE + 40).map((q) => q.content);
const question = (external_id: string, content: string) => ({ external_id, type_name: '解答题', subject_name: '数学', channel_code: 'c1', content });

async function waitForEnd(service: TestService, id: number) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const task = (await service.api('GET', `/api/dedup/tasks/${id}`)).body.data;
    if (task.status !== 'running') return task;
    if (Date.now() > deadline) throw new Error(`task ${id} still running`);
    await Bun.sleep(25);
  }
}

async function run(service: TestService, id: number) {
  expect((await service.api('POST', `/api/dedup/tasks/${id}/start`)).status).toBe(200);
  expect((await waitForEnd(service, id)).status).toBe('completed');
}

/** Every cluster of a task, as canonical id → members (id, distance, similarity), without the storage's cluster ids. */
async function clustersOf(service: TestService, id: number) {
  return Object.fromEntries(Object.entries(await storedClustersOf(service, id)).map(([canonical, { members }]) => [canonical, members]));
}

/** Every cluster of a task, as canonical id → its cluster id and members. */
async function storedClustersOf(service: TestService, id: number) {
  const out: Record<number, { cluster_id: number; members: unknown }> = {};
  for (let page = 1; ; page++) {
    const { items } = (await service.api('GET', `/api/dedup/tasks/${id}/clusters?page=${page}&page_size=500`)).body.data;
    for (const c of items) out[c.canonical_question_id] = { cluster_id: c.cluster_id, members: c.members };
    if (items.length < 500) return out;
  }
}

describe('re-running a task after the bank changed', () => {
  let dir: string;
  let service: TestService;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dedup-rerun-'));
    // On PostgreSQL (TEST_DATABASE_URL) the suite's own database; else a file this test can look into.
    service = await startTestService(testDatabaseServer() ? {} : { DATABASE_URL: `sqlite:${join(dir, 'bank.sqlite')}` });
  });
  afterAll(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds exactly the clusters a new task finds on the same bank', async () => {
    const bank = texts.slice(0, SIZE).map((content, i) => question(`q${i}`, content));
    expect((await service.api('POST', '/api/questions', bank)).body.data.inserted).toBe(SIZE);
    const task = (await service.api('POST', '/api/dedup/tasks', { task_name: '重跑' })).body.data;
    await run(service, task.id);
    const stored = await storedClustersOf(service, task.id);
    const before = await clustersOf(service, task.id);
    expect(Object.keys(before).length).toBeGreaterThan(20);

    // About 1 % new questions (some copies of old ones), a few edited, a few deleted (cluster members among them).
    const added = texts.slice(SIZE, SIZE + 15).map((content, i) => question(`new${i}`, content));
    added.push(question('copy', `${texts[7]}。`));
    const edited = [question('q3', texts[SIZE + 30]!), question('q10', `${texts[11]}`), question('q500', `${texts[500]}，`)];
    expect((await service.api('POST', '/api/questions', [...added, ...edited])).body.data).toMatchObject({ inserted: added.length, updated: edited.length });
    const canonical = Object.keys(before).map(Number);
    const firstMember = (before[canonical[2]!] as { question_id: number }[])[1]!.question_id;
    for (const id of [canonical[0]!, firstMember, 40]) expect((await service.api('DELETE', `/api/questions/${id}`)).status).toBe(200);

    await run(service, task.id);
    const again = await clustersOf(service, task.id);
    const fresh = (await service.api('POST', '/api/dedup/tasks', { task_name: '新任务' })).body.data;
    await run(service, fresh.id);
    expect(again).toEqual(await clustersOf(service, fresh.id));
    expect(again).not.toEqual(before);

    // Clusters the change did not touch were kept as stored, under their ids; the others were replaced.
    // (A cluster the change reached may come out with the same members again, under a new id.)
    const storedAgain = await storedClustersOf(service, task.id);
    const lastStoredId = Math.max(...Object.values(stored).map((c) => c.cluster_id));
    let kept = 0;
    for (const [canonical, cluster] of Object.entries(storedAgain)) {
      const earlier = stored[Number(canonical)];
      const same = earlier !== undefined && JSON.stringify(earlier.members) === JSON.stringify(cluster.members);
      if (cluster.cluster_id <= lastStoredId) {
        kept++;
        expect(same && cluster.cluster_id === earlier.cluster_id).toBe(true);
      }
    }
    expect(kept).toBeGreaterThan(Object.keys(storedAgain).length * 0.8);
    expect(kept).toBeLessThan(Object.keys(storedAgain).length);

    // The re-run had the first run's decisions to go on: each task keeps one snapshot per group.
    if (testDatabaseServer()) return;
    const db = new Database(join(dir, 'bank.sqlite'), { readonly: true });
    const snapshots = db.query('SELECT task_id, length(decisions) AS bytes FROM dedup_group_decisions ORDER BY task_id').all() as { task_id: number; bytes: number }[];
    // Nothing of the first run is left behind the current one's clusters.
    const rows = db.query('SELECT count(*) AS clusters FROM dedup_clusters WHERE task_id = ?').get(task.id) as { clusters: number };
    db.close();
    expect(snapshots.map((row) => row.task_id)).toEqual([task.id, fresh.id]);
    expect(snapshots[0]!.bytes).toBeGreaterThan(SIZE * 12);
    expect(rows.clusters).toBe(Object.keys(again).length);
  });

  it('keeps the snapshots of a re-run that changed nothing, and the run after a change still equals a new task', async () => {
    const task = (await service.api('POST', '/api/dedup/tasks', { task_name: '未变的重跑' })).body.data;
    await run(service, task.id);
    const before = await clustersOf(service, task.id);
    const snapshots = async () => {
      if (testDatabaseServer()) return undefined;
      const db = new Database(join(dir, 'bank.sqlite'), { readonly: true });
      const rows = db.query('SELECT type_name, subject_name, channel_code, hex(decisions) AS bytes FROM dedup_group_decisions WHERE task_id = ? ORDER BY 1, 2, 3').all(task.id);
      db.close();
      return rows;
    };
    const stored = await snapshots();
    await run(service, task.id);
    expect(await clustersOf(service, task.id)).toEqual(before);
    expect(await snapshots()).toEqual(stored);
    // The kept snapshots are what the next run goes on.
    expect((await service.api('POST', '/api/questions', [question('after-kept', `${texts[30]}？`)])).body.data.inserted).toBe(1);
    await run(service, task.id);
    const fresh = (await service.api('POST', '/api/dedup/tasks', { task_name: '对照2' })).body.data;
    await run(service, fresh.id);
    expect(await clustersOf(service, task.id)).toEqual(await clustersOf(service, fresh.id));
  });

  it('runs a group again from scratch when its stored clusters no longer match its previous run', async () => {
    // The stored clusters are changed behind the service's back, which it never does itself.
    if (testDatabaseServer()) return;
    const task = (await service.api('POST', '/api/dedup/tasks', { task_name: '被改过的结果' })).body.data;
    await run(service, task.id);
    const db = new Database(join(dir, 'bank.sqlite'));
    db.exec('PRAGMA foreign_keys = ON');
    db.exec('PRAGMA busy_timeout = 5000');
    const biggest = db.query('SELECT id FROM dedup_clusters WHERE task_id = ? ORDER BY member_count DESC, id LIMIT 1').get(task.id) as { id: number };
    db.query('DELETE FROM dedup_clusters WHERE id = ?').run(biggest.id);
    db.close();
    expect((await service.api('POST', '/api/questions', [question('late', `${texts[20]}！`)])).body.data.inserted).toBe(1);

    await run(service, task.id);
    const fresh = (await service.api('POST', '/api/dedup/tasks', { task_name: '对照' })).body.data;
    await run(service, fresh.id);
    expect(await clustersOf(service, task.id)).toEqual(await clustersOf(service, fresh.id));
  });
});
