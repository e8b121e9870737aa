/**
 * Load bench (not a test): `npm run bench:load` (flags: --clients 1000 --polling 200
 * --groups 500 --per-group 20 --big 1000000 --big-groups 200 --watchers 200; --skip-fanout,
 * --skip-big). Starts the real service (`src/main.ts`, real worker) as a child process on
 * loopback with a temp SQLite file, and measures:
 *
 * 1. Fan-out: `--clients` socket.io-client connections (`--polling` of them polling-only) in
 *    one task room while a `--groups`-group task runs. Every client must see a final
 *    `task_progress` (processed == total) and `task_completed`, and `processed_groups` must
 *    never go down. Prints the wall time and, per emitted step, the spread between the first
 *    and the last client to receive it (p50/p99/max).
 * 2. REST under load: a `--big`-question task runs with `--watchers` clients in its room while
 *    a prober sends GET requests one after another; prints their latency (p50/p99/max).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { io, type Socket } from 'socket.io-client';
import { api, getTask, spawnService, tempDir, waitFor, type ChildService } from '../support/child-service.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(args[index + 1]);
};
const has = (name: string) => args.includes(`--${name}`);

const CLIENTS = flag('clients', 1000);
const POLLING = flag('polling', Math.round(CLIENTS / 5));
const GROUPS = flag('groups', 500);
const PER_GROUP = flag('per-group', 20);
const BIG = flag('big', 1_000_000);
const BIG_GROUPS = flag('big-groups', 200);
const WATCHERS = flag('watchers', 200);
const WORKERS = flag('workers', cpus().length);

const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
const ms = (value: number) => `${value.toFixed(1)} ms`;
const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
};

/** Question text for group g, item i: distinct questions differ in their numbers; every fifth is a marked-up copy of an earlier one. */
function content(g: number, i: number): string {
  const base = (k: number) => `已知函数 f(x) = ${(k % 97) + 2}x^2 + ${(k % 13) + 1}x - ${g % 17}，求 f(x) 在区间 [0, ${(k % 89) + 3}] 上的最大值与最小值 (第${k}题, 组${g})。`;
  return i % 5 === 4 ? `<p>${i}. （5分）${base(i - 4)}</p>` : base(i);
}

function* ndjson(groups: number, perGroup: number, prefix: string): Generator<string> {
  for (let g = 0; g < groups; g++) {
    const subject = `${prefix}-${String(g).padStart(4, '0')}`;
    for (let i = 0; i < perGroup; i++) {
      yield `${JSON.stringify({ external_id: `${subject}-${i}`, type_name: '单选题', subject_name: subject, content: content(g, i) })}\n`;
    }
  }
}

async function importBank(service: ChildService, groups: number, perGroup: number, prefix: string) {
  const lines = ndjson(groups, perGroup, prefix);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      let chunk = '';
      for (let n = 0; n < 2000; n++) {
        const next = lines.next();
        if (next.done) {
          if (chunk) controller.enqueue(encoder.encode(chunk));
          controller.close();
          return;
        }
        chunk += next.value;
      }
      controller.enqueue(encoder.encode(chunk));
    },
  });
  const startedAt = performance.now();
  const response = await fetch(`${service.url}/api/questions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  const answer = (await response.json()) as { data: { inserted: number; rejected_count: number } };
  const seconds = (performance.now() - startedAt) / 1000;
  if (response.status !== 201 || answer.data.inserted !== groups * perGroup) throw new Error(`import: ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
  return { rows: answer.data.inserted, seconds, perSecond: Math.round(answer.data.inserted / seconds) };
}

interface Watcher {
  socket: Socket;
  steps: Map<number, number>;
  lastProcessed: number;
  wentDown: boolean;
  finalProgress: boolean;
  completedAt?: number;
}

async function connectWatchers(url: string, count: number, polling: number, taskId: number): Promise<Watcher[]> {
  const watchers: Watcher[] = [];
  const BATCH = 50;
  for (let start = 0; start < count; start += BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(BATCH, count - start) }, (_, offset) => {
        const index = start + offset;
        const socket = io(url, { transports: index < polling ? ['polling'] : ['websocket'], forceNew: true, reconnection: true, timeout: 60_000 });
        const watcher: Watcher = { socket, steps: new Map(), lastProcessed: -1, wentDown: false, finalProgress: false };
        socket.on('connect', () => socket.emit('join_task', { task_id: taskId }));
        socket.on('task_progress', (payload: { processed_groups: number; total_groups: number }) => {
          const now = performance.now();
          if (payload.processed_groups < watcher.lastProcessed) watcher.wentDown = true;
          watcher.lastProcessed = payload.processed_groups;
          if (!watcher.steps.has(payload.processed_groups)) watcher.steps.set(payload.processed_groups, now);
          if (payload.processed_groups === payload.total_groups) watcher.finalProgress = true;
        });
        socket.on('task_completed', () => (watcher.completedAt = performance.now()));
        return new Promise<Watcher>((resolve, reject) => {
          socket.once('task_status', () => resolve(watcher));
          socket.once('connect_error', reject);
        });
      }),
    );
    watchers.push(...batch);
  }
  return watchers;
}

async function fanOut() {
  const temp = tempDir('dedup-bench-');
  const service = await spawnService({ dbFile: `${temp.dir}/fanout.sqlite`, env: { WORKERS: String(WORKERS), PROGRESS_INTERVAL_MS: '100' } });
  try {
    const imported = await importBank(service, GROUPS, PER_GROUP, 'fan');
    const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'fan-out bench' })).body.data.id as number;
    const connectStarted = performance.now();
    const watchers = await connectWatchers(service.url, CLIENTS, POLLING, taskId);
    const connectSeconds = (performance.now() - connectStarted) / 1000;

    const startedAt = performance.now();
    const started = await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`);
    if (started.status !== 200) throw new Error(`start: ${started.status}`);
    await waitFor(() => watchers.every((watcher) => watcher.completedAt !== undefined), 600_000, 50);
    const wallSeconds = (Math.max(...watchers.map((watcher) => watcher.completedAt!)) - startedAt) / 1000;
    const task = await getTask(service.url, taskId);

    const allSteps = new Set<number>();
    for (const watcher of watchers) for (const step of watcher.steps.keys()) allSteps.add(step);
    const spreadOf = (group: Watcher[]) => {
      const spreads: number[] = [];
      for (const step of allSteps) {
        const times = group.map((watcher) => watcher.steps.get(step)).filter((time): time is number => time !== undefined);
        if (times.length > 0) spreads.push(Math.max(...times) - Math.min(...times));
      }
      return stats(spreads);
    };
    const spread = spreadOf(watchers);
    const websocketSpread = spreadOf(watchers.slice(POLLING));
    const pollingSpread = spreadOf(watchers.slice(0, POLLING));
    const result = {
      clients: CLIENTS,
      polling: POLLING,
      groups: task.total_groups,
      questions: imported.rows,
      clusters: task.cluster_count,
      connectSeconds: +connectSeconds.toFixed(2),
      wallSeconds: +wallSeconds.toFixed(2),
      stepsEmitted: allSteps.size,
      everyClientSawFinalProgress: watchers.every((watcher) => watcher.finalProgress),
      everyClientSawCompleted: watchers.every((watcher) => watcher.completedAt !== undefined),
      processedNeverWentDown: watchers.every((watcher) => !watcher.wentDown),
      everyClientSawEveryStep: watchers.every((watcher) => watcher.steps.size === allSteps.size),
      spreadMs: { p50: +spread.p50.toFixed(1), p99: +spread.p99.toFixed(1), max: +spread.max.toFixed(1) },
      websocketSpreadMs: { p50: +websocketSpread.p50.toFixed(1), p99: +websocketSpread.p99.toFixed(1) },
      pollingSpreadMs: { p50: +pollingSpread.p50.toFixed(1), p99: +pollingSpread.p99.toFixed(1) },
    };
    console.log(`fan-out: ${CLIENTS} clients (${POLLING} polling-only), ${task.total_groups} groups, ${imported.rows} questions`);
    console.log(`  connected in ${connectSeconds.toFixed(2)} s; task wall time ${wallSeconds.toFixed(2)} s; ${allSteps.size} progress steps emitted`);
    console.log(`  every client saw the final task_progress: ${result.everyClientSawFinalProgress}; task_completed: ${result.everyClientSawCompleted}; processed_groups never went down: ${result.processedNeverWentDown}`);
    console.log(`  fan-out spread (first → last client, per step): p50 ${ms(spread.p50)}, p99 ${ms(spread.p99)}, max ${ms(spread.max)}`);
    console.log(`    among the ${CLIENTS - POLLING} WebSocket clients: p50 ${ms(websocketSpread.p50)}, p99 ${ms(websocketSpread.p99)}; among the ${POLLING} polling clients: p50 ${ms(pollingSpread.p50)}, p99 ${ms(pollingSpread.p99)}`);
    for (const watcher of watchers) watcher.socket.close();
    if (!result.everyClientSawFinalProgress || !result.everyClientSawCompleted || !result.processedNeverWentDown) process.exitCode = 1;
    return result;
  } finally {
    service.kill('SIGTERM');
    await service.exited;
    temp.remove();
  }
}

async function bigTask() {
  const temp = tempDir('dedup-bench-');
  const service = await spawnService({ dbFile: `${temp.dir}/big.sqlite`, env: { WORKERS: String(WORKERS) } });
  try {
    const perGroup = Math.round(BIG / BIG_GROUPS);
    const imported = await importBank(service, BIG_GROUPS, perGroup, 'big');
    console.log(`big task: imported ${imported.rows} questions in ${imported.seconds.toFixed(1)} s (${imported.perSecond}/s, NDJSON stream)`);
    const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'big bench' })).body.data.id as number;
    const watchers = await connectWatchers(service.url, WATCHERS, 0, taskId);

    const latencies: number[] = [];
    const byRoute = new Map<string, number[]>();
    const routes = [
      () => `/api/dedup/tasks/${taskId}`,
      () => '/api/health',
      () => `/api/questions?page=${1 + Math.floor(Math.random() * 1000)}&page_size=20`,
      () => '/api/dedup/tasks?page=1&page_size=20',
      () => `/api/dedup/tasks/${taskId}/clusters?page=1&page_size=20`,
      () => `/api/questions/${1 + Math.floor(Math.random() * imported.rows)}`,
    ];
    let running = true;
    const prober = (async () => {
      for (let n = 0; running; n++) {
        const route = routes[n % routes.length]!;
        const path = route();
        const began = performance.now();
        const response = await fetch(service.url + path);
        await response.arrayBuffer();
        const took = performance.now() - began;
        if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
        latencies.push(took);
        const key = path.split('?')[0]!.replace(/\/\d+/g, '/:id');
        byRoute.set(key, [...(byRoute.get(key) ?? []), took]);
        await Bun.sleep(20);
      }
    })();

    const startedAt = performance.now();
    await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`);
    const task = await waitFor(async () => {
      const current = await getTask(service.url, taskId);
      return current.status === 'running' ? undefined : current;
    }, 3_600_000, 500);
    const runSeconds = (performance.now() - startedAt) / 1000;
    await waitFor(() => watchers.every((watcher) => watcher.completedAt !== undefined), 60_000, 50);
    running = false;
    await prober;
    const overall = stats(latencies);
    console.log(`  task ${task.status}: ${task.total_groups} groups, ${task.total_questions} questions, ${task.cluster_count} clusters, ${task.duplicate_count} duplicates in ${runSeconds.toFixed(1)} s (${Math.round(task.total_questions / runSeconds)} questions/s)`);
    console.log(`  ${WATCHERS} watchers: all saw task_completed: ${watchers.every((watcher) => watcher.completedAt !== undefined)}; processed never went down: ${watchers.every((watcher) => !watcher.wentDown)}`);
    console.log(`  REST latency while it ran (${overall.n} sequential GETs): p50 ${ms(overall.p50)}, p99 ${ms(overall.p99)}, max ${ms(overall.max)}`);
    for (const [route, values] of byRoute) {
      const routeStats = stats(values);
      console.log(`    ${route.padEnd(34)} n=${String(routeStats.n).padStart(4)} p50 ${ms(routeStats.p50)}, p99 ${ms(routeStats.p99)}`);
    }
    for (const watcher of watchers) watcher.socket.close();
    if (task.status !== 'completed' || !(overall.p99 < 100)) process.exitCode = 1;
    return { imported, task: { status: task.status, groups: task.total_groups, questions: task.total_questions, clusters: task.cluster_count, seconds: +runSeconds.toFixed(1) }, restLatencyMs: { n: overall.n, p50: +overall.p50.toFixed(1), p99: +overall.p99.toFixed(1), max: +overall.max.toFixed(1) } };
  } finally {
    service.kill('SIGTERM');
    await service.exited;
    temp.remove();
  }
}

const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Bun ${Bun.version}; service WORKERS=${WORKERS}; clients in this one process; load average ${load()}`);
const results: Record<string, unknown> = {};
if (!has('skip-fanout')) results.fanOut = await fanOut();
if (!has('skip-big')) results.bigTask = await bigTask();
console.log(`load average at the end: ${load()} (other work on the machine skews every figure)`);
console.log(JSON.stringify(results));
