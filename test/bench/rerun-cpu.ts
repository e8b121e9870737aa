/**
 * Where a re-running task's main-thread CPU goes (issue 15, concurrent checks while a task runs):
 * `bun test/bench/rerun-cpu.ts`. Builds a bank of BENCH_RERUN_N questions (default 200,000, the
 * stall bench's rows) in the real service (a child process), runs a task over it, then re-runs
 * it BENCH_RERUN_RUNS times (default 3) alone and prints, per re-run, its wall time, the
 * service main thread's CPU (total and ms per second of wall time, the stall bench's "re-run
 * alone" figure) and the other threads' CPU (pool threads, SQLite checkpointer, ...).
 *
 * BENCH_RERUN_DB=postgres runs it on a database of its own on BENCH_STALL_PG's server.
 * BENCH_RERUN_BANK=<file>: a SQLite bank kept between invocations (built once if missing), so
 * A/B runs of the code skip the import. BENCH_RERUN_PROFILE=<dir>: the re-runs' service runs
 * under Bun's sampling profiler (`--cpu-prof-md`, main thread only) and writes its profile
 * there on exit; the service's start-up (check index load) is in it too, the re-runs are the rest.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { api, spawnService, tempDir, type ChildService } from '../support/child-service.ts';
import { admin } from '../support/database.ts';
import { loadCorpus } from './corpus.ts';
import { bankLine, importLines, runTask } from './stall.ts';
import { mainThreadCpuMs, statCpuMs } from './main-thread-cpu.ts';

const N = Number(process.env.BENCH_RERUN_N ?? 200_000);
const RUNS = Number(process.env.BENCH_RERUN_RUNS ?? 3);
const WHICH = process.env.BENCH_RERUN_DB === 'postgres' ? 'postgres' : 'sqlite';
const PG_SERVER = process.env.BENCH_STALL_PG ?? 'postgres://postgres@127.0.0.1:55432/postgres';
const PROFILE_DIR = process.env.BENCH_RERUN_PROFILE;
const log = (line: string) => console.log(line);
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

/** CPU (ms) of every thread of a process but its main thread. */
function otherThreadsCpuMs(pid: number): number {
  let sum = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) if (Number(tid) !== pid) sum += statCpuMs(`/proc/${pid}/task/${tid}/stat`) || 0;
  } catch {
    return Number.NaN;
  }
  return sum;
}

/** The stall bench's rows, through one NDJSON request. */
async function importBank(url: string) {
  await importLines(url, N, bankLine(loadCorpus()));
}

async function pgDatabaseExists(name: string) {
  const client = new pg.Client({ connectionString: PG_SERVER });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length > 0;
  } finally {
    await client.end();
  }
}

async function stop(service: ChildService) {
  service.kill('SIGTERM');
  await service.exited;
}

async function main() {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Bun ${Bun.version}; ${WHICH}, ${N} questions; load average ${load()}`);
  const temp = tempDir('dedup-rerun-');
  const dbFile = process.env.BENCH_RERUN_BANK ?? `${temp.dir}/rerun.sqlite`;
  const pgName = `dedup_rerun_${N}`;
  const pgUrl = (() => {
    const url = new URL(PG_SERVER);
    url.pathname = `/${pgName}`;
    return url.toString();
  })();
  const env: Record<string, string> = { WORKERS: String(cpus().length), LOG_LEVEL: 'info', ...(WHICH === 'postgres' ? { DATABASE_URL: pgUrl } : {}) };
  const keep = WHICH === 'sqlite' && process.env.BENCH_RERUN_BANK !== undefined;
  try {
    let built = keep && existsSync(dbFile);
    if (WHICH === 'postgres') {
      // Kept between invocations like BENCH_RERUN_BANK when BENCH_RERUN_KEEP_PG=1.
      built = process.env.BENCH_RERUN_KEEP_PG === '1' && (await pgDatabaseExists(pgName));
      if (!built) {
        await admin(PG_SERVER, `DROP DATABASE IF EXISTS "${pgName}" WITH (FORCE)`);
        await admin(PG_SERVER, `CREATE DATABASE "${pgName}"`);
      }
    }
    if (!built) {
      const service = await spawnService({ dbFile, env });
      const began = performance.now();
      await importBank(service.url);
      log(`  import: ${((performance.now() - began) / 1000).toFixed(1)} s`);
      const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'rerun bench' })).body.data.id as number;
      const taskBegan = performance.now();
      const task = await runTask(service.url, taskId);
      log(`  first run: ${task.total_groups} groups, ${task.cluster_count} clusters in ${((performance.now() - taskBegan) / 1000).toFixed(1)} s`);
      await stop(service);
    }
    const profiled: Record<string, string> = PROFILE_DIR ? { BUN_OPTIONS: `--cpu-prof-md --cpu-prof-dir=${PROFILE_DIR}` } : {};
    const service = await spawnService({ dbFile, env: { ...env, ...profiled } });
    try {
      await service.waitForLog((line) => line.msg === 'check index loaded', 300_000);
      const taskId = (await api(service.url, 'GET', '/api/dedup/tasks?page_size=1')).body.data.items?.[0]?.id ?? 1;
      const pid = service.proc.pid;
      for (let run = 1; run <= RUNS; run++) {
        await Bun.sleep(500);
        const main0 = mainThreadCpuMs(pid);
        const other0 = otherThreadsCpuMs(pid);
        const began = performance.now();
        const task = await runTask(service.url, taskId);
        const wall = performance.now() - began;
        const mainMs = mainThreadCpuMs(pid) - main0;
        const otherMs = otherThreadsCpuMs(pid) - other0;
        log(
          `  re-run ${run}: ${task.total_groups} groups, ${task.cluster_count} clusters in ${wall.toFixed(0)} ms; main thread ${mainMs.toFixed(0)} ms of CPU = ${((1000 * mainMs) / wall).toFixed(0)} ms/s; other threads ${otherMs.toFixed(0)} ms; load average ${load()}`,
        );
      }
    } finally {
      await stop(service);
    }
    if (PROFILE_DIR) {
      const newest = readdirSync(PROFILE_DIR).filter((name) => name.endsWith('.md')).sort().at(-1);
      if (newest) log(`  profile: ${PROFILE_DIR}/${newest} (${readFileSync(`${PROFILE_DIR}/${newest}`, 'utf8').length} chars)`);
    }
  } finally {
    if (!keep) temp.remove();
    if (WHICH === 'postgres' && process.env.BENCH_RERUN_KEEP_PG !== '1') await admin(PG_SERVER, `DROP DATABASE IF EXISTS "${pgName}" WITH (FORCE)`);
  }
}

await main();
process.exit(0);
