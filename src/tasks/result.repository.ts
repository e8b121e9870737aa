import { sql, type Kysely } from 'kysely';
import type { Cluster, GroupResult } from '../../workers/protocol.ts';
import { memberReason, type MemberReason } from '../../workers/dedup/reason.ts';
import type { Database, GroupRow, ReviewState, TaskRow } from '../db/schema.ts';
import { displayedCanonical, groupReviewCounts, noReview, REVIEW_COLUMNS, reviewOf, storedMemberIds, weakestSimilarity, type ReformedReview } from '../review/cluster-review.ts';
import type { ClusterReview } from '../review/review.schema.ts';
import { saveDecisions } from './decisions.repository.ts';
import { markDeletedMembers } from './deleted-members.ts';
import { nextTurn } from '../pace.ts';
import { incrementBy } from './task.repository.ts';

type Db = Kysely<Database>;

/** Members per INSERT: ~2 ms of the main thread each with bun:sqlite. */
const MEMBER_INSERT_CHUNK = 1000;

/**
 * Saves one group's clusters, marks the group done and bumps the task's counters, all in
 * one transaction, so progress and results can never disagree. Returns the updated task,
 * or nothing when the run was cancelled or replaced, or the group's lease passed to another
 * instance, meanwhile (the result is dropped). The counters are bumped in SQL (`col = col + n`),
 * so instances finishing groups of one task at once never lose an update.
 */
export async function saveGroupResult(
  db: Db,
  taskId: number,
  runNumber: number,
  group: GroupRow,
  result: GroupResult,
  elapsedMs: number,
  now: string,
  /** Which new clusters come out already reviewed (remembered duplicates; src/review/cluster-review.ts). */
  reviewed: ReformedReview = noReview,
): Promise<TaskRow | undefined> {
  const clusterCount = result.clusters.length + (result.kept?.clusters ?? 0);
  const duplicateCount = duplicatesIn(result.clusters) + (result.kept?.duplicates ?? 0);
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('dedup_task_groups')
      .set({
        status: 'done',
        elapsed_ms: Math.round(elapsedMs),
        finished_at: now,
        error: null,
        cluster_count: clusterCount,
        duplicate_count: duplicateCount,
        // lease_owner stays: it tells which instance did the group.
        lease_expires_at: null,
      })
      .where('id', '=', group.id)
      .where('status', '=', 'running')
      // Another instance took the group over after this one's lease ran out: its result counts, not this one.
      .$if(group.lease_owner !== null, (query) => query.where('lease_owner', '=', group.lease_owner!))
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('dedup_tasks')
            .select('id')
            .where('id', '=', taskId)
            .where('status', '=', 'running')
            .where('run_number', '=', runNumber),
        ),
      )
      .returning('id')
      .executeTakeFirst();
    if (!claimed) return undefined;

    if (result.kept && result.dropped) await saveChangedClusters(trx, taskId, runNumber, group.id, result.clusters, result.dropped, result.kept.clusters, reviewed);
    else await saveClusters(trx, taskId, runNumber, group.id, result.clusters, reviewed);
    // Kept clusters keep their review; with the new ones, they are the group's share of the task's review counters.
    const review = await groupReviewCounts(trx, group.id);
    // With the result it came from: the next run trusts these decisions only as far as they are saved.
    // Kept ones (the previous run's, byte for byte) are stored already: the run read them for this group.
    if (!result.decisionsKept) await saveDecisions(trx, taskId, group, result.decisions);
    return trx
      .updateTable('dedup_tasks')
      .set({
        processed_groups: incrementBy('processed_groups', 1),
        processed_questions: incrementBy('processed_questions', group.question_count),
        duplicate_count: incrementBy('duplicate_count', duplicateCount),
        cluster_count: incrementBy('cluster_count', clusterCount),
        reviewed_cluster_count: incrementBy('reviewed_cluster_count', review.reviewed),
        confirmed_cluster_count: incrementBy('confirmed_cluster_count', review.confirmed),
        dismissed_cluster_count: incrementBy('dismissed_cluster_count', review.dismissed),
      })
      .where('id', '=', taskId)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** Every member but the canonical question is a duplicate. */
const duplicatesIn = (clusters: Cluster[]) => clusters.reduce((sum, cluster) => sum + cluster.members.length - 1, 0);

/**
 * Clusters per multi-row INSERT (5 bound parameters a row, far under SQLite's 32,766): with
 * bun:sqlite each statement is one synchronous stretch of the main thread, ~3 µs a cluster
 * with its RETURNING row, so 500 keep a stretch near 2 ms (2,000 took 5-8 ms).
 */
const CLUSTER_INSERT_CHUNK = 500;

/** Dropped clusters deleted per statement. */
const DROP_CHUNK = 1000;

/**
 * Makes the group's stored clusters exactly `clusters`, for run `runNumber`: a first run, or
 * a result that lists every cluster (GroupResult.kept unset). Every earlier stored cluster of
 * the group goes.
 */
async function saveClusters(db: Db, taskId: number, runNumber: number, groupId: number, clusters: Cluster[], reviewed: ReformedReview) {
  await db.deleteFrom('dedup_clusters').where('group_id', '=', groupId).where('run_number', '!=', runNumber).execute();
  await insertClusters(db, taskId, runNumber, groupId, clusters, reviewed);
}

/**
 * The stored clusters of a group are not the ones its previous run's decisions describe (they
 * are saved together, so something else changed them): the result of a run built on those
 * decisions cannot be saved. The group is to be run again without them.
 */
export class StaleDecisionsError extends Error {
  constructor(groupId: number, detail: string) {
    super(`the stored clusters of group ${groupId} do not match its previous run (${detail}); it runs again from scratch`);
  }
}

/**
 * A re-run's save when the worker left its kept clusters out (GroupResult.kept): the stored
 * copies of the previous run's clusters it dropped go, every other stored cluster of the group
 * (a kept one) stays as it is, untouched (it is shown again once the group is done), and
 * `clusters` are inserted. Throws StaleDecisionsError, saving nothing (the caller's transaction
 * rolls back), when the stored clusters turn out not to be the previous run's.
 */
async function saveChangedClusters(db: Db, taskId: number, runNumber: number, groupId: number, clusters: Cluster[], dropped: Float64Array, kept: number, reviewed: ReformedReview) {
  for (let start = 0; start < dropped.length; start += DROP_CHUNK) {
    if (start > 0) await nextTurn();
    await db
      .deleteFrom('dedup_clusters')
      .where('group_id', '=', groupId)
      .where('run_number', '!=', runNumber)
      .where('canonical_question_id', 'in', Array.from(dropped.subarray(start, start + DROP_CHUNK)))
      .execute();
  }
  const { count } = await db
    .selectFrom('dedup_clusters')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('group_id', '=', groupId)
    .executeTakeFirstOrThrow();
  if (Number(count) !== kept) throw new StaleDecisionsError(groupId, `${count} stored clusters left to keep, ${kept} kept`);
  await unconfirmKept(db, groupId, reviewed);
  await confirmKept(db, groupId, reviewed);
  await insertClusters(db, taskId, runNumber, groupId, clusters, reviewed);
}

/** Kept confirmed clusters read per page when their decisions are checked again. */
const CONFIRMED_PAGE = 1000;

/**
 * A kept cluster stays `confirmed` only while its members are all joined by remembered duplicate
 * decisions that hold, as a fresh run would form it (reviewFromVerdicts): once one of them is
 * forgotten (DELETE /api/dedup/decisions/:id) the engine still finds the cluster and the re-run
 * keeps it, but nothing confirms it any more, so it goes back to unreviewed (a lapsed decision
 * needs nothing here: its edited question is not kept). Only the group's confirmed clusters are
 * read (dedup_clusters_group_review), a page at a time; one still confirmed keeps its stored
 * review, the reviewer's own. Called before the new clusters are inserted: every stored cluster
 * of the group is a kept one then.
 */
async function unconfirmKept(db: Db, groupId: number, reviewed: ReformedReview) {
  let afterId = 0;
  for (;;) {
    const page = await db
      .selectFrom('dedup_clusters')
      .select(['id', 'canonical_question_id'])
      .where('group_id', '=', groupId)
      .where('review_state', '=', 'confirmed')
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(CONFIRMED_PAGE)
      .execute();
    if (page.length === 0) return;
    const members = await membersOf(db, page.map((c) => c.id));
    const unconfirmed = page.filter((c) => reviewed({ canonicalId: c.canonical_question_id, members: members.get(c.id) ?? [] }).review_state !== 'confirmed').map((c) => c.id);
    if (unconfirmed.length > 0) {
      await db.updateTable('dedup_clusters').set({ review_state: 'unreviewed', reviewed_by: null, reviewed_at: null, review_note: null }).where('id', 'in', unconfirmed).execute();
    }
    if (page.length < CONFIRMED_PAGE) return;
    afterId = page[page.length - 1]!.id;
    await nextTurn();
  }
}

/**
 * The converse of unconfirmKept: a kept unreviewed cluster whose members are all joined by
 * remembered duplicate decisions that hold (made since its run, in this task or another) comes
 * out confirmed, as a fresh run forms it. Only a cluster whose canonical question has such a
 * decision can be: those are looked up along dedup_clusters_group (group_id,
 * canonical_question_id), CANONICAL_CHUNK ids a statement; a run without duplicate decisions
 * reads nothing.
 */
async function confirmKept(db: Db, groupId: number, reviewed: ReformedReview) {
  const linked = reviewed.linked ?? [];
  for (let start = 0; start < linked.length; start += CANONICAL_CHUNK) {
    if (start > 0) await nextTurn();
    const page = await db
      .selectFrom('dedup_clusters')
      .select(['id', 'canonical_question_id'])
      .where('group_id', '=', groupId)
      .where('canonical_question_id', 'in', linked.slice(start, start + CANONICAL_CHUNK))
      .where('review_state', '=', 'unreviewed')
      .execute();
    if (page.length === 0) continue;
    const members = await membersOf(db, page.map((c) => c.id));
    for (const cluster of page) {
      const review = reviewed({ canonicalId: cluster.canonical_question_id, members: members.get(cluster.id) ?? [] });
      if (review.review_state === 'confirmed') await db.updateTable('dedup_clusters').set(review).where('id', '=', cluster.id).execute();
    }
  }
}

/** Canonical question ids per lookup of confirmKept. */
const CANONICAL_CHUNK = 500;

/** The stored members of some clusters as a review sees them, by cluster id. */
async function membersOf(db: Db, clusterIds: number[]): Promise<Map<number, { questionId: number }[]>> {
  const ids = await storedMemberIds(db, clusterIds);
  return new Map([...ids].map(([clusterId, questionIds]) => [clusterId, questionIds.map((questionId) => ({ questionId }))]));
}

/**
 * Inserts clusters a chunk at a time, not one statement per cluster: the save runs on the
 * main thread inside one transaction, and hundreds of single-row INSERTs there held the event
 * loop (and every REST request) for tens to hundreds of milliseconds per group. The event loop
 * runs between chunks (nextTurn): a 150,000-question group's 25,000 clusters were one
 * ~200-500 ms stretch; other queries wait for the connection meanwhile, requests and socket
 * events do not. A question is canonical of at most one cluster per group, so the returned
 * ids are matched by canonical id, whatever order the database returns them in.
 */
async function insertClusters(db: Db, taskId: number, runNumber: number, groupId: number, clusters: Cluster[], reviewed: ReformedReview) {
  let members: Database['dedup_cluster_members'][] = [];
  const flush = async () => {
    if (members.length > 0) {
      await db.insertInto('dedup_cluster_members').values(members).execute();
      await nextTurn();
    }
    members = [];
  };
  for (let start = 0; start < clusters.length; start += CLUSTER_INSERT_CHUNK) {
    const chunk = clusters.slice(start, start + CLUSTER_INSERT_CHUNK);
    const inserted = await db
      .insertInto('dedup_clusters')
      .values(
        chunk.map((cluster) => ({
          task_id: taskId,
          group_id: groupId,
          canonical_question_id: cluster.canonicalId,
          member_count: cluster.members.length,
          run_number: runNumber,
          min_similarity: weakestSimilarity(cluster),
          ...reviewed(cluster),
        })),
      )
      .returning(['id', 'canonical_question_id'])
      .execute();
    await nextTurn();
    const idOf = new Map(inserted.map((row) => [row.canonical_question_id, row.id]));
    for (const cluster of chunk) {
      const id = idOf.get(cluster.canonicalId);
      if (id === undefined) throw new Error(`cluster of canonical question ${cluster.canonicalId} was not inserted`);
      for (let k = 0; k < cluster.members.length; k++) {
        const member = cluster.members[k]!;
        members.push({
          cluster_id: id, task_id: taskId, question_id: member.questionId, distance: member.distance, similarity: member.similarity,
          reason_stage: cluster.stages?.[k] ?? null, reason_checks: cluster.checks?.[k] ?? null,
        });
        if (members.length >= MEMBER_INSERT_CHUNK) await flush();
      }
    }
  }
  await flush();
}

export interface ClusterFilter {
  type_name?: string;
  subject_name?: string;
  channel_code?: string;
  /** Review state (src/review/). */
  review?: ReviewState;
  /** Similarity band of the cluster's weakest member. */
  min_similarity?: number;
  max_similarity?: number;
}

export interface ClusterView {
  cluster_id: number;
  group: { type_name: string; subject_name: string; channel_code: string };
  /** The reviewer's choice (set_canonical) when there is one, else the engine's. */
  canonical_question_id: number;
  /** `deleted`: the question was deleted after the run (see deleted-members.ts). */
  members: { question_id: number; distance: number; similarity: number; reason: MemberReason | null; deleted: boolean }[];
  review: ClusterReview;
}

/**
 * The task's clusters (alias c) that clients see: those of the groups its current run saved (a
 * group not saved in this run yet still holds the last run's; a run begins with every group
 * pending). `groupIds`: those groups (and only those a group filter names), or undefined when
 * every group of the task is done and none is filtered (a finished run: the usual case while
 * reviewing), which is every stored cluster of the task. Groups are read apart (visibleGroups)
 * rather than joined: a join per cluster was most of a 100,000-cluster task's count and deep pages.
 * A count by groups walks dedup_clusters_group(_review) alone (`forCount`: without task_id, which
 * the groups imply, so SQLite does not pick a task-wide index instead).
 */
function clusterQuery(db: Db, taskId: number, filter: ClusterFilter, groupIds: number[] | undefined, forCount = false) {
  let query = db.selectFrom('dedup_clusters as c');
  if (groupIds === undefined || !forCount) query = query.where('c.task_id', '=', taskId);
  if (groupIds !== undefined) query = groupIds.length > 0 ? query.where('c.group_id', 'in', groupIds) : query.where(sql<boolean>`1 = 0`);
  if (filter.review) query = query.where('c.review_state', '=', filter.review);
  if (filter.min_similarity !== undefined) query = query.where('c.min_similarity', '>=', filter.min_similarity);
  if (filter.max_similarity !== undefined) query = query.where('c.min_similarity', '<=', filter.max_similarity);
  return query;
}

/** The groups whose clusters show (see clusterQuery); undefined for all of them when all are done and none is filtered. */
async function visibleGroups(db: Db, taskId: number, filter: ClusterFilter): Promise<number[] | undefined> {
  const byGroup = Boolean(filter.type_name || filter.subject_name || filter.channel_code);
  if (!byGroup) {
    const unfinished = await db.selectFrom('dedup_task_groups').select('id').where('task_id', '=', taskId).where('status', '!=', 'done').limit(1).executeTakeFirst();
    if (unfinished === undefined) return undefined;
  }
  let groups = db.selectFrom('dedup_task_groups as g').select('g.id').where('g.task_id', '=', taskId).where('g.status', '=', 'done');
  if (filter.type_name) groups = groups.where('g.type_name', '=', filter.type_name);
  if (filter.subject_name) groups = groups.where('g.subject_name', '=', filter.subject_name);
  if (filter.channel_code) groups = groups.where('g.channel_code', '=', filter.channel_code);
  return (await groups.execute()).map((group) => group.id);
}

/**
 * A page of clusters, largest `afterId` first when given (keyset paging for exports). `groupIds` as
 * visibleGroups answers (null: all of them), worked out here when not given.
 */
export async function loadClusters(db: Db, taskId: number, filter: ClusterFilter, limit: number, offset: number, afterId = 0, groupIds?: number[] | null): Promise<ClusterView[]> {
  const rows = await clusterQuery(db, taskId, filter, groupIds === null ? undefined : (groupIds ?? (await visibleGroups(db, taskId, filter))))
    .select(['c.id', 'c.group_id', ...REVIEW_COLUMNS])
    .select(displayedCanonical.as('canonical_question_id'))
    .where('c.id', '>', afterId)
    .orderBy('c.id')
    .limit(limit)
    .offset(offset)
    .execute();
  if (rows.length === 0) return [];
  const groups = new Map(
    (
      await db
        .selectFrom('dedup_task_groups')
        .select(['id', 'type_name', 'subject_name', 'channel_code'])
        .where('id', 'in', [...new Set(rows.map((row) => row.group_id))])
        .execute()
    ).map((group) => [group.id, { type_name: group.type_name, subject_name: group.subject_name, channel_code: group.channel_code }]),
  );
  const members = await db
    .selectFrom('dedup_cluster_members')
    .select(['cluster_id', 'question_id', 'distance', 'similarity', 'reason_stage', 'reason_checks'])
    .where('cluster_id', 'in', rows.map((row) => row.id))
    .orderBy('cluster_id')
    .orderBy('distance')
    .orderBy('question_id')
    .execute();
  const byCluster = new Map<number, ClusterView['members']>(rows.map((row) => [row.id, []]));
  for (const member of members) {
    byCluster.get(member.cluster_id)!.push({
      question_id: member.question_id, distance: member.distance, similarity: member.similarity, reason: memberReason(member.reason_stage, member.reason_checks), deleted: false,
    });
  }
  for (const [clusterId, list] of byCluster) {
    const canonical = rows.find((row) => row.id === clusterId)!.canonical_question_id;
    list.sort((a, b) => Number(b.question_id === canonical) - Number(a.question_id === canonical));
  }
  // `deleted` is settled by markDeletedMembers below.
  const clusters = rows.map((row) => ({
    cluster_id: row.id,
    group: groups.get(row.group_id)!,
    canonical_question_id: row.canonical_question_id,
    members: byCluster.get(row.id)!,
    review: reviewOf(row),
  }));
  return markDeletedMembers(db, clusters);
}

export async function listClusters(db: Db, taskId: number, filter: ClusterFilter, offset: number, limit: number) {
  const groupIds = await visibleGroups(db, taskId, filter);
  const [items, total] = await Promise.all([
    loadClusters(db, taskId, filter, limit, offset, 0, groupIds ?? null),
    groupsOnly(filter)
      ? countFromGroups(db, taskId, filter)
      : clusterQuery(db, taskId, filter, groupIds, true).select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(total.count) };
}

const GROUP_FIELDS = ['type_name', 'subject_name', 'channel_code'] as const;
/** True when nothing but the group fields narrows the clusters (the groups' saved counts then add up to the total). */
const groupsOnly = (filter: ClusterFilter) => filter.review === undefined && filter.min_similarity === undefined && filter.max_similarity === undefined;

/**
 * The clusters of the task's done groups, from each group's saved cluster_count (a few hundred
 * rows) instead of counting a big task's clusters (one synchronous SQLite statement over
 * 100k+ index entries and joins).
 */
function countFromGroups(db: Db, taskId: number, filter: ClusterFilter) {
  let query = db
    .selectFrom('dedup_task_groups')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('cluster_count'), eb.lit(0)).as('count'))
    .where('task_id', '=', taskId)
    .where('status', '=', 'done');
  for (const field of GROUP_FIELDS) if (filter[field]) query = query.where(field, '=', filter[field]);
  return query.executeTakeFirstOrThrow();
}

export interface DuplicatePair {
  cluster_id: number;
  type_name: string;
  subject_name: string;
  channel_code: string;
  canonical_question_id: number;
  question_id: number;
  distance: number;
  similarity: number;
  reason: MemberReason | null;
}

/**
 * Every duplicate paired with its cluster's canonical question, a page of clusters at a time.
 * Dismissed clusters are left out: a reviewer said their questions are not duplicates (members
 * rejected from a cluster have left it already).
 */
export async function* duplicatePairs(db: Db, taskId: number, pageSize = 500): AsyncGenerator<DuplicatePair[]> {
  let afterId = 0;
  for (;;) {
    const clusters = await loadClusters(db, taskId, {}, pageSize, 0, afterId);
    if (clusters.length === 0) return;
    afterId = clusters[clusters.length - 1]!.cluster_id;
    yield clusters.filter((cluster) => cluster.review.state !== 'dismissed').flatMap((cluster) =>
      cluster.members
        .filter((member) => member.question_id !== cluster.canonical_question_id)
        .map((member) => ({ cluster_id: cluster.cluster_id, ...cluster.group, canonical_question_id: cluster.canonical_question_id, ...member })),
    );
  }
}
