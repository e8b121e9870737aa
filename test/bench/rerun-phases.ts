/**
 * A re-run's main-thread CPU by phase (issue 15): `bun test/bench/rerun-phases.ts <bank>`, where
 * <bank> is a SQLite file holding a task that ran once (test/bench/rerun-cpu.ts with
 * BENCH_RERUN_BANK=<file> builds one), or a PostgreSQL URL of such a database. It re-runs
 * the task's groups with the runner's own functions, in the runner's order, but one group at a
 * time and nothing else on this thread, so the thread's CPU (schedstat, ns) between two steps
 * is that step's alone: claim, previous decisions, reading the group (prints first, texts
 * left out), the reviewers' verdicts, the pool trip (posting the job, serving its text channel,
 * receiving the result), the save (clusters, members, decisions, counters), the prints kept,
 * the progress payload. The service interleaves lanes and requests; the sum here is compared
 * with its total in the docs (docs/no-stall.md).
 * Runs BENCH_RERUN_RUNS re-runs (default 2); the first warms caches, the last is printed.
 */
import { cpus, loadavg } from 'node:os';
import { Piscina } from 'piscina';
import pino from 'pino';
import { connectDatabase, migrateToLatest } from '../../src/db/connect.ts';
import { BankIndex } from '../../src/dedup/bank-index.ts';
import { checkOnPool } from '../../src/dedup/check.ts';
import { progressPayload } from '../../src/realtime/progress.ts';
import { reviewFromVerdicts } from '../../src/review/cluster-review.ts';
import { loadGroupVerdicts, verdictScope, withVerdicts } from '../../src/review/pair-decisions.repository.ts';
import { loadDecisions } from '../../src/tasks/decisions.repository.ts';
import { buildGroupJob, printedRows, readTexts } from '../../src/tasks/group-job.ts';
import { saveGroupResult } from '../../src/tasks/result.repository.ts';
import { beginRun, claimPendingGroup, finishRun, rowToTask } from '../../src/tasks/task.repository.ts';
import { jobTransferList, type GroupResult } from '../../workers/protocol.ts';
import { serveTexts } from '../../workers/text-channel.ts';
import { threadCpuClock } from './main-thread-cpu.ts';

/** This thread's CPU time in ms, exact (see threadCpuClock). */
const threadCpuMs = threadCpuClock();

const target = process.argv[2];
if (!target) throw new Error('usage: bun test/bench/rerun-phases.ts <bank.sqlite | postgres://…>');
const url = target.startsWith('postgres') ? target : `sqlite:${target}`;
const RUNS = Number(process.env.BENCH_RERUN_RUNS ?? 2);

const database = await connectDatabase(url, { maxConnections: 4 });
await migrateToLatest(database);
const { db } = database;
const logger = pino({ level: 'warn' });
const workers = cpus().length;
const pool = new Piscina({ filename: new URL('../../workers/dedup.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: workers, idleTimeout: 60_000 });
const checkPool = new Piscina({ filename: new URL('../../workers/check.worker.ts', import.meta.url).href, minThreads: 1, maxThreads: 1 });
const bank = new BankIndex({ db, pool, logger, printWorker: new URL('../../workers/print.worker.ts', import.meta.url), checks: checkOnPool(checkPool), busy: () => true });
await bank.load();

const taskId = (await db.selectFrom('dedup_tasks').select('id').orderBy('id').executeTakeFirstOrThrow()).id;
const PHASES = ['claim', 'previous decisions', 'read group', 'verdicts', 'pool trip (less texts)', 'texts served', 'save', 'prints kept', 'progress'] as const;
type Phase = (typeof PHASES)[number];

for (let run = 1; run <= RUNS; run++) {
  const spent = new Map<Phase, number>(PHASES.map((phase) => [phase, 0]));
  let textsAsked = 0;
  /** Per group: its questions and each phase's ms. */
  const perGroup: { questions: number; ms: Map<Phase, number> }[] = [];
  let groups = 0;
  let questions = 0;
  let clustersWritten = 0;
  const began = performance.now();
  const cpuBegan = threadCpuMs();
  const task = await beginRun(db, taskId, new Date().toISOString());
  const opts = { maxDistance: task.max_distance, minSimilarity: task.min_similarity };
  let mark = threadCpuMs();
  let current: Map<Phase, number> = new Map();
  const step = (phase: Phase) => {
    const now = threadCpuMs();
    spent.set(phase, spent.get(phase)! + now - mark);
    current.set(phase, (current.get(phase) ?? 0) + now - mark);
    mark = now;
  };
  for (;;) {
    mark = threadCpuMs();
    const group = await claimPendingGroup(db, taskId, new Date().toISOString(), undefined, task.run_number);
    step('claim');
    if (!group) break;
    groups++;
    current = new Map();
    perGroup.push({ questions: group.question_count, ms: current });
    questions += group.question_count;
    const previous = await loadDecisions(db, taskId, group);
    step('previous decisions');
    const loaded = await buildGroupJob(db, group, opts, { omitPrinted: previous !== null, printsFrom: bank, includeResolved: task.include_resolved === 1 });
    step('read group');
    const verdicts = await loadGroupVerdicts(db, verdictScope(group, task.include_resolved === 1), loaded.ids);
    const reviewed = reviewFromVerdicts(verdicts);
    const { job } = loaded;
    job.previous = previous;
    withVerdicts(job, verdicts);
    step('verdicts');
    let servedMs = 0;
    const texts = job.omitted
      ? serveTexts(async (asked) => {
          const from = threadCpuMs();
          textsAsked += asked.length;
          const answer = await readTexts(db, Array.from(asked, (row) => loaded.ids[row]!));
          servedMs += threadCpuMs() - from;
          return answer;
        })
      : undefined;
    if (texts) job.texts = texts.channel;
    const result = (await pool.run(job, { transferList: jobTransferList(job) as never })) as GroupResult;
    texts?.close();
    step('pool trip (less texts)');
    spent.set('pool trip (less texts)', spent.get('pool trip (less texts)')! - servedMs);
    spent.set('texts served', spent.get('texts served')! + servedMs);
    current.set('pool trip (less texts)', current.get('pool trip (less texts)')! - servedMs);
    current.set('texts served', servedMs);
    clustersWritten += result.clusters.length;
    const saved = await saveGroupResult(db, taskId, task.run_number, group, result, 1, new Date().toISOString(), reviewed);
    step('save');
    if (result.prints && result.fresh) await bank.remember(printedRows(loaded, result.fresh), result.prints);
    step('prints kept');
    if (saved) progressPayload(rowToTask(saved), group);
    step('progress');
  }
  await finishRun(db, taskId, task.run_number, 'completed', null, new Date().toISOString());
  const wall = performance.now() - began;
  const total = threadCpuMs() - cpuBegan;
  if (run < RUNS) continue;
  console.log(`${database.dialect}: re-run of ${groups} groups, ${questions} questions (${clustersWritten} clusters written, ${textsAsked} texts asked) in ${wall.toFixed(0)} ms, one group at a time; load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`  main-thread CPU ${total.toFixed(0)} ms (${((1000 * total) / wall).toFixed(0)} ms/s of this sequential run's wall time):`);
  // The largest groups apart: what grows with a group, against what every group costs.
  perGroup.sort((a, b) => b.questions - a.questions);
  const largest = perGroup.slice(0, 3);
  const rest = perGroup.slice(3);
  const restQuestions = rest.reduce((sum, g) => sum + g.questions, 0);
  console.log(`    ${'phase'.padEnd(24)} ${'all'.padStart(8)}        ${largest.map((g) => `group of ${g.questions}`.padStart(16)).join('')}  ${`${rest.length} others (${restQuestions} q)`.padStart(26)}`);
  for (const phase of PHASES) {
    const ms = spent.get(phase)!;
    const others = rest.reduce((sum, g) => sum + (g.ms.get(phase) ?? 0), 0);
    console.log(`    ${phase.padEnd(24)} ${ms.toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(0).padStart(3)} %${largest.map((g) => `${(g.ms.get(phase) ?? 0).toFixed(1)} ms`.padStart(16)).join('')}  ${`${others.toFixed(1)} ms`.padStart(26)}`);
  }
}
await pool.close();
await checkPool.close();
await db.destroy();
process.exit(0);
