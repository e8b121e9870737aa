/**
 * The service end to end, in this process (so the event-loop lag measured
 * here is the service's own): import N questions through the NDJSON
 * endpoint, run one dedup task over all groups, record wall time, peak RSS
 * (the pool's worker threads included) and event-loop delay p99; then import
 * 1 % more and run the same task again (it reuses each group's decisions).
 * The NDJSON files are generated before the clock starts and uploaded by a
 * child process (`upload.ts`), so generating and sending the body is never
 * counted as the service's time or its event-loop lag.
 * Run as its own process (`bun test/bench/service.ts N`, as run.ts does) so
 * the RSS is the service's alone; the last line printed is the JSON figures.
 */
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/config.ts';
import { io } from 'socket.io-client';
import { startService } from '../../src/main.ts';
import { questionAt, type Corpus } from './corpus.ts';

export interface ServiceFigures {
  questions: number;
  importMs: number;
  taskMs: number;
  groups: number;
  clusters: number;
  peakRssMb: number;
  importLagP99Ms: number;
  taskLagP99Ms: number;
  lagMaxMs: number;
  /** The same task run again after importing 1 % more questions. */
  rerunMs: number;
}

/** Writes bench questions `from` .. `n - 1` as NDJSON to `path`. */
export async function writeNdjson(corpus: Corpus, n: number, path: string, from = 0): Promise<void> {
  const out = createWriteStream(path);
  for (let i = from; i < n; ) {
    let chunk = '';
    for (const end = Math.min(n, i + 2000); i < end; i++) {
      const q = questionAt(corpus.base, i);
      chunk += `${JSON.stringify({ external_id: `bench-${i}`, type_name: q.type_name, subject_name: q.subject_name, channel_code: q.channel_code, content: q.content })}\n`;
    }
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** Uploads the file from a child process; resolves with the answer and the child's own wall time. */
async function importNdjson(url: string, file: string): Promise<{ ms: number; data: { inserted: number; rejected: unknown[] } }> {
  const child = Bun.spawn([process.execPath, new URL('./upload.ts', import.meta.url).pathname, url, file], { stdout: 'pipe', stderr: 'inherit' });
  const output = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error('upload child failed');
  const answer = JSON.parse(output.trim().split('\n').at(-1)!) as { status: number; ms: number; data: { inserted: number; rejected: unknown[] } };
  if (answer.status !== 201) throw new Error(`import failed: ${answer.status} ${JSON.stringify(answer).slice(0, 500)}`);
  return answer;
}

interface TaskEnd {
  status: string;
  total_groups: number;
  cluster_count: number;
  error: string | null;
}

/**
 * Starts the task and waits for its end as a frontend sees it: joined to the task's room
 * before the start request, the wall time from that request to `task_completed`. (Polling the
 * task every 100 ms added up to 100 ms to each run: a few percent of a 3 s re-run.)
 */
async function runTask(url: string, id: number): Promise<{ ms: number; done: TaskEnd }> {
  const socket = io(url, { transports: ['websocket'] });
  try {
    const ended = new Promise<TaskEnd>((resolve, reject) => {
      socket.on('task_completed', (event: { task_id: number; data: TaskEnd }) => {
        if (event.task_id === id) resolve(event.data);
      });
      socket.on('task_error', (event: { task_id: number; error: string }) => {
        if (event.task_id === id) reject(new Error(`task ended failed: ${event.error}`));
      });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect_error', reject);
      socket.emit('join_task', { task_id: id }, (answer: { ok: boolean; message?: string }) => (answer.ok ? resolve() : reject(new Error(answer.message))));
    });
    const t0 = performance.now();
    await api(`${url}/api/dedup/tasks/${id}/start`, 'POST');
    const done = await ended;
    return { ms: performance.now() - t0, done };
  } finally {
    socket.close();
  }
}

/**
 * Records every gap of more than 50 ms between 5 ms ticks (a stall of the event loop), with
 * its start relative to `mark()` and the main thread's own CPU time during it: a stall with
 * little CPU time is the machine's (the thread was not scheduled: other processes, the
 * pool's threads), one with CPU time close to its length is the service's own work.
 */
function stallRecorder() {
  const cpu = () => {
    const usage = process.threadCpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  let origin = performance.now();
  let last = origin;
  let lastCpu = cpu();
  let stalls: { at: number; ms: number; cpuMs: number }[] = [];
  const timer = setInterval(() => {
    const now = performance.now();
    const nowCpu = cpu();
    if (now - last > 55) stalls.push({ at: last - origin, ms: now - last - 5, cpuMs: nowCpu - lastCpu });
    last = now;
    lastCpu = nowCpu;
  }, 5);
  const show = (list: typeof stalls, k: number) =>
    [...list].sort((a, b) => b.ms - a.ms).slice(0, k).map((s) => `${s.ms.toFixed(0)} ms (cpu ${s.cpuMs.toFixed(0)}) at +${(s.at / 1000).toFixed(1)} s`).join(', ') || 'none';
  return {
    mark() {
      origin = performance.now();
      stalls = [];
    },
    summary(k: number) {
      const busy = stalls.filter((s) => s.cpuMs >= 0.8 * s.ms);
      return `${stalls.length}, ${busy.length} of them busy (main-thread CPU >= 80 % of the stall); worst ${show(stalls, k)}; worst busy ${show(busy, 3)}`;
    },
    stop: () => clearInterval(timer),
  };
}

/** CPU time (ms) of every thread of this process by thread name, from /proc (Linux; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const id of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime, in clock ticks (10 ms).
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      byName.set(`${id} ${name}`, ms);
    }
  } catch {
    // No /proc: no breakdown.
  }
  return byName;
}

/** CPU spent since `before`, summed by thread name (the main thread is named after the executable), largest first. */
function cpuSince(before: Map<string, number>): string {
  const spent = new Map<string, number>();
  for (const [key, ms] of threadCpu()) {
    const name = key.slice(key.indexOf(' ') + 1);
    const delta = ms - (before.get(key) ?? 0);
    if (delta > 0) spent.set(name, (spent.get(name) ?? 0) + delta);
  }
  const total = [...spent.values()].reduce((a, b) => a + b, 0);
  return total === 0 ? '' : `${total} in all; ${[...spent].sort((a, b) => b[1] - a[1]).map(([name, ms]) => `${name} ${ms}`).join(', ')}`;
}

async function api<T>(url: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = (await response.json()) as { code: number; message: string; data: T };
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${payload.message}`);
  return payload.data;
}

export async function runServiceBench(corpus: Corpus, log: (line: string) => void, n: number): Promise<ServiceFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-bench-'));
  const more = Math.max(1, Math.round(n / 100));
  const file = join(dir, 'bank.ndjson');
  const moreFile = join(dir, 'more.ndjson');
  await writeNdjson(corpus, n, file);
  await writeNdjson(corpus, n + more, moreFile, n);
  log(`  load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'bench.sqlite')}`, LOG_LEVEL: 'silent' });
  const service = await startService(config);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const stalls = stallRecorder();
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 250);
  try {
    lag.enable();
    stalls.mark();
    const imported = await importNdjson(service.url, file);
    lag.disable();
    const result = { data: imported.data };
    const importMs = imported.ms;
    const importLagP99Ms = lag.percentile(99) / 1e6;
    let lagMax = lag.max;
    lag.reset();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    log(`  stalls > 50 ms during import: ${stalls.summary(3)}; peak RSS so far ${(peakRss / 2 ** 20).toFixed(0)} MB`);
    log(`  import ${n} questions (NDJSON): ${(importMs / 1000).toFixed(1)} s = ${Math.round(n / (importMs / 1000))} q/s, inserted ${result.data.inserted}, rejected ${result.data.rejected.length}`);

    const task = await api<{ id: number }>(`${service.url}/api/dedup/tasks`, 'POST', { task_name: `bench ${n}` });
    lag.enable();
    stalls.mark();
    const { ms: taskMs, done } = await runTask(service.url, task.id);
    lag.disable();
    const taskStalls = stalls.summary(3);
    const taskLagP99Ms = lag.percentile(99) / 1e6;
    lagMax = Math.max(lagMax, lag.max);

    // 1 % more questions, then the same task again: prints and decisions of unchanged questions are reused.
    await importNdjson(service.url, moreFile);
    const threadsBefore = threadCpu();
    const { ms: rerunMs } = await runTask(service.url, task.id);
    const rerunCpu = cpuSince(threadsBefore);
    const figures: ServiceFigures = {
      questions: n,
      importMs,
      taskMs,
      groups: done.total_groups,
      clusters: done.cluster_count,
      peakRssMb: peakRss / 2 ** 20,
      importLagP99Ms,
      taskLagP99Ms,
      lagMaxMs: lagMax / 1e6,
      rerunMs,
    };
    log(`  dedup task: ${(taskMs / 1000).toFixed(1)} s over ${figures.groups} groups, ${figures.clusters} clusters`);
    log(`  stalls > 50 ms during the task: ${taskStalls}`);
    log(`  the same task after importing ${more} more questions (1 %): ${(rerunMs / 1000).toFixed(1)} s = ${(100 * rerunMs / taskMs).toFixed(1)} % of the first run`);
    if (rerunCpu) log(`  CPU of that re-run by thread (ms): ${rerunCpu}`);
    log(`  load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    log(`  peak RSS ${figures.peakRssMb.toFixed(0)} MB; event-loop delay p99 ${importLagP99Ms.toFixed(1)} ms during import, ${figures.taskLagP99Ms.toFixed(1)} ms during the task (max ${figures.lagMaxMs.toFixed(0)} ms)`);
    return figures;
  } finally {
    clearInterval(sampler);
    stalls.stop();
    lag.disable();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { loadBenchCorpus } = await import('./corpus.ts');
  const figures = await runServiceBench(loadBenchCorpus(), (line) => console.log(line), Number(process.argv[2] ?? 100_000));
  console.log(JSON.stringify(figures));
  process.exit(0);
}
