/**
 * How long a main-connection write waits for SQLite's write lock while the FTS5 search indexer
 * (src/db/sqlite-search-indexer.ts) works through a freshly imported bank (issue 13: `POST …/review`
 * p95 470 ms on the 1M bench). Imports N questions into a SQLite file, then, while the indexer runs,
 * times small write transactions (a review's size) on the main connection, one every few ms, and
 * prints p50/p95/max of the wait, with how far the indexer got.
 *   bun test/bench/write-wait.ts [N=100000] [writes=400]
 */
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, migrateToLatest } from '../../src/db/connect.ts';
import { upsertQuestions } from '../../src/questions/question.repository.ts';
import { questionInput } from '../../src/questions/question.schema.ts';
import { loadCorpus } from './corpus.ts';

const n = Number(process.argv[2] ?? 100_000);
const writes = Number(process.argv[3] ?? 400);
const dir = mkdtempSync(join(tmpdir(), 'dedup-write-wait-'));
const handle = await connectDatabase(`sqlite:${join(dir, 'bank.sqlite')}`);
try {
  await migrateToLatest(handle);
  const { db } = handle;
  const corpus = loadCorpus();
  for (let start = 0; start < n; start += 2000) {
    const batch = Array.from({ length: Math.min(2000, n - start) }, (_, k) => {
      const q = corpus.base[(start + k) % corpus.base.length]!;
      return questionInput.parse({ external_id: `w${start + k}`, type_name: '单选题', subject_name: '数学', channel_code: 'c', content: `${q.content} (${start + k})` });
    });
    await upsertQuestions(db, batch, new Date().toISOString());
  }
  const mark = async () => Number((await sql<{ m: number }>`SELECT indexed_through AS m FROM question_search_state`.execute(db)).rows[0]!.m);
  // The indexer starts once imports have been quiet for a round.
  while ((await mark()) === 0) await Bun.sleep(50);
  const from = await mark();
  const waits: number[] = [];
  for (let k = 0; k < writes; k++) {
    const t = performance.now();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('questions').set({ updated_at: new Date().toISOString() }).where('id', '=', 1 + (k % n)).execute();
    });
    waits.push(performance.now() - t);
    await Bun.sleep(5);
  }
  const to = await mark();
  waits.sort((a, b) => a - b);
  const p = (q: number) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))]!.toFixed(1);
  console.log(`${writes} write transactions while the indexer went from ${from} to ${to} of ${n}: p50 ${p(0.5)} ms, p95 ${p(0.95)} ms, max ${waits.at(-1)!.toFixed(1)} ms (load ${loadavg()[0]!.toFixed(2)})`);
} finally {
  await handle.db.destroy();
  rmSync(dir, { recursive: true, force: true });
}
