/**
 * Throughput of one instance against two on one PostgreSQL database, with the real dedup worker.
 *
 *   BENCH_DATABASE_URL=$(.ci/postgres start) bun test/bench/scale-out.ts [--copies 4] [--runs 3] [--workers 1,2]
 *
 * The bank: the gaokao questions (the full set in ../shared/data when present, else the fixture), each group copied
 * into `--copies` channels, each question in 4 variants (as is, HTML-wrapped, numbered with a
 * score note, trailing space), so groups are larger and full of near-duplicates. For every
 * WORKERS value, a fresh database gets the bank and the same task runs `--runs` times on one
 * instance and on two, alternately; the median of a task's started_at → finished_at is reported.
 */
import { parseArgs } from 'node:util';
import { connectDatabase } from '../../src/db/connect.ts';
import type { Task } from '../../src/tasks/task.schema.ts';
import { createTestDatabase } from '../support/database.ts';
import { api, clusterFormed, startInstance, stopInstances, waitFor, type Instance } from '../support/instances.ts';
import { loadBenchCorpus } from './corpus.ts';

const { values } = parseArgs({
  options: { copies: { type: 'string', default: '4' }, runs: { type: 'string', default: '3' }, workers: { type: 'string', default: '1,2' } },
});
const copies = Number(values.copies);
const runs = Number(values.runs);
const workerCounts = values.workers!.split(',').map(Number);
const server = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!server) throw new Error('set BENCH_DATABASE_URL=postgres://… (an account that may create databases), e.g. from .ci/postgres start');
process.env.TEST_DATABASE_URL = server;

const variants = [(text: string) => text, (text: string) => `<p>${text}</p>`, (text: string) => `1. （5分）${text}`, (text: string) => `${text} `];
const corpus = loadBenchCorpus();
console.log(`bank: ${corpus.base.length} questions from ${corpus.path}, ${copies} copies of each group, 4 variants each`);
const bank = corpus.base.flatMap((question, index) =>
  Array.from({ length: copies }, (_, copy) =>
    variants.map((variant, v) => ({
      ...question,
      external_id: `${index}~${copy}~${v}`,
      channel_code: `${question.channel_code}~${copy}`,
      content: variant(question.content),
    })),
  ).flat(),
);
const ndjson = bank.map((question) => JSON.stringify(question)).join('\n');

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text().catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS_PER_SECOND;
}

/** CPU seconds of the PostgreSQL server's processes (every database on it). */
async function postgresCpuSeconds(): Promise<number> {
  const pids = (await new Response(Bun.spawn(['pgrep', '-u', 'postgres']).stdout).text()).split('\n').filter(Boolean).map(Number);
  const each = await Promise.all(pids.map(cpuSeconds));
  return each.reduce((sum, value) => sum + value, 0);
}

const loadAverage = async () => (await Bun.file('/proc/loadavg').text().catch(() => '?')).split(' ')[0];

/**
 * Runs the task once on whatever instances are up: seconds from its started_at to its
 * finished_at, and the CPU seconds the instances and the PostgreSQL server spent meanwhile.
 */
async function runTask(instances: Instance[], taskId: number) {
  const instance = instances[0]!;
  const cpu = async () => ({
    service: (await Promise.all(instances.map((entry) => cpuSeconds(entry.process.pid)))).reduce((sum, value) => sum + value, 0),
    postgres: await postgresCpuSeconds(),
  });
  const before = await cpu();
  await api(instance, 'POST', `/dedup/tasks/${taskId}/start`);
  const task = await waitFor(
    'the task',
    async () => {
      const current = await api<Task>(instance, 'GET', `/dedup/tasks/${taskId}`);
      if (current.status === 'failed') throw new Error(`task failed: ${current.error}`);
      return current.status === 'completed' && current;
    },
    600_000,
    100,
  );
  const after = await cpu();
  return {
    seconds: (Date.parse(task.finished_at!) - Date.parse(task.started_at!)) / 1000,
    task,
    serviceCpu: after.service - before.service,
    postgresCpu: after.postgres - before.postgres,
  };
}

/**
 * One database and bank per WORKERS value; runs alternate between one instance and two (the
 * second started before and stopped after its run), so a busy neighbour on a shared machine
 * slows both setups alike rather than whichever happened to run then.
 */
async function measure(workers: number) {
  const database = await createTestDatabase('bench');
  const settings = { WORKERS: String(workers), LOG_LEVEL: 'warn' };
  const first = await startInstance('i1', database.url, settings);
  const handle = await connectDatabase(database.url, { maxConnections: 1 });
  const seconds: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const serviceCpu: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const postgresCpu: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const loads: string[] = [];
  const shares: string[] = [];
  let task: Task | undefined;
  try {
    await clusterFormed([first], 1);
    await api(first, 'POST', '/questions', ndjson, 'application/x-ndjson');
    const created = await api<Task>(first, 'POST', '/dedup/tasks', { task_name: 'bench' });
    for (let run = 0; run < runs; run++) {
      loads.push((await loadAverage())!);
      const alone = await runTask([first], created.id);
      seconds[1].push(alone.seconds);
      serviceCpu[1].push(alone.serviceCpu);
      postgresCpu[1].push(alone.postgresCpu);
      const second = await startInstance('i2', database.url, settings);
      try {
        await clusterFormed([first, second], 2);
        const pair = await runTask([first, second], created.id);
        seconds[2].push(pair.seconds);
        serviceCpu[2].push(pair.serviceCpu);
        postgresCpu[2].push(pair.postgresCpu);
        task = pair.task;
        const owners = await handle.db
          .selectFrom('dedup_task_groups')
          .select(['lease_owner', (eb) => eb.fn.countAll<number>().as('groups')])
          .where('task_id', '=', created.id)
          .groupBy('lease_owner')
          .orderBy('lease_owner')
          .execute();
        shares.push(owners.map((row) => `${row.lease_owner}:${row.groups}`).join(' '));
      } finally {
        await stopInstances([second]);
      }
    }
  } finally {
    await stopInstances([first]);
    await handle.db.destroy();
    await database.drop();
  }
  return ([1, 2] as const).map((instances) => {
    const time = median(seconds[instances]);
    return {
      instances,
      workers_each: workers,
      groups: task!.total_groups,
      questions: task!.total_questions,
      clusters: task!.cluster_count,
      runs_s: seconds[instances].map((value) => value.toFixed(2)).join(' '),
      median_s: time.toFixed(2),
      groups_per_s: Math.round(task!.total_groups / time),
      questions_per_s: Math.round(task!.total_questions / time),
      service_cpu_s: median(serviceCpu[instances]).toFixed(1),
      postgres_cpu_s: median(postgresCpu[instances]).toFixed(1),
      ...(instances === 2 ? { groups_by_instance: shares.at(-1) } : {}),
      load_before_runs: loads.join(' '),
    };
  });
}

console.log(`bank: ${bank.length} questions; ${runs} runs per configuration; machine: ${navigator.hardwareConcurrency} cores`);
const rows = [];
for (const workers of workerCounts) {
  for (const row of await measure(workers)) {
    console.log(JSON.stringify(row));
    rows.push(row);
  }
}
console.table(rows);
