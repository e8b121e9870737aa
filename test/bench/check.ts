/**
 * The check lookup on a bank of N questions (default 1,000,000): prints are
 * computed on worker threads, indexed, then single checks are timed, text
 * reads served from the same deterministic corpus (the route reads them
 * from the database instead: a primary-key IN over a handful of ids).
 */
import { availableParallelism } from 'node:os';
import { CheckIndex, checkGroup, checkOnThisThread, checkQuestion, type TextLoader } from '../../src/dedup/check.ts';
import { FINGERPRINT_WORDS } from '../../workers/protocol.ts';
import { prng } from '../engine/evalset.ts';
import { nearCopy, questionAt, type Corpus } from './corpus.ts';

export interface CheckFigures {
  bank: number;
  printMs: number;
  buildMs: number;
  p50: number;
  p95: number;
  meanHits: number;
  rssMb: number;
}

async function bankPrints(n: number): Promise<Uint32Array> {
  const threads = Math.max(1, Math.min(4, availableParallelism()));
  const out = new Uint32Array(n * FINGERPRINT_WORDS);
  const chunk = 20_000;
  let next = 0;
  await Promise.all(Array.from({ length: threads }, async () => {
    const worker = new Worker(new URL('./print-batch.worker.ts', import.meta.url).href);
    try {
      while (next < n) {
        const from = next;
        const to = Math.min(n, from + chunk);
        next = to;
        const part = await new Promise<Uint32Array>((resolve, reject) => {
          worker.onmessage = (e: MessageEvent<Uint32Array>) => resolve(e.data);
          worker.onerror = (e) => reject(new Error(e.message));
          worker.postMessage({ from, to });
        });
        out.set(part, from * FINGERPRINT_WORDS);
      }
    } finally {
      worker.terminate();
    }
  }));
  return out;
}

export async function runCheckBench(corpus: Corpus, log: (line: string) => void, n: number, queries = 300): Promise<CheckFigures> {
  const base = corpus.base;
  let t0 = performance.now();
  const prints = await bankPrints(n);
  const printMs = performance.now() - t0;
  const index = new CheckIndex();
  for (let i = 0; i < n; i++) {
    const q = questionAt(base, i);
    index.upsert(i + 1, checkGroup(q.type_name, q.subject_name, q.channel_code), prints, i * FINGERPRINT_WORDS);
  }
  t0 = performance.now();
  index.build();
  const buildMs = performance.now() - t0;

  const load: TextLoader = async (ids) => new Map(ids.map((id) => {
    const q = questionAt(base, id - 1);
    return [id, { content: q.content, options: null, version: '' }] as const;
  }));
  // The calling thread, no text data kept: the CPU of each check on its own.
  const work = checkOnThisThread();
  const times: number[] = [];
  let hits = 0;
  for (let k = 0; k < queries; k++) {
    // Half brand-new questions, half edited or reformatted copies of stored ones.
    const q = k % 2 === 0 ? questionAt(base, n + k) : nearCopy(questionAt(base, (k * 7919) % n), prng(k));
    const s = performance.now();
    const found = await checkQuestion(index, { ...q, options: null }, {}, load, work);
    times.push(performance.now() - s);
    hits += found.length;
  }
  times.sort((a, b) => a - b);
  const figures: CheckFigures = {
    bank: n,
    printMs,
    buildMs,
    p50: times[Math.floor(times.length * 0.5)]!,
    p95: times[Math.floor(times.length * 0.95)]!,
    meanHits: hits / queries,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
  log(`check on a bank of ${n} (${corpus.source}): prints ${(printMs / 1000).toFixed(1)} s on worker threads, index build ${buildMs.toFixed(0)} ms`);
  log(`  ${queries} checks: p50 ${figures.p50.toFixed(2)} ms, p95 ${figures.p95.toFixed(2)} ms, ${figures.meanHits.toFixed(1)} hits each; RSS ${figures.rssMb.toFixed(0)} MB`);
  return figures;
}
