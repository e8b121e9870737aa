import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Piscina } from 'piscina';
import { jobTransferList, type DedupOptions, type GroupJob, type GroupResult } from '../../workers/protocol.ts';
import type { Database, GroupRow, TaskRow } from '../db/schema.ts';
import { AppError } from '../http/errors.ts';
import type { ProgressSink } from '../realtime/progress.ts';
import type { BankIndex } from '../dedup/bank-index.ts';
import { forgetDecisions, loadDecisions } from './decisions.repository.ts';
import { nextTurn } from '../pace.ts';
import { serveTexts } from '../../workers/text-channel.ts';
import { buildGroupJob, printedRows, readTexts } from './group-job.ts';
import type { InteractiveWork } from './interactive-work.ts';
import { PoolSlots } from './pool-slots.ts';
import { QuestionBudget } from './question-budget.ts';
import { saveGroupResult, StaleDecisionsError } from './result.repository.ts';
import { reviewFromVerdicts } from '../review/cluster-review.ts';
import { loadGroupVerdicts, verdictScope, withVerdicts } from '../review/pair-decisions.repository.ts';
import {
  beginRun,
  claimPendingGroup,
  countUnfinishedGroups,
  findFailedGroup,
  finishRun,
  getTaskRow,
  groupWeight,
  listClaimableTasks,
  markGroupFailed,
  renewLease,
  requeueGroup,
  requeueRunningGroups,
  rowToTask,
  unclaimGroup,
  type Lease,
} from './task.repository.ts';
import type { Task } from './task.schema.ts';

/** The part of Piscina the runner uses; a real pool in production and in tests. */
export interface GroupPool {
  run(job: GroupJob, options: { signal: AbortSignal; transferList: TransferList }): Promise<GroupResult>;
}

/**
 * Piscina's `transferList`: an array of buffers at run time, but typed after MessagePort's
 * postMessage, whose last overload in bun-types takes an options object instead.
 */
type TransferList = NonNullable<Parameters<Piscina['run']>[1]>['transferList'];

export interface RunnerDeps {
  db: Kysely<Database>;
  pool: GroupPool;
  /** Keeps the prints a group computed, for the next run and for checks. */
  bank: Pick<BankIndex, 'remember' | 'printsFor' | 'groupPrinted'>;
  progress: ProgressSink;
  logger: Logger;
  now: () => string;
  /** Groups read, queued or computing at once per task: enough to keep every worker busy. */
  maxInFlight: number;
  /** Threads of the pool: at most this many groups are handed to it at once (default: maxInFlight). */
  poolThreads?: number;
  groupTimeoutMs: number;
  /** Questions of the groups read ahead or computing at once, across tasks (default: no limit). */
  questionsInFlight?: number;
  /**
   * Resident memory (MB) above which the longest-running group is aborted as out of memory.
   * Bun does not enforce Piscina's per-worker heap limits yet, so without this guard one
   * runaway group would take the whole process down. 0 turns the guard off.
   */
  memoryLimitMb?: number;
  /** How resident memory is read; the process's own by default. */
  rss?: () => number;
  /** This instance's name on the groups it leases; unique per running instance. */
  instanceId?: string;
  /** How long a claimed group stays this instance's without a renewal (renewed every third of it). */
  leaseMs?: number;
  /**
   * True (the default) when this instance is alone on its database, as with SQLite: at boot it
   * takes back every group left running. False when instances share a PostgreSQL database: a
   * group left running belongs to a live peer until its lease runs out.
   */
  exclusive?: boolean;
  /** Shared database: how often to look for running tasks with claimable groups (started elsewhere, or orphaned); 0 = never. */
  discoveryMs?: number;
  /** PostgreSQL: claim with `FOR UPDATE SKIP LOCKED`. */
  lockRows?: boolean;
  /** Called once a run started here is under way; a shared deployment tells its peers, so they join at once. */
  onStarted?: (task: TaskRow) => void;
  /** Checks in flight: reading a group and saving one wait for them, at most INTERACTIVE_WAIT_MS (interactive-work.ts). */
  interactive?: Pick<InteractiveWork, 'quiet'>;
}

/** The longest a task's main-thread step waits for checks in flight before it goes ahead anyway. */
const INTERACTIVE_WAIT_MS = 100;

/** How often resident memory is sampled while groups compute, and the pause after a trip. */
const MEMORY_CHECK_MS = 100;
const MEMORY_COOLDOWN_MS = 300;

interface InFlightGroup {
  startedAt: number;
  group: GroupRow;
  kill(reason: string): void;
}

/** Groups this large leave enough garbage on this thread when read to be worth collecting at once. */
const BIG_GROUP_READ = 10_000;

/** A group gets this many attempts before it fails its task. */
const MAX_ATTEMPTS = 2;

interface ActiveRun {
  taskId: number;
  runNumber: number;
  /** The task's options, fixed when it was created. */
  opts: DedupOptions;
  /** The task takes in questions resolved as duplicates. */
  includeResolved: boolean;
  controller: AbortController;
  done: Promise<void>;
}

const describeGroup = (group: GroupRow) => `${group.type_name} / ${group.subject_name} / ${group.channel_code}`;

/**
 * Drives running tasks: claims their pending groups, sends each to the pool, saves each
 * result with its progress in one transaction, and ends the task when no group is left.
 * Because every step is a row with a status, a restarted process resumes where it was.
 */
export class TaskRunner {
  private readonly active = new Map<number, ActiveRun>();
  private stopping = false;
  private readonly slots: PoolSlots;
  private readonly budget: QuestionBudget;
  /**
   * The group read under way: one at a time, in the order asked. Reads are paged, yielding
   * between pages, so lanes reading at once took turns page by page and every group reached
   * its worker as late as the last of them; one after the other, the first is computing while
   * the next is read (a re-run's start, three large groups, was ~0.3 s sooner).
   */
  private reading: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Set<InFlightGroup>();
  private memoryTimer: ReturnType<typeof setInterval> | undefined;
  private memoryQuietUntil = 0;
  private readonly lease: Lease;
  private discoveryTimer: ReturnType<typeof setTimeout> | undefined;
  private discovering: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RunnerDeps) {
    this.slots = new PoolSlots(deps.poolThreads ?? deps.maxInFlight);
    this.budget = new QuestionBudget(deps.questionsInFlight ?? Number.POSITIVE_INFINITY);
    this.lease = { owner: deps.instanceId ?? randomUUID(), ms: deps.leaseMs ?? 30_000, lockRows: deps.lockRows ?? false };
  }

  get instanceId(): string {
    return this.lease.owner;
  }

  async start(taskId: number): Promise<Task> {
    if (this.stopping) throw new AppError(503, 'the service is shutting down');
    const previous = this.active.get(taskId);
    if (previous && !previous.controller.signal.aborted) throw new AppError(409, `task ${taskId} is already running`);
    // A cancelled or failed run may still be draining (lanes awaiting the database): let it end first.
    if (previous) await previous.done;
    const task = await beginRun(this.deps.db, taskId, this.deps.now());
    this.launch(task);
    this.deps.onStarted?.(task);
    return rowToTask(task);
  }

  async cancel(taskId: number): Promise<Task> {
    const task = await getTaskRow(this.deps.db, taskId);
    if (task.status !== 'running') throw new AppError(409, `task ${taskId} is not running (status: ${task.status})`);
    const run = this.active.get(taskId);
    run?.controller.abort();
    const cancelled = await finishRun(this.deps.db, taskId, task.run_number, 'cancelled', 'cancelled', this.deps.now());
    if (!cancelled) throw new AppError(409, `task ${taskId} finished before it could be cancelled`);
    // On PostgreSQL a lane's claim may still be landing on another connection: let the lanes
    // stop first, so no group is left `running` under a cancelled task.
    await run?.done;
    await requeueRunningGroups(this.deps.db, taskId);
    this.deps.progress.failed(taskId, 'cancelled');
    this.deps.logger.info({ taskId }, 'task cancelled');
    return rowToTask(cancelled);
  }

  /**
   * Picks up every task a previous process left running (crash or graceful stop). Alone on the
   * database, every group left running was this instance's; on a shared database only those
   * leased to this instance's id are (a restart with a fixed INSTANCE_ID), the rest wait for
   * their leases to run out. Then, on a shared database, keeps looking for tasks to help with.
   */
  async resumeInterrupted(): Promise<number[]> {
    const tasks = await this.deps.db.selectFrom('dedup_tasks').selectAll().where('status', '=', 'running').execute();
    const exclusive = this.deps.exclusive ?? true;
    for (const task of tasks) {
      await requeueRunningGroups(this.deps.db, task.id, exclusive ? undefined : this.lease.owner);
      if (this.active.has(task.id)) continue;
      this.deps.logger.info({ taskId: task.id }, 'resuming interrupted task');
      this.launch(task);
    }
    if (!exclusive && (this.deps.discoveryMs ?? 0) > 0) this.scheduleDiscovery();
    return tasks.map((task) => task.id);
  }

  /**
   * Joins running tasks that have claimable groups: started on another instance, or holding
   * groups whose instance died. Safe to call any time; a task already driven here is skipped.
   */
  discover(): Promise<void> {
    this.discovering = this.discovering.then(async () => {
      if (this.stopping) return;
      for (const task of await listClaimableTasks(this.deps.db)) {
        if (this.stopping || this.active.has(task.id)) continue;
        this.deps.logger.info({ taskId: task.id, instance: this.lease.owner }, 'joining running task');
        this.launch(task);
      }
    });
    return this.discovering;
  }

  private scheduleDiscovery() {
    if (this.stopping) return;
    this.discoveryTimer = setTimeout(() => {
      this.discover()
        .catch((error) => this.deps.logger.warn({ err: error }, 'looking for running tasks failed'))
        .finally(() => this.scheduleDiscovery());
    }, this.deps.discoveryMs);
  }

  /** Whether any task is computing here: background work waits for it to finish. */
  get busy(): boolean {
    return this.active.size > 0;
  }

  /**
   * Stops claiming groups, lets in-flight ones finish for up to `graceMs`, then aborts the
   * rest. Tasks stay `running` in the database so the next start resumes them.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.discoveryTimer);
    await this.discovering.catch(() => {});
    const runs = [...this.active.values()];
    const drained = Promise.all(runs.map((run) => run.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([drained, graceOver]);
    clearTimeout(timer);
    for (const run of runs) run.controller.abort();
    await drained;
    // Only this instance's groups: peers on a shared database are still working on theirs.
    for (const run of runs) await requeueRunningGroups(this.deps.db, run.taskId, this.lease.owner);
  }

  private launch(task: TaskRow) {
    const run: ActiveRun = {
      taskId: task.id,
      runNumber: task.run_number,
      opts: { maxDistance: task.max_distance, minSimilarity: task.min_similarity },
      includeResolved: task.include_resolved === 1,
      controller: new AbortController(),
      done: Promise.resolve(),
    };
    this.active.set(task.id, run);
    this.deps.logger.info({ taskId: task.id, groups: task.total_groups, questions: task.total_questions }, 'task started');
    run.done = this.drive(run)
      .catch((error) => this.failTask(run, `internal error: ${(error as Error).message}`, error))
      .finally(() => {
        if (this.active.get(task.id) === run) this.active.delete(task.id);
      });
  }

  private async drive(run: ActiveRun) {
    const lanes = Array.from({ length: this.deps.maxInFlight }, () => this.lane(run));
    await Promise.all(lanes);
    if (run.controller.signal.aborted || this.stopping) return;
    if ((await countUnfinishedGroups(this.deps.db, run.taskId)) > 0) {
      // Nothing left to claim yet not all done: a group failed for good, and the process that
      // failed it died before failing the task. Finish that job now instead of staying `running`.
      const failed = await findFailedGroup(this.deps.db, run.taskId);
      if (failed) await this.failTask(run, `group ${describeGroup(failed)} failed: ${failed.error ?? 'unknown error'}`, undefined);
      return;
    }
    const completed = await finishRun(this.deps.db, run.taskId, run.runNumber, 'completed', null, this.deps.now());
    if (!completed) return;
    this.deps.logger.info({ taskId: run.taskId, clusters: completed.cluster_count, duplicates: completed.duplicate_count }, 'task completed');
    this.deps.progress.completed(rowToTask(completed));
  }

  /**
   * One lane works through groups one at a time; several lanes keep the pool fed. A lane takes
   * only a group that fits the question budget; when none does while groups are in flight here,
   * it waits for one of them to finish and looks again.
   */
  private async lane(run: ActiveRun) {
    while (!run.controller.signal.aborted && !this.stopping) {
      let room = 0;
      const claimed = await this.budget.claim(
        async (free) => {
          const group = await claimPendingGroup(this.deps.db, run.taskId, this.deps.now(), this.lease, run.runNumber, (room = free));
          if (!group) return undefined;
          // The last finished run's decisions: only pairs with a new or changed question are verified again.
          const previous = await loadDecisions(this.deps.db, run.taskId, group);
          return { group, previous, weight: groupWeight(group.question_count, previous !== null) };
        },
        (claimed) => claimed.weight,
      );
      if (!claimed) {
        // With the whole budget free, nothing is left to claim; otherwise a group in flight here will make room.
        if (room === Number.POSITIVE_INFINITY) return;
        await this.budget.nextRelease(run.controller.signal);
        continue;
      }
      try {
        await this.processGroup(run, claimed.group, claimed.previous);
      } finally {
        this.budget.release(claimed.weight);
      }
      // Saving a group and reading the next are synchronous SQLite work: let requests and events in between.
      await nextTurn();
    }
  }

  /**
   * Renews the group's lease every third of its length from claim to save; when the lease is
   * lost (taken over after a stall, or the run ended on another instance) the work is
   * aborted, since its result would be dropped anyway.
   */
  private keepLease(run: ActiveRun, group: GroupRow) {
    const lost = new AbortController();
    const timer = setInterval(() => {
      renewLease(this.deps.db, group, run.runNumber, this.lease).then(
        (renewed) => {
          if (renewed) return;
          this.deps.logger.warn({ taskId: run.taskId, group: describeGroup(group) }, 'group lease lost; dropping its work');
          lost.abort();
        },
        (error) => this.deps.logger.warn({ taskId: run.taskId, err: error }, 'lease renewal failed; will retry'),
      );
    }, Math.max(50, Math.floor(this.lease.ms / 3)));
    return { signal: lost.signal, release: () => clearInterval(timer) };
  }

  private async processGroup(run: ActiveRun, group: GroupRow, previous: Uint8Array | null) {
    const { db, pool, now, logger } = this.deps;
    const startedAt = performance.now();
    let timeout: AbortSignal | undefined;
    let killedFor: string | undefined;
    const lease = this.keepLease(run, group);
    let texts: ReturnType<typeof serveTexts> | undefined;
    try {
      // With the previous run's decisions, a group goes without the texts of rows whose prints are known (the check
      // index holds them by version, else they are stored): the worker fetches the few it must read over a text
      // channel. A first run verifies most rows and gets every text.
      const read = this.reading.then(async () => {
        const checksFirst = async () => {
          await nextTurn();
          await this.deps.interactive?.quiet(INTERACTIVE_WAIT_MS);
        };
        await checksFirst();
        // Between pages too: a big group's read is many pages of the main thread.
        const loaded = await buildGroupJob(db, group, run.opts, { omitPrinted: previous !== null, printsFrom: this.deps.bank, includeResolved: run.includeResolved, betweenPages: checksFirst });
        // The reviewers' decisions that hold for the rows read: the engine honours them.
        const verdicts = await loadGroupVerdicts(db, verdictScope(group, run.includeResolved), loaded.ids);
        // Read now, before the job (and perhaps its verdict arrays) moves to the worker.
        return { loaded, verdicts, reviewed: reviewFromVerdicts(verdicts) };
      });
      this.reading = read.catch(() => undefined);
      const { loaded, verdicts, reviewed } = await read;
      const { job } = loaded;
      job.previous = previous;
      withVerdicts(job, verdicts);
      if (job.omitted) {
        texts = serveTexts(async (asked) => readTexts(db, Array.from(asked, (row) => loaded.ids[row]!)));
        job.texts = texts.channel;
      }
      // Reading a big group with its texts leaves a row object and a byte copy per question behind
      // as garbage (its bytes are in the job now): a young-generation collection frees it before it
      // piles up beside the next groups' (peak RSS). It costs a few ms of this thread per big
      // group; a read without the texts leaves too little to be worth it.
      if (group.question_count >= BIG_GROUP_READ && !job.omitted) Bun.gc(false);
      const release = await this.slots.acquire(AbortSignal.any([run.controller.signal, lease.signal]));
      if (this.stopping) {
        // Shutting down: a group that has not started computing is not in flight; leave it for the next start.
        release();
        await unclaimGroup(db, group.id);
        return;
      }
      const killer = new AbortController();
      const entry: InFlightGroup = {
        startedAt: performance.now(),
        group,
        kill: (reason) => {
          killedFor = reason;
          killer.abort();
        },
      };
      let result: GroupResult;
      try {
        // The clock starts when a thread is free for this group, not while it waits for one.
        timeout = AbortSignal.timeout(this.deps.groupTimeoutMs);
        this.track(entry);
        // The job's buffers (texts, ids, prints) are moved into the worker, not copied: see jobTransferList.
        const signal = AbortSignal.any([run.controller.signal, timeout, killer.signal, lease.signal]);
        result = await pool.run(job, { signal, transferList: jobTransferList(job) as unknown as TransferList });
        // Texts left out are fetched over the channel, so a worker has nothing to ask back for; one that does is broken.
        if (result.needContent) throw new Error(`the worker asked back for ${result.needContent.length} texts`);
      } finally {
        this.untrack(entry);
        release();
        texts?.close();
      }
      lease.release();
      await this.deps.interactive?.quiet(INTERACTIVE_WAIT_MS);
      const saved = await saveGroupResult(db, run.taskId, run.runNumber, group, result, performance.now() - startedAt, now(), reviewed);
      if (saved) this.deps.progress.progress(rowToTask(saved), group);
      // The prints the worker had to compute are kept for the next run and for checks. They are a
      // cache: failing to store them must not fail (and re-run, and count again) a group already saved.
      const stored =
        result.prints && result.fresh
          ? await this.deps.bank.remember(printedRows(loaded, result.fresh), result.prints).then(
              () => true,
              (error) => {
                logger.warn({ taskId: run.taskId, group: describeGroup(group), err: error }, 'storing fingerprints failed');
                return false;
              },
            )
          : true;
      // Every row read (in id order) has a stored print now: checks of the group skip them when they look for rows without.
      if (stored && loaded.ids.length > 0) this.deps.bank.groupPrinted(group, loaded.ids[0]!, loaded.ids[loaded.ids.length - 1]!);
    } catch (error) {
      if (run.controller.signal.aborted) {
        // Cut short by a shutdown past its grace: not the group's fault, so no attempt is spent.
        if (this.stopping) await unclaimGroup(db, group.id);
        return;
      }
      // Another instance has the group now, or the run ended elsewhere: nothing of ours to record.
      if (lease.signal.aborted) return;
      // Its next attempt runs without the previous run's decisions, which no longer fit what is stored.
      if (error instanceof StaleDecisionsError) await forgetDecisions(db, run.taskId, group);
      const reason =
        killedFor ??
        (timeout?.aborted
          ? `timed out after ${this.deps.groupTimeoutMs} ms`
          : error instanceof Error
            ? error.message
            : String(error));
      if (group.attempts < MAX_ATTEMPTS) {
        logger.warn({ taskId: run.taskId, group: describeGroup(group), attempt: group.attempts, reason }, 'group failed; retrying');
        await requeueGroup(db, group.id, reason, this.lease.owner);
        return;
      }
      await markGroupFailed(db, group.id, reason, now(), this.lease.owner);
      await this.failTask(run, `group ${describeGroup(group)} failed: ${reason}`, error);
    } finally {
      lease.release();
      texts?.close();
    }
  }

  private track(entry: InFlightGroup) {
    this.inFlight.add(entry);
    const limitMb = this.deps.memoryLimitMb ?? 0;
    if (limitMb > 0 && !this.memoryTimer) {
      this.memoryTimer = setInterval(() => this.checkMemory(limitMb), MEMORY_CHECK_MS);
      this.memoryTimer.unref?.();
    }
  }

  private untrack(entry: InFlightGroup) {
    this.inFlight.delete(entry);
    if (this.inFlight.size === 0 && this.memoryTimer) {
      clearInterval(this.memoryTimer);
      this.memoryTimer = undefined;
    }
  }

  /**
   * Over the limit, the group that has computed longest is the likeliest hog: abort it (its
   * thread is terminated, which frees its heap) and give memory a moment to fall before
   * judging again. The aborted group counts an attempt like any other failure.
   */
  private checkMemory(limitMb: number) {
    const nowMs = performance.now();
    if (nowMs < this.memoryQuietUntil) return;
    const rssMb = (this.deps.rss ?? (() => process.memoryUsage.rss()))() / (1024 * 1024);
    if (rssMb <= limitMb) return;
    let oldest: InFlightGroup | undefined;
    for (const entry of this.inFlight) if (!oldest || entry.startedAt < oldest.startedAt) oldest = entry;
    if (!oldest) return;
    this.memoryQuietUntil = nowMs + MEMORY_COOLDOWN_MS;
    this.deps.logger.warn({ group: describeGroup(oldest.group), rssMb: Math.round(rssMb), limitMb }, 'memory limit exceeded; aborting group');
    oldest.kill(`out of memory: the process used ${Math.round(rssMb)} MB, over MEMORY_LIMIT_MB=${limitMb}`);
  }

  private async failTask(run: ActiveRun, message: string, cause: unknown) {
    run.controller.abort();
    const failed = await finishRun(this.deps.db, run.taskId, run.runNumber, 'failed', message, this.deps.now());
    if (!failed) return;
    await requeueRunningGroups(this.deps.db, run.taskId);
    this.deps.logger.error({ taskId: run.taskId, err: cause }, message);
    this.deps.progress.failed(run.taskId, message);
  }
}
