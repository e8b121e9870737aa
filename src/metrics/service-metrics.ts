import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ProgressSink } from '../realtime/progress.ts';
import { TASK_STATUSES } from '../tasks/task.schema.ts';
import { MetricsRegistry } from './registry.ts';

export interface MetricsSources {
  db: Kysely<Database>;
  pool: { readonly queueSize: number; readonly utilization: number; readonly threads: readonly unknown[] };
  sockets: () => number;
  /** Window for the per-second rates, in seconds. */
  rateWindowSeconds?: number;
}

/** Counts events in one-second buckets and answers the average rate over the window. */
class Rate {
  private readonly buckets: number[];
  private readonly seconds: number[];
  constructor(private readonly window: number) {
    this.buckets = new Array<number>(window).fill(0);
    this.seconds = new Array<number>(window).fill(-1);
  }
  add(amount: number, nowMs = Date.now()) {
    const second = Math.floor(nowMs / 1000);
    const slot = second % this.window;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.buckets[slot] = 0;
    }
    this.buckets[slot]! += amount;
  }
  perSecond(nowMs = Date.now()): number {
    const second = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let i = 0; i < this.window; i++) if (this.seconds[i]! > second - this.window) sum += this.buckets[i]!;
    return sum / this.window;
  }
}

/**
 * The service's metrics: tasks by status (from the database at scrape time), groups and
 * questions processed (counters and recent per-second rates), pool queue and utilisation,
 * connected sockets, event-loop lag, HTTP requests. Created by main.ts, passed to the app.
 */
export function createServiceMetrics({ db, pool, sockets, rateWindowSeconds = 60 }: MetricsSources) {
  const registry = new MetricsRegistry();
  const groupsTotal = registry.counter('dedup_groups_processed_total', 'Groups finished by dedup tasks');
  const questionsTotal = registry.counter('dedup_questions_processed_total', 'Questions processed by dedup tasks');
  const groupRate = new Rate(rateWindowSeconds);
  const questionRate = new Rate(rateWindowSeconds);
  const requests = registry.counter('http_requests_total', 'HTTP requests by method and status');
  const requestSeconds = registry.histogram('http_request_duration_seconds', 'Time to answer an HTTP request (until the handler returns; streamed bodies continue)', [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]);

  registry.gauge('dedup_tasks', 'Dedup tasks by status', async () => {
    const rows = await db.selectFrom('dedup_tasks').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status').execute();
    const counts = new Map(rows.map((row) => [row.status, Number(row.count)]));
    return TASK_STATUSES.map((status) => ({ labels: { status }, value: counts.get(status) ?? 0 }));
  });
  registry.gauge('dedup_groups_per_second', `Groups finished per second over the last ${rateWindowSeconds}s`, () => groupRate.perSecond());
  registry.gauge('dedup_questions_per_second', `Questions processed per second over the last ${rateWindowSeconds}s`, () => questionRate.perSecond());
  registry.gauge('dedup_pool_queue_depth', 'Group jobs waiting for a worker thread', () => pool.queueSize);
  registry.gauge('dedup_pool_utilization', 'Share of worker-thread time spent running jobs (0..1)', () => pool.utilization);
  registry.gauge('dedup_pool_threads', 'Worker threads alive', () => pool.threads.length);
  registry.gauge('socketio_connected_sockets', 'Socket.IO clients connected', () => sockets());

  // Event-loop lag: how late a 500 ms timer fires. The worst of the last interval is reported.
  let lagSeconds = 0;
  let expected = performance.now() + 500;
  const lagTimer = setInterval(() => {
    const now = performance.now();
    lagSeconds = Math.max(0, now - expected) / 1000;
    expected = now + 500;
  }, 500);
  lagTimer.unref?.();
  registry.gauge('nodejs_eventloop_lag_seconds', 'How late a 500 ms timer fired last time', () => lagSeconds);

  /** Wraps the runner's progress sink to count what each finished group processed. */
  const instrument = (sink: ProgressSink): ProgressSink => {
    const lastQuestions = new Map<number, number>();
    // Explicit delegation, not a spread: a sink built as a class would lose its prototype methods.
    return {
      progress(task, group) {
        const before = lastQuestions.get(task.id) ?? 0;
        // A re-run starts counting from zero again.
        const delta = task.processed_questions >= before ? task.processed_questions - before : task.processed_questions;
        lastQuestions.set(task.id, task.processed_questions);
        groupsTotal.inc();
        groupRate.add(1);
        questionsTotal.inc(undefined, delta);
        questionRate.add(delta);
        sink.progress(task, group);
      },
      completed(task) {
        lastQuestions.delete(task.id);
        sink.completed(task);
      },
      failed(taskId, error) {
        lastQuestions.delete(taskId);
        sink.failed(taskId, error);
      },
    };
  };

  return {
    registry,
    instrument,
    recordRequest(method: string, status: number, seconds: number) {
      requests.inc({ method, status: String(status) });
      requestSeconds.observe(seconds);
    },
    render: () => registry.render(),
    close: () => clearInterval(lagTimer),
  };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
