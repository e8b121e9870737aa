/**
 * The main thread's share of one big group, phase by phase: reading it from SQLite
 * (buildGroupJob), posting the job to a real pool thread, receiving the result, saving it
 * (saveGroupResult). For each phase: the main thread's CPU time and its longest stretch
 * without a turn of the event loop (a 1 ms ticker's largest gap), which is what a request
 * arriving meanwhile waits. The worker's own compute time is not the main thread's and is
 * only reported.
 *
 *   bun test/bench/group-transfer.ts [questions=150000] [--options]
 *
 * --options gives every question a short options JSON (bench banks have none; real
 * single-choice questions do).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { connectDatabase, migrateToLatest } from '../../src/db/connect.ts';
import { buildGroupJob } from '../../src/tasks/group-job.ts';
import { saveGroupResult } from '../../src/tasks/result.repository.ts';
import { beginRun, claimPendingGroup, insertTask } from '../../src/tasks/task.repository.ts';
import { packTexts } from '../../workers/packed-texts.ts';
import { jobTransferList, type GroupResult } from '../../workers/protocol.ts';
import { loadBenchCorpus, questionAt } from './corpus.ts';

const n = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 150_000);
const withOptions = process.argv.includes('--options');

const cpuMs = () => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};

/**
 * The longest gap between turns of the event loop since the last reset, and the longest busy
 * one (the main thread's CPU >= 80 % of it): on a shared machine a gap with little CPU is a
 * thread the machine did not schedule, not this thread's work.
 */
function gapMeter() {
  let last = performance.now();
  let lastCpu = cpuMs();
  let worst = 0;
  let worstBusy = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = cpuMs();
    worst = Math.max(worst, now - last);
    if (cpu - lastCpu >= 0.8 * (now - last)) worstBusy = Math.max(worstBusy, now - last);
    last = now;
    lastCpu = cpu;
  }, 1);
  return {
    reset() {
      last = performance.now();
      lastCpu = cpuMs();
      worst = worstBusy = 0;
    },
    worst: () => Math.max(worst, performance.now() - last),
    worstBusy: () => worstBusy,
    stop: () => clearInterval(timer),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'group-transfer-'));
const { db, dialect } = await connectDatabase(`sqlite:${join(dir, 'bench.sqlite')}`);
await migrateToLatest({ db, dialect });
const now = () => new Date().toISOString();

const corpus = loadBenchCorpus();
for (let start = 0; start < n; start += 500) {
  const rows = [];
  for (let i = start; i < Math.min(n, start + 500); i++) {
    const q = questionAt(corpus.base, i);
    const options = withOptions ? JSON.stringify([`选项${i % 7}甲`, `选项乙${i % 5}`, `$x=${i % 11}$`, '以上都不对']) : null;
    rows.push({ type_name: '单选题', subject_name: '数学', channel_code: 'default', content: q.content, options, row_hash: `h${i}`, created_at: now(), updated_at: now() });
  }
  await db.insertInto('questions').values(rows).execute();
}
const task = await insertTask(db, { task_name: 'bench', filters: {}, scope: 'channel', max_distance: 3, min_similarity: 0.8 }, now());
const run = await beginRun(db, task.id, now());
const group = (await claimPendingGroup(db, task.id, now(), undefined, run.run_number))!;

const pool = new Piscina({ filename: new URL('../../workers/dedup.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
await pool.run({ ids: Float64Array.of(1), contents: packTexts(['warm up']), options: packTexts([null]), opts: { maxDistance: 3, minSimilarity: 0.8 } });

const gaps = gapMeter();
const figures: Record<string, string> = {};
async function phase<T>(name: string, work: () => Promise<T> | T): Promise<T> {
  await Bun.sleep(20);
  gaps.reset();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const value = await work();
  figures[name] = `cpu ${(cpuMs() - cpu0).toFixed(0)} ms, longest stretch ${gaps.worst().toFixed(1)} ms (busy ${gaps.worstBusy().toFixed(1)} ms), wall ${(performance.now() - t0).toFixed(0)} ms`;
  return value;
}

const opts = { maxDistance: 3, minSimilarity: 0.8 };
const { job } = await phase('read', () => buildGroupJob(db, group, opts));
let pending!: Promise<GroupResult>;
await phase('post', () => {
  // As the runner posts it: the job's buffers moved, not copied.
  pending = pool.run(job, { transferList: jobTransferList(job) as never });
});
// The worker computes meanwhile; what the main thread spends here is receiving the result.
const result = await phase('compute + receive', () => pending);
await phase('save', () => saveGroupResult(db, task.id, run.run_number, group, result, 0, now()));

gaps.stop();
console.log(`${n} questions in one group${withOptions ? ', with options' : ''}; ${result.clusters.length} clusters; load ${loadavg()[0]!.toFixed(1)}`);
for (const [name, line] of Object.entries(figures)) console.log(`${name.padEnd(18)} ${line}`);
await pool.destroy();
await db.destroy();
rmSync(dir, { recursive: true, force: true });
