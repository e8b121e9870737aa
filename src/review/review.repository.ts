import type { Kysely, Transaction } from 'kysely';
import type { Database, ReviewState, TaskRow } from '../db/schema.ts';
import { AppError } from '../http/errors.ts';
import { loadClusters, type ClusterView } from '../tasks/result.repository.ts';
import { getTaskRow, incrementBy } from '../tasks/task.repository.ts';
import { weakestSimilarity } from './cluster-review.ts';
import { rememberVerdicts, type PairVerdict } from './pair-decisions.repository.ts';
import type { ReviewBody } from './review.schema.ts';

type Trx = Transaction<Database>;

export interface ReviewOutcome {
  task: TaskRow;
  cluster: ClusterView;
  review_progress: { reviewed: number; total: number };
}

/**
 * Takes the task's row lock (a no-op update: SQLite has no FOR UPDATE) and refuses a running
 * task: a start through any instance waits for the review, a review waits for a start, and two
 * reviews of one task go one after the other, each seeing the other's result.
 */
export async function lockIdleTask(trx: Trx, taskId: number, doing: string): Promise<TaskRow> {
  await trx.updateTable('dedup_tasks').set((eb) => ({ run_number: eb.ref('run_number') })).where('id', '=', taskId).execute();
  const task = await getTaskRow(trx, taskId);
  if (task.status === 'running') throw new AppError(409, `task ${taskId} is running; ${doing} once it has finished`);
  return task;
}

/**
 * Applies one review action to a cluster of the task's current run, in one transaction: the
 * cluster's state, the pair decisions it implies, and the task's review counters. Anything wrong
 * with the request is found before the first write, and an error rolls everything back.
 */
export async function reviewCluster(db: Kysely<Database>, taskId: number, clusterId: number, body: ReviewBody, reviewer: string, now: string): Promise<ReviewOutcome> {
  return db.transaction().execute(async (trx) => {
    await lockIdleTask(trx, taskId, 'review it');
    const cluster = await trx
      .selectFrom('dedup_clusters as c')
      .innerJoin('dedup_task_groups as g', 'g.id', 'c.group_id')
      .select(['c.id', 'c.canonical_question_id', 'c.canonical_override', 'c.review_state'])
      .where('c.id', '=', clusterId)
      .where('c.task_id', '=', taskId)
      // Only a cluster the clusters route shows: those of groups saved by the task's current run.
      .where('g.status', '=', 'done')
      .executeTakeFirst();
    if (!cluster) throw new AppError(404, `cluster ${clusterId} of task ${taskId} not found`);
    const members = await trx.selectFrom('dedup_cluster_members').select(['question_id', 'similarity']).where('cluster_id', '=', clusterId).execute();
    const memberIds = new Set(members.map((member) => member.question_id));
    const canonical = cluster.canonical_override ?? cluster.canonical_question_id;
    const note = body.note ?? null;
    const pairsWith = (ids: Iterable<number>, verdict: PairVerdict['verdict']) => [...ids].filter((id) => id !== canonical).map((id) => ({ a: canonical, b: id, verdict }));

    let state: ReviewState = cluster.review_state;
    let stateChanged = true;
    switch (body.action) {
      case 'confirm':
        await rememberVerdicts(trx, pairsWith(memberIds, 'duplicate'), reviewer, now, note);
        state = 'confirmed';
        break;
      case 'dismiss':
        await rememberVerdicts(trx, pairsWith(memberIds, 'distinct'), reviewer, now, note);
        state = 'dismissed';
        break;
      case 'reject_members': {
        const rejected = [...new Set(body.question_ids)];
        const strangers = rejected.filter((id) => !memberIds.has(id));
        if (strangers.length > 0) throw notMembers('question_ids', strangers, clusterId);
        if (rejected.includes(canonical)) {
          throw new AppError(422, `question ${canonical} is the canonical question of cluster ${clusterId}; make another member canonical first`, [
            { path: 'question_ids', message: 'the canonical question cannot be rejected' },
          ]);
        }
        await rememberVerdicts(trx, pairsWith(rejected, 'distinct'), reviewer, now, note);
        await trx.deleteFrom('dedup_cluster_members').where('cluster_id', '=', clusterId).where('question_id', 'in', rejected).execute();
        const left = members.filter((member) => !rejected.includes(member.question_id));
        await trx
          .updateTable('dedup_clusters')
          .set({
            member_count: left.length,
            min_similarity: weakestSimilarity({ canonicalId: canonical, members: left.map((member) => ({ questionId: member.question_id, similarity: member.similarity, distance: 0 })) }),
          })
          .where('id', '=', clusterId)
          .execute();
        state = left.length <= 1 ? 'dismissed' : 'partial';
        break;
      }
      case 'set_canonical': {
        const id = body.canonical_question_id;
        if (!memberIds.has(id)) throw notMembers('canonical_question_id', [id], clusterId);
        await trx
          .updateTable('dedup_clusters')
          .set({ canonical_override: id === cluster.canonical_question_id ? null : id })
          .where('id', '=', clusterId)
          .execute();
        // No decision is made by choosing a canonical question: the review stays as it was.
        stateChanged = false;
        break;
      }
    }
    if (stateChanged) {
      await trx.updateTable('dedup_clusters').set({ review_state: state, reviewed_by: reviewer, reviewed_at: now, review_note: note }).where('id', '=', clusterId).execute();
    }
    const was = cluster.review_state;
    const delta = (test: (s: ReviewState) => boolean) => Number(test(state)) - Number(test(was));
    const task = await trx
      .updateTable('dedup_tasks')
      .set({
        reviewed_cluster_count: incrementBy('reviewed_cluster_count', delta((s) => s !== 'unreviewed')),
        confirmed_cluster_count: incrementBy('confirmed_cluster_count', delta((s) => s === 'confirmed')),
        dismissed_cluster_count: incrementBy('dismissed_cluster_count', delta((s) => s === 'dismissed')),
      })
      .where('id', '=', taskId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const [view] = await loadClusters(trx, taskId, {}, 1, 0, clusterId - 1);
    if (!view || view.cluster_id !== clusterId) throw new Error(`cluster ${clusterId} vanished during its review`);
    return { task, cluster: view, review_progress: { reviewed: task.reviewed_cluster_count, total: task.cluster_count } };
  });
}

function notMembers(path: string, ids: number[], clusterId: number): AppError {
  const listed = ids.slice(0, 10).join(', ');
  return new AppError(422, `not members of cluster ${clusterId}: ${listed}${ids.length > 10 ? ', …' : ''}`, [{ path, message: `not members of the cluster: ${listed}` }]);
}
