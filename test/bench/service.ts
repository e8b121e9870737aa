/**
 * The service end to end, in this process (so the event-loop lag measured
 * here is the service's own): import N questions through the NDJSON
 * endpoint, run one dedup task over all groups, record wall time, peak RSS
 * (the pool's worker threads included) and event-loop delay p99; then import
 * 1 % more and run the same task again (it reuses each group's decisions).
 * Run as its own process (`bun test/bench/service.ts N`, as run.ts does) so
 * the RSS is the service's alone; the last line printed is the JSON figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/config.ts';
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

function ndjsonBody(corpus: Corpus, n: number, from = 0): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = from;
  return new ReadableStream({
    pull(controller) {
      if (i >= n) {
        controller.close();
        return;
      }
      let chunk = '';
      for (const end = Math.min(n, i + 2000); i < end; i++) {
        const q = questionAt(corpus.base, i);
        chunk += `${JSON.stringify({ external_id: `bench-${i}`, type_name: q.type_name, subject_name: q.subject_name, channel_code: q.channel_code, content: q.content })}\n`;
      }
      controller.enqueue(encoder.encode(chunk));
    },
  });
}

async function importNdjson(url: string, corpus: Corpus, n: number, from = 0): Promise<{ inserted: number; rejected: unknown[] }> {
  const imported = await fetch(`${url}/api/questions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: ndjsonBody(corpus, n, from),
    // @ts-expect-error Bun and Node need this for a streamed request body
    duplex: 'half',
  });
  const result = (await imported.json()) as { data: { inserted: number; rejected: unknown[] } };
  if (!imported.ok) throw new Error(`import failed: ${imported.status} ${JSON.stringify(result)}`);
  return result.data;
}

interface TaskEnd {
  status: string;
  total_groups: number;
  cluster_count: number;
  error: string | null;
}

/** Starts the task and waits for its end; wall time in ms. */
async function runTask(url: string, id: number): Promise<{ ms: number; done: TaskEnd }> {
  const t0 = performance.now();
  await api(`${url}/api/dedup/tasks/${id}/start`, 'POST');
  for (;;) {
    const done = await api<TaskEnd>(`${url}/api/dedup/tasks/${id}`, 'GET');
    if (done.status !== 'running' && done.status !== 'pending') {
      if (done.status !== 'completed') throw new Error(`task ended ${done.status}: ${done.error}`);
      return { ms: performance.now() - t0, done };
    }
    await Bun.sleep(100);
  }
}

async function api<T>(url: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = (await response.json()) as { code: number; message: string; data: T };
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${payload.message}`);
  return payload.data;
}

export async function runServiceBench(corpus: Corpus, log: (line: string) => void, n: number): Promise<ServiceFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-bench-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'bench.sqlite')}`, LOG_LEVEL: 'silent' });
  const service = await startService(config);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 250);
  try {
    lag.enable();
    const t0 = performance.now();
    const result = { data: await importNdjson(service.url, corpus, n) };
    lag.disable();
    const importMs = performance.now() - t0;
    const importLagP99Ms = lag.percentile(99) / 1e6;
    let lagMax = lag.max;
    lag.reset();
    log(`  import ${n} questions (NDJSON): ${(importMs / 1000).toFixed(1)} s, inserted ${result.data.inserted}, rejected ${result.data.rejected.length}`);

    const task = await api<{ id: number }>(`${service.url}/api/dedup/tasks`, 'POST', { task_name: `bench ${n}` });
    lag.enable();
    const { ms: taskMs, done } = await runTask(service.url, task.id);
    lag.disable();
    const taskLagP99Ms = lag.percentile(99) / 1e6;
    lagMax = Math.max(lagMax, lag.max);

    // 1 % more questions, then the same task again: prints and decisions of unchanged questions are reused.
    const more = Math.max(1, Math.round(n / 100));
    await importNdjson(service.url, corpus, more, n);
    const { ms: rerunMs } = await runTask(service.url, task.id);
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
    log(`  the same task after importing ${more} more questions (1 %): ${(rerunMs / 1000).toFixed(1)} s = ${(100 * rerunMs / taskMs).toFixed(1)} % of the first run`);
    log(`  peak RSS ${figures.peakRssMb.toFixed(0)} MB; event-loop delay p99 ${importLagP99Ms.toFixed(1)} ms during import, ${figures.taskLagP99Ms.toFixed(1)} ms during the task (max ${figures.lagMaxMs.toFixed(0)} ms)`);
    return figures;
  } finally {
    clearInterval(sampler);
    lag.disable();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { loadCorpus } = await import('./corpus.ts');
  const figures = await runServiceBench(loadCorpus(), (line) => console.log(line), Number(process.argv[2] ?? 100_000));
  console.log(JSON.stringify(figures));
  process.exit(0);
}
