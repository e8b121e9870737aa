/**
 * Request-stall bench (issue 15): `bun test/bench/stall.ts` (or `npm run bench` with
 * BENCH_STALL=1). For each database (SQLite file; PostgreSQL when BENCH_STALL_PG is a server
 * URL, default postgres://postgres@127.0.0.1:55432/postgres, "0" skips it) it starts the real
 * service as a child process, imports BENCH_STALL_N questions (default 1,000,000) through one
 * NDJSON request, runs a dedup task over every group, then sends each read request one at a
 * time while a probe thread asks /api/health every 5 ms, and prints the worst health answer
 * during each request: how long the request held the service's event loop, as a client
 * sees it. Then the task re-runs once alone (its main-thread CPU rate), and again with 100
 * concurrent checks in rounds (latency p50/p99/max, main-thread CPU per check): the same 100
 * questions every round, then (another two re-runs) every check a different question; and the
 * short-row import (BENCH_SHORT_N rows, default 200,000, ~80-character stems over 2,000
 * groups, one NDJSON request). Both databases build their search index in the background
 * after an import: each measures the reads right after the task and again once it is complete.
 * Load and machine are printed: other work skews every figure.
 * BENCH_STALL_ONLY=sqlite|postgres runs one database's part; BENCH_STALL_CHECKS_ONLY=1 skips the
 * read requests (only the concurrent checks); BENCH_STALL_ROUNDS=1 prints each round of checks.
 */
import { Database } from 'bun:sqlite';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { api, spawnService, tempDir, type ChildService } from '../support/child-service.ts';
import { admin } from '../support/database.ts';
import { loadCorpus, questionAt, shortQuestion, type Corpus } from './corpus.ts';
import { mainThreadCpuMs } from './main-thread-cpu.ts';

const N = Number(process.env.BENCH_STALL_N ?? 1_000_000);
const SHORT_N = Number(process.env.BENCH_SHORT_N ?? 200_000);
const PG_SERVER = process.env.BENCH_STALL_PG ?? 'postgres://postgres@127.0.0.1:55432/postgres';
const BOUND_MS = 50;
const log = (line: string) => console.log(line);
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

/** Streams NDJSON lines made on the fly as one request body; resolves with the answer and rows/s. */
export async function importLines(url: string, count: number, line: (i: number) => string) {
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= count) return controller.close();
      let chunk = '';
      for (const end = Math.min(count, i + 2000); i < end; i++) chunk += line(i);
      controller.enqueue(encoder.encode(chunk));
    },
  });
  const began = performance.now();
  const response = await fetch(`${url}/api/questions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body, duplex: 'half' } as RequestInit);
  const answer = (await response.json()) as { data: { inserted: number; rejected_count: number } };
  const seconds = (performance.now() - began) / 1000;
  if (response.status !== 201) throw new Error(`import: ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
  return { inserted: answer.data.inserted, seconds, perSecond: Math.round(answer.data.inserted / seconds) };
}

export const bankLine = (corpus: Corpus) => (i: number) => {
  const q = questionAt(corpus.base, i);
  return `${JSON.stringify({ external_id: `stall-${i}`, type_name: q.type_name, subject_name: q.subject_name, channel_code: q.channel_code, content: q.content })}\n`;
};

export async function runTask(url: string, taskId: number) {
  await api(url, 'POST', `/api/dedup/tasks/${taskId}/start`);
  for (;;) {
    const task = (await api(url, 'GET', `/api/dedup/tasks/${taskId}`)).body.data;
    if (task.status === 'completed') return task;
    if (task.status !== 'running') throw new Error(`task ${task.status}: ${task.error}`);
    await Bun.sleep(200);
  }
}

interface Timed {
  label: string;
  began: number;
  ended: number;
  status: number;
  bytes: number;
}

/**
 * Starts the health probe (stall-probe.ts) as a process of its own, asking `pauseMs` after each
 * answer; the function it returns stops it and resolves with its samples, flat
 * [sent, answered, service main-thread CPU ms] triples.
 */
export function spawnHealthProbe(url: string, pid: number, pauseMs = 5): () => Promise<number[]> {
  const probe = Bun.spawn([process.execPath, new URL('./stall-probe.ts', import.meta.url).pathname, url, String(pid), String(pauseMs)], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' });
  return async () => {
    probe.stdin.end();
    const samples = JSON.parse(await new Response(probe.stdout).text()) as number[];
    await probe.exited;
    return samples;
  };
}

/** The probe process's samples; `worst(began, ended)`: the slowest health answer overlapping that window. */
export function startProbe(url: string, pid: number) {
  const stopProbe = spawnHealthProbe(url, pid);
  return {
    async stop() {
      const all = await stopProbe();
      /** The slowest answer overlapping the window, the main thread's CPU during it, and the most CPU any one answer's wait held. */
      return (began: number, ended: number) => {
        let worst = 0;
        let worstCpu = 0;
        let busiest = 0;
        for (let k = 0; k < all.length; k += 3) {
          const sent = all[k]!;
          const answered = all[k + 1]!;
          if (answered < began || sent > ended) continue;
          const cpu = all[k + 2]!;
          if (answered - sent > worst) {
            worst = answered - sent;
            worstCpu = cpu;
          }
          busiest = Math.max(busiest, Math.min(cpu, answered - sent));
        }
        return { worst, worstCpu, busiest };
      };
    },
  };
}

const now = () => performance.timeOrigin + performance.now();

export async function timed(url: string, label: string, method: string, path: string, body?: unknown): Promise<Timed> {
  await Bun.sleep(150); // let the probe settle between requests
  const began = now();
  const response = await fetch(url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const bytes = (await response.arrayBuffer()).byteLength;
  return { label, began, ended: now(), status: response.status, bytes };
}

export async function measureReads(service: ChildService, taskId: number, check: Record<string, unknown>, phase: string) {
  const url = service.url;
  const probe = startProbe(url, service.proc.pid);
  await Bun.sleep(300);
  const idle = { label: 'idle (no request)', began: now(), ended: 0, status: 200, bytes: 0 };
  await Bun.sleep(1000);
  idle.ended = now();
  const runs: Timed[] = [idle];
  const reads: [string, string, string, unknown?][] = [
    ['GET /api/questions?q=<no hit>', 'GET', `/api/questions?q=${encodeURIComponent('完全不存在的文字组合zq')}&page_size=20`],
    ['GET /api/questions?q=<common, 4 chars>', 'GET', `/api/questions?q=${encodeURIComponent('已知函数')}&page_size=20`],
    ['GET /api/questions?q=<2 chars: bounded scan>', 'GET', `/api/questions?q=${encodeURIComponent('函数')}&page_size=20`],
    ['GET /api/questions?q=<common>&subject_name=数学', 'GET', `/api/questions?q=${encodeURIComponent('已知函数')}&subject_name=${encodeURIComponent('数学')}&page_size=20`],
    ['GET /api/questions?page=1&page_size=500', 'GET', '/api/questions?page=1&page_size=500'],
    ['GET /api/questions?page=1900&page_size=500', 'GET', '/api/questions?page=1900&page_size=500'],
    ['GET /api/questions?subject_name=数学&page=200&page_size=500', 'GET', `/api/questions?subject_name=${encodeURIComponent('数学')}&page=200&page_size=500`],
    ['GET /api/groups', 'GET', '/api/groups'],
    ['GET /api/groups?q=<common>', 'GET', `/api/groups?q=${encodeURIComponent('已知函数')}`],
    ['GET /api/questions/:id', 'GET', `/api/questions/${Math.floor(N / 2)}`],
    ['GET /api/dedup/tasks/:id/groups', 'GET', `/api/dedup/tasks/${taskId}/groups`],
    ['GET /api/dedup/tasks/:id/clusters?page=1&page_size=500', 'GET', `/api/dedup/tasks/${taskId}/clusters?page=1&page_size=500`],
    ['GET /api/dedup/tasks/:id/clusters?page=100&page_size=500', 'GET', `/api/dedup/tasks/${taskId}/clusters?page=100&page_size=500`],
    ['GET /api/dedup/tasks/:id/export?format=ndjson', 'GET', `/api/dedup/tasks/${taskId}/export?format=ndjson`],
    ['GET /api/dedup/tasks/:id/export?format=csv', 'GET', `/api/dedup/tasks/${taskId}/export?format=csv`],
    ['POST /api/dedup/check', 'POST', '/api/dedup/check', check],
  ];
  for (const [label, method, path, body] of reads) runs.push(await timed(url, label, method, path, body));
  const worst = await probe.stop();
  log(`  ${phase}: worst /api/health answer while each request ran (bound ${BOUND_MS} ms); main-thread CPU during that answer; the most main-thread CPU inside any one answer (10 ms ticks)`);
  const over: string[] = [];
  for (const run of runs) {
    const { worst: delay, worstCpu, busiest } = worst(run.began, run.ended);
    if (run.label !== 'idle (no request)' && delay > BOUND_MS) over.push(`${run.label} (${delay.toFixed(0)} ms, cpu ${worstCpu.toFixed(0)})`);
    log(`    ${run.label.padEnd(62)} ${delay.toFixed(1).padStart(7)} ms  cpu ${worstCpu.toFixed(0).padStart(4)} ms  busiest ${busiest.toFixed(0).padStart(4)} ms   (request ${(run.ended - run.began).toFixed(0)} ms, ${run.status}, ${run.bytes} bytes)`);
  }
  log(`    over ${BOUND_MS} ms: ${over.length === 0 ? 'none' : over.join('; ')}`);
  return over;
}


/**
 * 100 checks at once, several rounds, while the task runs again. Besides the latencies it prints
 * the service's main-thread CPU per check (a round's main-thread CPU over its 100 checks; the
 * task's own main-thread work during the round is counted in too, so it is an upper bound) and
 * the first round apart (nothing of these checks seen before). `checksOf(round)`: a round's 100 checks.
 */
async function concurrentChecks(service: ChildService, taskId: number, label: string, checksOf: (round: number) => Record<string, unknown>[]) {
  const latencies: number[] = [];
  const cpuPerCheck: number[] = [];
  /** The same less the task's share at its rate alone (an estimate: the task's pace varies). */
  const lessTask: number[] = [];
  let first = '';
  // A re-run alone first: its main-thread CPU per ms of wall time is the task's share of each round below.
  const aloneFrom = mainThreadCpuMs(service.proc.pid);
  const aloneBegan = performance.now();
  await runTask(service.url, taskId);
  const taskCpuPerMs = (mainThreadCpuMs(service.proc.pid) - aloneFrom) / (performance.now() - aloneBegan);
  await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`);
  let rounds = 0;
  for (;;) {
    const task = (await api(service.url, 'GET', `/api/dedup/tasks/${taskId}`)).body.data;
    if (task.status !== 'running' && rounds >= 3) break;
    if (task.status !== 'running' && rounds < 3 && task.status !== 'completed') throw new Error(`task ${task.status}`);
    const cpuBefore = mainThreadCpuMs(service.proc.pid);
    const roundBegan = performance.now();
    const checks = checksOf(rounds);
    const batch = await Promise.all(
      checks.map(async (body) => {
        const began = performance.now();
        const response = await fetch(`${service.url}/api/dedup/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`check: ${response.status}`);
        return performance.now() - began;
      }),
    );
    const roundMs = performance.now() - roundBegan;
    const cpu = (mainThreadCpuMs(service.proc.pid) - cpuBefore) / checks.length;
    if (task.status === 'running') {
      latencies.push(...batch);
      cpuPerCheck.push(cpu);
      lessTask.push(cpu - (taskCpuPerMs * roundMs) / checks.length);
      const sorted = [...batch].sort((a, b) => a - b);
      if (first === '') first = `first round: p50 ${sorted[49]!.toFixed(0)} ms, max ${sorted[99]!.toFixed(0)} ms, main-thread cpu ${cpu.toFixed(2)} ms a check`;
      if (process.env.BENCH_STALL_ROUNDS === '1') log(`    round ${rounds}: ${roundMs.toFixed(0)} ms, p50 ${sorted[49]!.toFixed(0)} ms, max ${sorted[99]!.toFixed(0)} ms, main-thread cpu ${cpu.toFixed(2)} ms a check`);
    }
    rounds++;
    if (task.status !== 'running') break;
  }
  const percentiles = (values: number[]) => {
    const ascending = [...values].sort((a, b) => a - b);
    return (p: number) => ascending[Math.min(ascending.length - 1, Math.ceil((p / 100) * ascending.length) - 1)] ?? NaN;
  };
  const at = percentiles(latencies);
  const meanCpu = cpuPerCheck.reduce((a, b) => a + b, 0) / Math.max(1, cpuPerCheck.length);
  log(`  100 concurrent checks while the task ran, ${label}: ${latencies.length} checks in ${latencies.length / 100} rounds, p50 ${at(50).toFixed(0)} ms, p99 ${at(99).toFixed(0)} ms, max ${at(100).toFixed(0)} ms (target p99 < 250 ms)`);
  // The process's first 100 checks also compile the check's code and fill its caches: shown apart too.
  const warmAt = percentiles(latencies.slice(100));
  if (latencies.length > 100) log(`    after the first round: p50 ${warmAt(50).toFixed(0)} ms, p99 ${warmAt(99).toFixed(0)} ms, max ${warmAt(100).toFixed(0)} ms`);
  const meanLessTask = lessTask.reduce((a, b) => a + b, 0) / Math.max(1, lessTask.length);
  log(`    service main-thread cpu a check (round's cpu / 100, task's share included): mean ${meanCpu.toFixed(2)} ms, worst round ${Math.max(...cpuPerCheck).toFixed(2)} ms; less the task's share at the rate of a re-run alone (${(taskCpuPerMs * 1000).toFixed(0)} ms/s): mean ${meanLessTask.toFixed(2)} ms; ${first}`);
  // Let the run finish before anything else is measured.
  for (;;) {
    const task = (await api(service.url, 'GET', `/api/dedup/tasks/${taskId}`)).body.data;
    if (task.status !== 'running') break;
    await Bun.sleep(200);
  }
  return at(99);
}

async function pgDatabase(server: string) {
  const name = `dedup_stall_${process.pid}`;
  await admin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin(server, `CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export async function runStallBench(corpus: Corpus, which: 'sqlite' | 'postgres') {
  const temp = tempDir('dedup-stall-');
  const database = which === 'postgres' ? await pgDatabase(PG_SERVER) : undefined;
  const dbFile = `${temp.dir}/stall.sqlite`;
  const service = await spawnService({ dbFile, env: { WORKERS: String(cpus().length), LOG_LEVEL: 'info', ...(database ? { DATABASE_URL: database.url } : {}) } });
  try {
    log(`${which}: ${N} questions; load average ${load()}`);
    const imported = await importLines(service.url, N, bankLine(corpus));
    log(`  import: ${imported.inserted} rows in ${imported.seconds.toFixed(1)} s (${imported.perSecond}/s)`);
    const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'stall bench' })).body.data.id as number;
    const taskBegan = performance.now();
    const task = await runTask(service.url, taskId);
    log(`  task: ${task.total_groups} groups, ${task.cluster_count} clusters in ${((performance.now() - taskBegan) / 1000).toFixed(1)} s`);
    const sample = questionAt(corpus.base, Math.floor(N / 3));
    const check = { type_name: sample.type_name, subject_name: sample.subject_name, channel_code: sample.channel_code, content: `${sample.content} ` };
    // BENCH_STALL_CHECKS_ONLY=1: only the concurrent checks (no read requests, no wait for the search index).
    const checksOnly = process.env.BENCH_STALL_CHECKS_ONLY === '1';
    // BENCH_STALL_INDEX_WAIT_S: the longest wait for the background search index (default 900 s); the second reads run however far it got.
    const indexWaitMs = 1000 * Number(process.env.BENCH_STALL_INDEX_WAIT_S ?? 900);
    const over = checksOnly ? [] : await measureReads(service, taskId, check, 'right after the task (first check after it included)');
    if (which === 'sqlite' && !checksOnly) {
      const file = new Database(dbFile, { readonly: true });
      const began = performance.now();
      const state = () => file.query('select (select indexed_through from question_search_state) as mark, (select max(id) from questions) as top').get() as { mark: number; top: number };
      while (state().mark < state().top && performance.now() - began < indexWaitMs) await Bun.sleep(1000);
      const { mark, top } = state();
      file.close();
      log(`  search index (FTS5, its own thread): ${mark} of ${top} rows indexed ${((performance.now() - began) / 1000).toFixed(0)} s after the task`);
      over.push(...(await measureReads(service, taskId, check, 'with the search index complete')));
    }
    if (database && !checksOnly) {
      // PostgreSQL (migration 011): the service's indexer puts the imported rows into the pg_trgm index in the background.
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const began = performance.now();
      const pending = async () => Number((await client.query('select count(*) as n from questions where not search_ready')).rows[0].n);
      while ((await pending()) > 0 && performance.now() - began < indexWaitMs) await Bun.sleep(1000);
      const left = await pending();
      await client.end();
      log(`  search index (pg_trgm, filled by the service in the background): ${N - left} of ${N} rows indexed ${((performance.now() - began) / 1000).toFixed(0)} s after the task; load average ${load()}`);
      over.push(...(await measureReads(service, taskId, check, 'with the search index complete')));
    }
    const checkOf = (i: number) => {
      const q = questionAt(corpus.base, i % N);
      return { type_name: q.type_name, subject_name: q.subject_name, channel_code: q.channel_code, content: q.content };
    };
    // The same 100 questions every round (the figure kept since the issue was filed): after the
    // first round every candidate's text is held. Then every check a question not checked before,
    // as editors' traffic is: most candidates' texts are read and verified cold.
    const same = Array.from({ length: 100 }, (_, k) => checkOf(k * 7919));
    const p99 = await concurrentChecks(service, taskId, 'the same 100 questions every round', () => same);
    log(`  load average: ${load()}`);
    const p99Different = await concurrentChecks(service, taskId, 'every check a different question', (round) => Array.from({ length: 100 }, (_, k) => checkOf((round * 100 + k) * 104_729 + 1)));
    log(`  load average after: ${load()}`);
    return { over, p99, p99Different };
  } finally {
    service.kill('SIGTERM');
    await service.exited;
    await database?.drop();
    temp.remove();
  }
}

/** Short rows (~80 characters) over 2,000 groups through one NDJSON request, into a fresh SQLite service. */
export async function runShortImportBench() {
  const temp = tempDir('dedup-short-');
  const service = await spawnService({ dbFile: `${temp.dir}/short.sqlite`, env: { WORKERS: String(cpus().length), LOG_LEVEL: 'info' } });
  try {
    const line = (i: number) => `${JSON.stringify({ external_id: `short-${i}`, ...shortQuestion(i) })}\n`;
    const imported = await importLines(service.url, SHORT_N, line);
    log(`short rows (~80 chars, 2,000 groups, one NDJSON request): ${imported.inserted} rows in ${imported.seconds.toFixed(1)} s = ${imported.perSecond} rows/s (the rows made by this bench as it sends them, on the same two cores: the service's own figure is import-cpu.ts's); load average ${load()}`);
    return imported.perSecond;
  } finally {
    service.kill('SIGTERM');
    await service.exited;
    temp.remove();
  }
}

if (import.meta.main) {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Bun ${Bun.version}; load average ${load()}`);
  const corpus = loadCorpus();
  if (SHORT_N > 0) await runShortImportBench();
  // BENCH_STALL_ONLY=sqlite|postgres runs one database's part.
  const only = process.env.BENCH_STALL_ONLY;
  if (N > 0) {
    if (only !== 'postgres') await runStallBench(corpus, 'sqlite');
    if (PG_SERVER !== '0' && only !== 'sqlite') await runStallBench(corpus, 'postgres');
  }
  process.exit(0);
}
