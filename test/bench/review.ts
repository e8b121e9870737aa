/**
 * Review bench (issue 13), the service in this process on a SQLite file:
 *  1. what 100,000 remembered decisions cost a large run: after a first run that stores the prints,
 *     a fresh task over N questions without decisions, then with 100,000 (a third duplicate, two thirds distinct, pairs inside groups),
 *     then without again (the baseline is the mean of the two runs without); and the service's own
 *     part, each group's verdict lookup, timed alone;
 *  2. review pages and filters of a task with 100,000 clusters: p50/p95/max of each over HTTP.
 * `bun test/bench/review.ts N` (default 1,000,000); run.ts calls it with BENCH_REVIEW_N.
 * The last line printed is the JSON figures.
 */
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { loadConfig } from '../../src/config.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { startService } from '../../src/main.ts';
import { loadGroupVerdicts, verdictScope } from '../../src/review/pair-decisions.repository.ts';
import { loadCorpus, type Corpus } from './corpus.ts';
import { writeNdjson } from './service.ts';

export interface ReviewFigures {
  questions: number;
  decisions: number;
  baselineMs: number;
  withDecisionsMs: number;
  /** (with − baseline) / baseline. */
  decisionsShare: number;
  lookupMs: number;
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

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function runReviewBench(corpus: Corpus, log: (line: string) => void, n: number): Promise<ReviewFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-review-bench-'));
  const file = join(dir, 'bank.ndjson');
  await writeNdjson(corpus, n, file);
  const databaseUrl = `sqlite:${join(dir, 'bench.sqlite')}`;
  const service = await startService(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' }));
  // A second connection for what no route does: plant 100,000 decisions and a 100,000-cluster task.
  const { db } = await connectDatabase(databaseUrl);
  const now = new Date().toISOString();
  try {
    log(`  load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const upload = Bun.spawn([process.execPath, new URL('./upload.ts', import.meta.url).pathname, service.url, file], { stdout: 'pipe', stderr: 'inherit' });
    const uploaded = JSON.parse((await new Response(upload.stdout).text()).trim().split('\n').at(-1)!) as { status: number; ms: number };
    if (uploaded.status !== 201) throw new Error(`import failed: ${uploaded.status}`);
    log(`  imported ${n} questions in ${(uploaded.ms / 1000).toFixed(1)} s`);

    // 1. (BENCH_REVIEW_RUNS=0 skips it) Runs without, with and again without 100,000 decisions, after a first run that stores every print
    //    (each later fresh run reads them instead of computing them, so the first is not comparable).
    let decisions = 0;
    let baselineMs = 0;
    let withDecisionsMs = 0;
    let decisionsShare = 0;
    let lookupMs = 0;
    if (process.env.BENCH_REVIEW_RUNS !== '0') {
      const warm = await freshRun(service.url, 'stores the prints');
      log(`  first run (computes and stores every print; not compared): ${(warm.ms / 1000).toFixed(1)} s`);
      const before = await freshRun(service.url, 'no decisions');
      log(`  fresh run, no decisions: ${(before.ms / 1000).toFixed(1)} s, ${before.clusters} clusters`);
      // Pairs of neighbours (by id) inside one group, spread over the bank: every step-th question.
      const step = Math.max(2, Math.floor(n / DECISIONS));
      await sql`INSERT INTO pair_decisions (question_a, question_b, verdict, row_hash_a, row_hash_b, type_name, subject_name, channel_a, channel_b, decided_by, decided_at, note)
        SELECT a.id, b.id, CASE WHEN a.id % 3 = 0 THEN 'duplicate' ELSE 'distinct' END, a.row_hash, b.row_hash, a.type_name, a.subject_name, a.channel_code, b.channel_code, 'bench', ${now}, NULL
        FROM questions a JOIN questions b ON b.id = (SELECT MIN(c.id) FROM questions c WHERE c.type_name = a.type_name AND c.subject_name = a.subject_name AND c.channel_code = a.channel_code AND c.id > a.id)
        WHERE a.id % ${step} = 0 LIMIT ${DECISIONS}`.execute(db);
      decisions = Number((await db.selectFrom('pair_decisions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const groups = await db.selectFrom('dedup_task_groups').select(['type_name', 'subject_name', 'channel_code']).where('task_id', '=', before.id).execute();
      const ids = Float64Array.from({ length: n }, (_, k) => k + 1);
      const t0 = performance.now();
      let held = 0;
      let slowest = 0;
      for (const group of groups) {
        const g0 = performance.now();
        const verdicts = await loadGroupVerdicts(db, verdictScope(group, false), ids);
        slowest = Math.max(slowest, performance.now() - g0);
        held += (verdicts.distinct.length + verdicts.duplicate.length) / 2;
      }
      lookupMs = performance.now() - t0;
      log(`  ${decisions} decisions planted; every group's verdict lookup: ${lookupMs.toFixed(0)} ms in all for ${held} holding pairs over ${groups.length} groups (slowest group ${slowest.toFixed(0)} ms)`);
      const withDecisions = await freshRun(service.url, 'with decisions');
      log(`  fresh run, ${decisions} decisions: ${(withDecisions.ms / 1000).toFixed(1)} s, ${withDecisions.clusters} clusters`);
      await db.deleteFrom('pair_decisions').execute();
      const after = await freshRun(service.url, 'no decisions again');
      log(`  fresh run, no decisions again: ${(after.ms / 1000).toFixed(1)} s, ${after.clusters} clusters`);
      baselineMs = (before.ms + after.ms) / 2;
      decisionsShare = (withDecisions.ms - baselineMs) / baselineMs;
      withDecisionsMs = withDecisions.ms;
      log(`  ${decisions} decisions add ${(100 * decisionsShare).toFixed(1)} % to a fresh ${n}-question run (runs without differ by ${((100 * Math.abs(before.ms - after.ms)) / baselineMs).toFixed(1)} %)`);
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
    // A review writes: its own latency, on clusters spread over the task.
    const writes: number[] = [];
    for (let k = 0; k < SAMPLES; k++) {
      const clusterId = (await db.selectFrom('dedup_clusters').select('id').where('task_id', '=', taskId).orderBy('id').offset(k * Math.floor(clusters / SAMPLES)).limit(1).executeTakeFirstOrThrow()).id;
      const t = performance.now();
      await api(`${base}/${clusterId}/review`, 'POST', { action: k % 2 === 0 ? 'confirm' : 'dismiss' });
      writes.push(performance.now() - t);
    }
    writes.sort((a, b) => a - b);
    pages['POST review (confirm / dismiss)'] = { p50: percentile(writes, 50), p95: percentile(writes, 95), max: writes.at(-1)! };
    log(`  request (${SAMPLES} each, over HTTP on localhost)            p50      p95      max   (ms)`);
    for (const [name, figure] of Object.entries(pages)) {
      log(`    ${name.padEnd(50)} ${figure.p50.toFixed(1).padStart(7)}  ${figure.p95.toFixed(1).padStart(7)}  ${figure.max.toFixed(1).padStart(7)}`);
    }
    log(`  load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    return { questions: n, decisions, baselineMs, withDecisionsMs, decisionsShare, lookupMs, clusters, pages };
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
