/**
 * Review bench (issue 13), the service in this process on a SQLite file:
 *  1. what 100,000 remembered decisions cost a large run: after a first run that stores the prints,
 *     fresh tasks over N questions without decisions and with each of two mixes of 100,000, alternated
 *     (BENCH_REVIEW_ROUNDS, default 2: none, stress, reviews, then reviews, stress, none), each run's wall time
 *     and the CPU time of the main thread and of the other threads (the pool) printed; the share is the mean
 *     with against the mean without. Mixes: `reviews` is what reviewing a run's clusters makes (the figure the
 *     issue's target is about), `stress` the mix first measured (a third duplicates between strangers). Each
 *     mix's verdict lookup of every group is timed alone too;
 *  2. review pages and filters of a task with 100,000 clusters: p50/p95/max of each over HTTP.
 * `bun test/bench/review.ts N` (default 1,000,000); run.ts calls it with BENCH_REVIEW_N.
 * The last line printed is the JSON figures.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { loadConfig } from '../../src/config.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import type { Database } from '../../src/db/schema.ts';
import { startService } from '../../src/main.ts';
import { loadGroupVerdicts, verdictScope } from '../../src/review/pair-decisions.repository.ts';
import { loadCorpus, type Corpus } from './corpus.ts';
import { mainThreadCpuMs, statCpuMs } from './main-thread-cpu.ts';
import { writeNdjson } from './service.ts';

/** One fresh run: wall time from start to task_completed, CPU of the main thread and of every other thread meanwhile. */
export interface RunFigure {
  ms: number;
  mainCpuMs: number;
  otherCpuMs: number;
  clusters: number;
}

export interface MixFigures {
  decisions: number;
  /** (mean with − mean without) / mean without, of wall time and of each CPU share. */
  wallShare: number;
  mainCpuShare: number;
  otherCpuShare: number;
  /** Every group's verdict lookup, timed alone. */
  lookupMs: number;
  runs: RunFigure[];
}

export interface ReviewFigures {
  questions: number;
  decisions: number;
  /** none (the runs without), reviews (what reviewing makes), stress (the figure measured first). */
  mixes: Partial<Record<'none' | 'reviews' | 'stress', MixFigures>>;
  clusters: number;
  /** Per request kind: p50, p95, max in ms. */
  pages: Record<string, { p50: number; p95: number; max: number }>;
}

const DECISIONS = 100_000;
const CLUSTERS = 100_000;
const SAMPLES = 40;

async function api<T>(url: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = (await response.json()) as { message: string; data: T };
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${payload.message}`);
  return payload.data;
}

/** A fresh task over the whole bank, timed from the start request to task_completed. */
async function freshRun(url: string, name: string): Promise<{ ms: number; id: number; clusters: number }> {
  const { id } = await api<{ id: number }>(`${url}/api/dedup/tasks`, 'POST', { task_name: name });
  const socket = io(url, { transports: ['websocket'] });
  try {
    const ended = new Promise<{ cluster_count: number }>((resolve, reject) => {
      socket.on('task_completed', (event: { task_id: number; data: { cluster_count: number } }) => event.task_id === id && resolve(event.data));
      socket.on('task_error', (event: { task_id: number; error: string }) => event.task_id === id && reject(new Error(event.error)));
    });
    await new Promise<void>((resolve, reject) => socket.emit('join_task', { task_id: id }, (answer: { ok: boolean; message?: string }) => (answer.ok ? resolve() : reject(new Error(answer.message)))));
    const t0 = performance.now();
    await api(`${url}/api/dedup/tasks/${id}/start`, 'POST');
    const done = await ended;
    return { ms: performance.now() - t0, id, clusters: done.cluster_count };
  } finally {
    socket.close();
  }
}

/** Copies a mix of pairs (x, y, verdict) into a bench table shaped like pair_decisions, each pair once, smaller id first. */
async function plant(db: Kysely<Database>, table: string, pairs: RawBuilder<unknown>, now: string) {
  await sql`CREATE TABLE IF NOT EXISTS ${sql.table(table)} AS SELECT * FROM pair_decisions WHERE 0`.execute(db);
  await sql`CREATE UNIQUE INDEX IF NOT EXISTS ${sql.raw(`${table}_pair`)} ON ${sql.table(table)} (question_a, question_b)`.execute(db);
  await sql`INSERT OR IGNORE INTO ${sql.table(table)} (id, question_a, question_b, verdict, row_hash_a, row_hash_b, type_name, subject_name, channel_a, channel_b, decided_by, decided_at, note, lapsed)
    SELECT NULL, qa.id, qb.id, p.verdict, qa.row_hash, qb.row_hash, qa.type_name, qa.subject_name, qa.channel_code, qb.channel_code, 'bench', ${now}, NULL, 0
    FROM (${pairs}) p JOIN questions qa ON qa.id = MIN(p.x, p.y) JOIN questions qb ON qb.id = MAX(p.x, p.y)
    WHERE p.x <> p.y`.execute(db);
  // Ids in the order planted, as the decisions table would give them.
  await sql`UPDATE ${sql.table(table)} SET id = rowid WHERE id IS NULL`.execute(db);
}

const countOf = async (db: Kysely<Database>, table: string) => Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM ${sql.table(table)}`.execute(db)).rows[0]!.n);

/** CPU time so far of this process's main thread and of all its other threads (live and ended), from /proc. */
function threadCpuMs(): { main: number; other: number } {
  const main = mainThreadCpuMs(process.pid);
  return { main, other: statCpuMs('/proc/self/stat') - main };
}

/** Every group's verdict lookup, each timed alone, as the runner does it (the ids of the whole bank stand in for a job's). */
async function lookupAll(db: Kysely<Database>, taskId: number, n: number) {
  const groups = await db.selectFrom('dedup_task_groups').select(['type_name', 'subject_name', 'channel_code']).where('task_id', '=', taskId).execute();
  const ids = Float64Array.from({ length: n }, (_, k) => k + 1);
  const t0 = performance.now();
  const cpu0 = threadCpuMs().main;
  let held = 0;
  let slowest = 0;
  for (const group of groups) {
    const g0 = performance.now();
    const verdicts = await loadGroupVerdicts(db, verdictScope(group, false), ids);
    slowest = Math.max(slowest, performance.now() - g0);
    held += (verdicts.distinct.length + verdicts.duplicate.length) / 2;
  }
  return { ms: performance.now() - t0, cpuMs: threadCpuMs().main - cpu0, held, slowest, groups: groups.length };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function runReviewBench(corpus: Corpus, log: (line: string) => void, n: number): Promise<ReviewFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-review-bench-'));
  const file = join(dir, 'bank.ndjson');
  await writeNdjson(corpus, n, file);
  const databaseUrl = `sqlite:${join(dir, 'bench.sqlite')}`;
  const service = await startService(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' }));
  // A second connection for what no route does: plant 100,000 decisions and a 100,000-cluster task.
  // Without background threads: the service's connection checkpoints and indexes (a second indexer would not step aside for the service's writes).
  const { db } = await connectDatabase(databaseUrl, { background: false });
  const now = new Date().toISOString();
  try {
    log(`  load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const upload = Bun.spawn([process.execPath, new URL('./upload.ts', import.meta.url).pathname, service.url, file], { stdout: 'pipe', stderr: 'inherit' });
    const uploaded = JSON.parse((await new Response(upload.stdout).text()).trim().split('\n').at(-1)!) as { status: number; ms: number };
    if (uploaded.status !== 201) throw new Error(`import failed: ${uploaded.status}`);
    log(`  imported ${n} questions in ${(uploaded.ms / 1000).toFixed(1)} s`);

    // 1. (BENCH_REVIEW_RUNS=0 skips it) Fresh runs without decisions and with each mix of 100,000, alternated
    //    (BENCH_REVIEW_ROUNDS rounds of none, stress, reviews then reviews, stress, none, ...), after a first run
    //    that stores every print (each later fresh run reads them instead of computing them, so it is not compared).
    let decisions = 0;
    const mixes: ReviewFigures['mixes'] = {};
    if (process.env.BENCH_REVIEW_RUNS !== '0') {
      const warm = await freshRun(service.url, 'stores the prints');
      log(`  first run (computes and stores every print; not compared): ${(warm.ms / 1000).toFixed(1)} s, ${warm.clusters} clusters`);
      // Pairs of neighbours (by id) inside one group, spread over the bank: every step-th question.
      const step = Math.max(2, Math.floor(n / DECISIONS));
      const neighbours = (offset: number, duplicateWhen: string, limit: number) =>
        sql`SELECT a.id AS x, b.id AS y, CASE WHEN ${sql.raw(duplicateWhen)} THEN 'duplicate' ELSE 'distinct' END AS verdict
          FROM questions a JOIN questions b ON b.id = (SELECT MIN(c.id) FROM questions c WHERE c.type_name = a.type_name AND c.subject_name = a.subject_name AND c.channel_code = a.channel_code AND c.id > a.id)
          WHERE a.id % ${step} = ${offset} LIMIT ${limit}`;
      // The stress mix (the figure measured since issue 13 began): a third duplicate, mostly between strangers, which
      // merges clusters and makes new ones; two thirds distinct, mostly between questions never in one cluster.
      await plant(db, 'bench_stress', neighbours(0, 'a.id % 3 = 0', DECISIONS), now);
      // The reviews mix: what reviewing proposed clusters makes (as test/bench/verdicts.ts): half the decisions from
      // clusters of a run, spread over the bank, each confirmed (50 %), dismissed (30 %) or with one member rejected
      // (20 %); the rest distinct pairs of neighbours (decided in tasks with looser options) and 0.5 % duplicates of strangers.
      await plant(
        db,
        'bench_reviews',
        sql`SELECT * FROM (SELECT c.canonical_question_id AS x, m.question_id AS y, CASE WHEN c.id % 10 < 5 THEN 'duplicate' ELSE 'distinct' END AS verdict
          FROM dedup_clusters c JOIN dedup_cluster_members m ON m.cluster_id = c.id
          WHERE c.task_id = ${warm.id} AND m.question_id <> c.canonical_question_id
            AND (c.id % 10 < 8 OR m.question_id = (SELECT MIN(o.question_id) FROM dedup_cluster_members o WHERE o.cluster_id = c.id AND o.question_id <> c.canonical_question_id))
          ORDER BY (c.id * 7919) % 100003, m.question_id LIMIT ${DECISIONS / 2})`,
        now,
      );
      const reviewed = await countOf(db, 'bench_reviews');
      await plant(db, 'bench_reviews', neighbours(1, 'a.id % 200 = 1', DECISIONS - reviewed), now);
      const mixNames = { stress: 'bench_stress', reviews: 'bench_reviews' } as const;
      const describe = async (table: string) => {
        const { rows } = await sql<{ verdict: string; n: number }>`SELECT verdict, COUNT(*) AS n FROM ${sql.table(table)} GROUP BY verdict ORDER BY verdict`.execute(db);
        return rows.map((row) => `${row.n} ${row.verdict}`).join(', ');
      };
      log(`  mixes: stress ${await describe('bench_stress')}; reviews ${await describe('bench_reviews')} (${reviewed} of them from ${warm.id}'s clusters)`);

      const rounds = Math.max(1, Number(process.env.BENCH_REVIEW_ROUNDS ?? 2));
      const order: ('none' | keyof typeof mixNames)[] = [];
      for (let round = 0; round < rounds; round++) order.push(...(round % 2 === 0 ? (['none', 'stress', 'reviews'] as const) : (['reviews', 'stress', 'none'] as const)));
      const runs: Record<string, RunFigure[]> = { none: [], stress: [], reviews: [] };
      for (const mix of order) {
        await db.deleteFrom('pair_decisions').execute();
        if (mix !== 'none') await sql`INSERT INTO pair_decisions SELECT * FROM ${sql.table(mixNames[mix])}`.execute(db);
        decisions = Math.max(decisions, await countOf(db, 'pair_decisions'));
        const cpu0 = threadCpuMs();
        const run = await freshRun(service.url, `decisions: ${mix}`);
        const cpu1 = threadCpuMs();
        const figure: RunFigure = { ms: run.ms, mainCpuMs: cpu1.main - cpu0.main, otherCpuMs: cpu1.other - cpu0.other, clusters: run.clusters };
        runs[mix]!.push(figure);
        log(`  fresh run, decisions ${mix.padEnd(7)}: ${(figure.ms / 1000).toFixed(1)} s wall, CPU main thread ${(figure.mainCpuMs / 1000).toFixed(1)} s, other threads ${(figure.otherCpuMs / 1000).toFixed(1)} s, ${figure.clusters} clusters (load ${loadavg()[0]!.toFixed(2)})`);
      }
      await db.deleteFrom('pair_decisions').execute();
      const mean = (list: RunFigure[], of: (run: RunFigure) => number) => list.reduce((sum, run) => sum + of(run), 0) / list.length;
      const base = runs.none!;
      const spread = (Math.max(...base.map((run) => run.ms)) - Math.min(...base.map((run) => run.ms))) / mean(base, (run) => run.ms);
      for (const mix of ['reviews', 'stress'] as const) {
        const table = mixNames[mix];
        await db.deleteFrom('pair_decisions').execute();
        await sql`INSERT INTO pair_decisions SELECT * FROM ${sql.table(table)}`.execute(db);
        const lookup = await lookupAll(db, warm.id, n);
        await db.deleteFrom('pair_decisions').execute();
        const share = (of: (run: RunFigure) => number) => (mean(runs[mix]!, of) - mean(base, of)) / mean(base, of);
        mixes[mix] = {
          decisions: await countOf(db, table),
          wallShare: share((run) => run.ms),
          mainCpuShare: share((run) => run.mainCpuMs),
          otherCpuShare: share((run) => run.otherCpuMs),
          lookupMs: lookup.ms,
          runs: runs[mix]!,
        };
        const f = mixes[mix]!;
        log(
          `  ${mix} mix: ${f.decisions} decisions add ${(100 * f.wallShare).toFixed(1)} % wall (runs without differ by ${(100 * spread).toFixed(1)} %), ` +
            `${(100 * f.mainCpuShare).toFixed(1)} % main-thread CPU, ${(100 * f.otherCpuShare).toFixed(1)} % other threads' CPU; ` +
            `every group's verdict lookup alone: ${lookup.ms.toFixed(0)} ms (${lookup.cpuMs.toFixed(0)} ms CPU) for ${lookup.held} holding pairs over ${lookup.groups} groups (slowest ${lookup.slowest.toFixed(0)} ms)`,
        );
      }
      mixes.none = { decisions: 0, wallShare: 0, mainCpuShare: 0, otherCpuShare: 0, lookupMs: 0, runs: base };
    }

    // 2. A task with 100,000 clusters of 2 members, in 10 groups, a fifth of them reviewed.
    const { id: taskId } = await api<{ id: number }>(`${service.url}/api/dedup/tasks`, 'POST', { task_name: '100,000 clusters' });
    const pairs = Math.min(CLUSTERS, Math.floor(n / 2));
    for (let g = 0; g < 10; g++) {
      await db.insertInto('dedup_task_groups').values({ task_id: taskId, type_name: '单选题', subject_name: `bench-${g}`, channel_code: 'default', status: 'done', question_count: (2 * pairs) / 10 }).execute();
    }
    const groupIds = (await db.selectFrom('dedup_task_groups').select('id').where('task_id', '=', taskId).orderBy('id').execute()).map((row) => row.id);
    await sql`INSERT INTO dedup_clusters (task_id, group_id, canonical_question_id, member_count, run_number, review_state, min_similarity, reviewed_by, reviewed_at)
      SELECT ${taskId}, ${groupIds[0]!} + ((id / 2) % 10), id, 2, 1,
        CASE id % 50 WHEN 1 THEN 'confirmed' WHEN 3 THEN 'confirmed' WHEN 5 THEN 'dismissed' WHEN 7 THEN 'partial' ELSE CASE WHEN id % 10 = 9 THEN 'confirmed' ELSE 'unreviewed' END END,
        0.8 + (id % 200) / 1000.0, NULL, NULL
      FROM questions WHERE id % 2 = 1 AND id < ${2 * pairs}`.execute(db);
    await sql`INSERT INTO dedup_cluster_members (cluster_id, task_id, question_id, distance, similarity)
      SELECT id, task_id, canonical_question_id, 0, 1 FROM dedup_clusters WHERE task_id = ${taskId}
      UNION ALL SELECT id, task_id, canonical_question_id + 1, 2, min_similarity FROM dedup_clusters WHERE task_id = ${taskId}`.execute(db);
    const counts = await db.selectFrom('dedup_clusters').select(['review_state', (eb) => eb.fn.countAll<number>().as('n')]).where('task_id', '=', taskId).groupBy('review_state').execute();
    const count = (state: string) => Number(counts.find((row) => row.review_state === state)?.n ?? 0);
    const clusters = counts.reduce((sum, row) => sum + Number(row.n), 0);
    await db
      .updateTable('dedup_tasks')
      .set({ status: 'completed', cluster_count: clusters, reviewed_cluster_count: clusters - count('unreviewed'), confirmed_cluster_count: count('confirmed'), dismissed_cluster_count: count('dismissed'), finished_at: now })
      .where('id', '=', taskId)
      .execute();
    log(`  task with ${clusters} clusters: ${count('unreviewed')} unreviewed, ${count('confirmed')} confirmed, ${count('dismissed')} dismissed, ${count('partial')} partial`);
    // Decisions to page through as well.
    await sql`INSERT INTO pair_decisions (question_a, question_b, verdict, row_hash_a, row_hash_b, type_name, subject_name, channel_a, channel_b, decided_by, decided_at, note)
      SELECT a.id, a.id + 1, 'duplicate', a.row_hash, b.row_hash, a.type_name, a.subject_name, a.channel_code, b.channel_code, 'bench', ${now}, NULL
      FROM questions a JOIN questions b ON b.id = a.id + 1 WHERE a.id % 2 = 1 AND a.id < ${2 * DECISIONS}`.execute(db);

    const base = `${service.url}/api/dedup/tasks/${taskId}/clusters`;
    const deep = Math.floor(pairs / 20) - 10;
    const requests: Record<string, () => string> = {
      'clusters page 1': () => `${base}?page=1&page_size=20`,
      [`clusters page ${deep} (deep)`]: () => `${base}?page=${deep}&page_size=20`,
      'review=unreviewed': () => `${base}?review=unreviewed&page_size=20`,
      'review=confirmed': () => `${base}?review=confirmed&page_size=20`,
      'review=dismissed': () => `${base}?review=dismissed&page_size=20`,
      'review=partial': () => `${base}?review=partial&page_size=20`,
      'review=unreviewed, page 2000': () => `${base}?review=unreviewed&page=2000&page_size=20`,
      'min_similarity=0.9&max_similarity=0.95': () => `${base}?min_similarity=0.9&max_similarity=0.95&page_size=20`,
      'review=confirmed&min_similarity=0.95': () => `${base}?review=confirmed&min_similarity=0.95&page_size=20`,
      'include=questions (50 a page)': () => `${base}?include=questions&page_size=50`,
      'type_name + subject_name': () => `${base}?type_name=单选题&subject_name=bench-3&page_size=20`,
      'task record (review counts)': () => `${service.url}/api/dedup/tasks/${taskId}`,
      'decisions page 1': () => `${service.url}/api/dedup/decisions?page_size=50`,
      'decisions lapsed=true (checks every decision)': () => `${service.url}/api/dedup/decisions?lapsed=true&page_size=50`,
      'decisions of one question': () => `${service.url}/api/dedup/decisions?question_id=${2 * Math.floor(Math.random() * DECISIONS) + 1}`,
    };
    const pages: ReviewFigures['pages'] = {};
    for (const [name, url] of Object.entries(requests)) {
      const times: number[] = [];
      for (let k = 0; k < SAMPLES + 3; k++) {
        const t = performance.now();
        const response = await fetch(url());
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${name}: ${response.status}`);
        if (k >= 3) times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      pages[name] = { p50: percentile(times, 50), p95: percentile(times, 95), max: times.at(-1)! };
    }
    // A review writes: its own latency, on clusters spread over the task. The FTS5 search indexer's thread
    // (sqlite-search-indexer.ts) writes too, once imports are quiet: say how far it was, since a review waits for its lock.
    const indexed = async () => {
      const { rows } = await sql<{ through: number; top: number }>`SELECT (SELECT indexed_through FROM question_search_state) AS through, (SELECT max(id) FROM questions) AS top`.execute(db);
      return `${rows[0]!.through} of ${rows[0]!.top} questions`;
    };
    const indexedBefore = await indexed();
    const writes: number[] = [];
    for (let k = 0; k < SAMPLES; k++) {
      const clusterId = (await db.selectFrom('dedup_clusters').select('id').where('task_id', '=', taskId).orderBy('id').offset(k * Math.floor(clusters / SAMPLES)).limit(1).executeTakeFirstOrThrow()).id;
      const t = performance.now();
      await api(`${base}/${clusterId}/review`, 'POST', { action: k % 2 === 0 ? 'confirm' : 'dismiss' });
      writes.push(performance.now() - t);
    }
    writes.sort((a, b) => a - b);
    pages['POST review (confirm / dismiss)'] = { p50: percentile(writes, 50), p95: percentile(writes, 95), max: writes.at(-1)! };
    log(`  search index during the POST reviews: ${indexedBefore} indexed before, ${await indexed()} after`);
    log(`  request (${SAMPLES} each, over HTTP on localhost)            p50      p95      max   (ms)`);
    for (const [name, figure] of Object.entries(pages)) {
      log(`    ${name.padEnd(50)} ${figure.p50.toFixed(1).padStart(7)}  ${figure.p95.toFixed(1).padStart(7)}  ${figure.max.toFixed(1).padStart(7)}`);
    }
    log(`  load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    return { questions: n, decisions, mixes, clusters, pages };
  } finally {
    await db.destroy();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const figures = await runReviewBench(loadCorpus(), (line) => console.log(line), Number(process.argv[2] ?? 1_000_000));
  console.log(JSON.stringify(figures));
  process.exit(0);
}
