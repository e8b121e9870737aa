/**
 * Main-thread CPU per imported row (`bun test/bench/import-cpu.ts [N=200000] [runs=1]`): the
 * real service on a temporary SQLite file, N bench questions uploaded as NDJSON by a child
 * process, and the service thread's own CPU time around the import. Another process on the
 * machine hardly moves this figure, unlike the wall time, so it is the one to compare
 * variants of the import path by. Each run uses a fresh database; the second pass re-imports
 * the same questions (all unchanged), the path a repeated import takes (`bun
 * test/bench/import-cpu.ts 200000 1 fresh` runs only the first; `warmup,fresh` first imports a
 * quarter as many other rows, so `fresh` is measured in a warm service). IMPORT_ROWS=short imports
 * the short rows of issue 15 instead (~80-character stems over 2,000 groups); `npm run bench`
 * runs that at BENCH_SHORT_N rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/main.ts';
import { NdjsonRowParser } from '../../src/questions/ndjson-rows.ts';
import { loadBenchCorpus, questionAt, shortQuestion } from './corpus.ts';
import { threadCpuByName } from './main-thread-cpu.ts';
import { spawnHealthProbe } from './stall.ts';

const n = Number(process.argv[2] ?? 200_000);
const runs = Number(process.argv[3] ?? 1);
const passes = (process.argv[4] ?? 'fresh,again').split(',');
const corpus = loadBenchCorpus();
const dir = mkdtempSync(join(tmpdir(), 'import-cpu-'));
const file = join(dir, 'bank.ndjson');
// IMPORT_ROWS=short: ~80-character stems over 2,000 groups (the short-row case of issue 15).
const short = process.env.IMPORT_ROWS === 'short';
async function writeRows(path: string, from: number, to: number) {
  const writer = Bun.file(path).writer();
  for (let i = from; i < to; i++) {
    const q = short ? shortQuestion(i) : questionAt(corpus.base, i);
    writer.write(`${JSON.stringify({ external_id: `bench-${i}`, type_name: q.type_name, subject_name: q.subject_name, channel_code: q.channel_code, content: q.content })}\n`);
  }
  await writer.end();
}
await writeRows(file, 0, n);
// The `warmup` pass: a quarter as many other rows of the same groups, imported first so the
// passes after it measure a service whose import path is compiled already, as it is in a
// service that has run for a while (the JIT's work otherwise lands on the first import).
const warmupFile = join(dir, 'warmup.ndjson');
if (passes.includes('warmup')) await writeRows(warmupFile, n, n + Math.ceil(n / 4));

const threadCpuMs = () => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function upload(url: string, body = file) {
  const child = Bun.spawn([process.execPath, new URL('./upload.ts', import.meta.url).pathname, url, body], { stdout: 'pipe', stderr: 'inherit' });
  const output = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error('upload child failed');
  return JSON.parse(output.trim().split('\n').at(-1)!) as { status: number; ms: number; data: Record<string, unknown> };
}

export interface ImportCpuFigure {
  pass: string;
  mainUsPerRow: number;
  processUsPerRow: number;
  rowsPerSecond: number;
  load: number;
  /** monitorEventLoopDelay during the import, ms. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** GET /api/health asked from a thread of its own every 50 ms: the slowest answer, ms. */
  healthMaxMs: number;
  healthP99Ms: number;
  /**
   * The most main-thread CPU spent while one health request waited (from /proc, 10 ms ticks):
   * the service's own stretch, where a slow answer with little CPU is the machine's load.
   */
  healthMaxCpuMs: number;
  /** The longest stretch of main-thread CPU between two firings of a 1 ms timer, and the 99th percentile of stretches over 5 ms. */
  stretchMaxCpuMs: number;
  stretchP99CpuMs: number;
}

/**
 * The main thread's longest stretches, in its own CPU time: a 1 ms timer reads the thread's CPU
 * at each firing, and the CPU between two firings is what ran in between without a turn of the
 * event loop. Unlike the lag and the health answers, the machine's other load hardly moves it
 * (a thread that is not scheduled spends no CPU).
 */
function startStretchMonitor() {
  const stretches: number[] = [];
  let last = threadCpuMs();
  const timer = setInterval(() => {
    const now = threadCpuMs();
    if (now - last > 5) stretches.push(now - last);
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    stretches.sort((a, b) => a - b);
    return { max: stretches.at(-1) ?? 0, p99: stretches[Math.floor(0.99 * (stretches.length - 1))] ?? 0 };
  };
}

/**
 * Health probes from a process of their own (stall-probe.ts): not from a thread of this one, whose
 * fetch shares Bun's one HTTP client thread with the import's upload and would wait behind it.
 */
function startHealthProbe(url: string) {
  const stopProbe = spawnHealthProbe(url, process.pid, 50);
  return async () => {
    const samples = await stopProbe();
    const answers: number[] = [];
    let maxCpu = 0;
    for (let i = 0; i < samples.length; i += 3) {
      answers.push(samples[i + 1]! - samples[i]!);
      maxCpu = Math.max(maxCpu, samples[i + 2]!);
    }
    answers.sort((a, b) => a - b);
    return { max: answers.at(-1) ?? 0, p99: answers[Math.floor(0.99 * (answers.length - 1))] ?? 0, maxCpu, count: answers.length };
  };
}
const figures: ImportCpuFigure[] = [];

/**
 * The parsing thread's work a row (decode, split, JSON.parse, validate, hash, pack), run here
 * on this thread over the same file in 64 KB chunks as the service sends it: it must keep up
 * with the main thread on the other core.
 */
async function parsingUsPerRow(): Promise<number> {
  const bytes = new Uint8Array(await Bun.file(file).arrayBuffer());
  const parser = new NdjsonRowParser(1024 * 1024);
  const began = threadCpuMs();
  let rows = 0;
  for (let offset = 0; offset < bytes.length; offset += 65536) rows += parser.push(bytes.subarray(offset, offset + 65536)).rows.count;
  rows += parser.end().rows.count;
  return ((threadCpuMs() - began) * 1000) / rows;
}
console.log(`${n} ${short ? 'short ' : ''}rows (${short ? '~80-character stems over 2,000 groups' : corpus.source}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`  NDJSON parsing thread's work, on one thread: ${(await parsingUsPerRow()).toFixed(2)} µs a row`);
for (let run = 0; run < runs; run++) {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, `run-${run}.sqlite`)}`, LOG_LEVEL: 'silent' });
  const service = await startService(config);
  try {
    for (const pass of passes) {
      const lag = monitorEventLoopDelay({ resolution: 10 });
      const stopProbe = startHealthProbe(service.url);
      const stopStretches = startStretchMonitor();
      lag.enable();
      const threads0 = threadCpuByName();
      const cpu0 = threadCpuMs();
      const process0 = process.cpuUsage();
      const answer = await upload(service.url, pass === 'warmup' ? warmupFile : file);
      const rowsSent = pass === 'warmup' ? Math.ceil(n / 4) : n;
      const cpu = threadCpuMs() - cpu0;
      const processCpu = process.cpuUsage(process0);
      const threads1 = threadCpuByName();
      lag.disable();
      const health = await stopProbe();
      const stretches = stopStretches();
      const { inserted, updated, unchanged } = answer.data as { inserted: number; updated: number; unchanged: number };
      const figure: ImportCpuFigure = {
        pass,
        mainUsPerRow: (cpu * 1000) / rowsSent,
        processUsPerRow: (processCpu.user + processCpu.system) / rowsSent,
        rowsPerSecond: Math.round(rowsSent / (answer.ms / 1000)),
        load: loadavg()[0]!,
        lagP99Ms: lag.percentile(99) / 1e6,
        lagMaxMs: lag.max / 1e6,
        healthMaxMs: health.max,
        healthP99Ms: health.p99,
        healthMaxCpuMs: health.maxCpu,
        stretchMaxCpuMs: stretches.max,
        stretchP99CpuMs: stretches.p99,
      };
      figures.push(figure);
      console.log(
        `  ${pass}: ${figure.mainUsPerRow.toFixed(2)} µs main-thread CPU a row (process ${figure.processUsPerRow.toFixed(2)} µs), ` +
          `${figure.rowsPerSecond} q/s, lag p99 ${figure.lagP99Ms.toFixed(0)} ms (max ${figure.lagMaxMs.toFixed(0)}), /api/health answered in at most ${figure.healthMaxMs.toFixed(0)} ms (p99 ${figure.healthP99Ms.toFixed(0)}, ${health.count} probes; at most ${figure.healthMaxCpuMs} ms of main-thread CPU while one waited); ` +
          `longest stretch of main-thread CPU ${figure.stretchMaxCpuMs.toFixed(0)} ms (p99 of those over 5 ms: ${figure.stretchP99CpuMs.toFixed(0)}); ` +
          `status ${answer.status}, inserted ${inserted}, updated ${updated}, unchanged ${unchanged}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
      );
      // Where the process's CPU went, by thread (10 ms ticks): "bun" is the main thread, then the
      // NDJSON parser, the WAL checkpointer (sqlite-ckpt), Bun's own (mi-scavenger returns freed memory to the system).
      const byThread = [...threads1].map(([name, ms]) => [name, ms - (threads0.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0);
      byThread.sort((a, b) => b[1] - a[1]);
      console.log(`    CPU a row by thread: ${byThread.map(([name, ms]) => `${name} ${((ms * 1000) / rowsSent).toFixed(1)} µs`).join(', ')}`);
    }
  } finally {
    await service.close();
  }
}
rmSync(dir, { recursive: true, force: true });
// For run.ts (npm run bench), which runs this file as a child: the figures as the last line.
if (process.env.IMPORT_CPU_JSON === '1') console.log(JSON.stringify(figures));
process.exit(0);
