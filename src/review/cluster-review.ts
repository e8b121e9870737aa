import { sql, type Kysely, type Transaction } from 'kysely';
import type { Cluster } from '../../workers/protocol.ts';
import type { Database, ReviewState } from '../db/schema.ts';
import { pairKey, type GroupVerdicts } from './pair-decisions.repository.ts';
import type { ClusterReview } from './review.schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The review columns of dedup_clusters (alias c), as loadClusters reads them. */
export const REVIEW_COLUMNS = ['c.review_state', 'c.reviewed_by', 'c.reviewed_at', 'c.review_note'] as const;

/** The canonical question a client sees: the reviewer's choice, else the engine's. */
export const displayedCanonical = sql<number>`COALESCE(c.canonical_override, c.canonical_question_id)`;

export const reviewOf = (row: { review_state: ReviewState; reviewed_by: string | null; reviewed_at: string | null; review_note: string | null }): ClusterReview => ({
  state: row.review_state,
  decided_by: row.reviewed_by,
  decided_at: row.reviewed_at,
  note: row.review_note,
});

/** A new cluster's review columns as saved. */
export interface SavedReview {
  review_state: ReviewState;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_note: string | null;
}

/** What deciding a cluster's review needs of it: a new cluster (workers/protocol.ts Cluster), or a kept one as stored. */
export interface ClusterMembers {
  canonicalId: number;
  members: readonly { questionId: number }[];
}

/** Decides, when a run saves a new cluster (or re-checks a kept one), the review it gets. */
export interface ReformedReview {
  (cluster: ClusterMembers): SavedReview;
  /** The questions with a remembered duplicate decision that holds: only a cluster with one of them as its canonical question can come out confirmed. */
  readonly linked?: readonly number[];
}

const UNREVIEWED: SavedReview = { review_state: 'unreviewed', reviewed_by: null, reviewed_at: null, review_note: null };
export const noReview: ReformedReview = () => UNREVIEWED;

/** The note a cluster confirmed by remembered decisions carries. */
export const REMEMBERED_NOTE = 'confirmed by remembered decisions';

/**
 * A re-formed cluster whose members are all joined by remembered `duplicate` decisions (each
 * member reachable from the canonical question through such pairs inside the cluster) comes out
 * `confirmed`, named after the latest of those decisions. Computed on the main thread at save
 * time from the verdicts the run was given: a walk over the cluster's own pairs, no query.
 */
export function reviewFromVerdicts(verdicts: Pick<GroupVerdicts, 'duplicate' | 'confirmedBy'>): ReformedReview {
  if (verdicts.duplicate.length === 0) return noReview;
  const linked = new Map<number, number[]>();
  const link = (a: number, b: number) => {
    let list = linked.get(a);
    if (!list) linked.set(a, (list = []));
    list.push(b);
  };
  for (let k = 0; k < verdicts.duplicate.length; k += 2) {
    link(verdicts.duplicate[k]!, verdicts.duplicate[k + 1]!);
    link(verdicts.duplicate[k + 1]!, verdicts.duplicate[k]!);
  }
  const review = (cluster: ClusterMembers): SavedReview => {
    if (cluster.members.length < 2 || !linked.has(cluster.canonicalId)) return UNREVIEWED;
    const members = new Set(cluster.members.map((member) => member.questionId));
    const reached = new Set([cluster.canonicalId]);
    const queue = [cluster.canonicalId];
    let latest: { by: string; at: string } | undefined;
    while (queue.length > 0) {
      const id = queue.pop()!;
      for (const next of linked.get(id) ?? []) {
        if (!members.has(next) || reached.has(next)) continue;
        reached.add(next);
        queue.push(next);
        const decision = verdicts.confirmedBy.get(pairKey(id, next));
        if (decision && (!latest || decision.at > latest.at)) latest = decision;
      }
    }
    if (reached.size !== members.size) return UNREVIEWED;
    return { review_state: 'confirmed', reviewed_by: latest?.by ?? null, reviewed_at: latest?.at ?? null, review_note: REMEMBERED_NOTE };
  };
  return Object.assign(review, { linked: [...linked.keys()] });
}

/** The similarity of the cluster's weakest member to its canonical question (1 when alone). */
export function weakestSimilarity(cluster: Pick<Cluster, 'canonicalId' | 'members'>): number {
  let weakest = 1;
  for (const member of cluster.members) if (member.questionId !== cluster.canonicalId && member.similarity < weakest) weakest = member.similarity;
  return weakest;
}

/** The stored members' question ids of some clusters, by cluster id (a page of them: one statement). */
export async function storedMemberIds(db: Db, clusterIds: number[]): Promise<Map<number, number[]>> {
  const byCluster = new Map<number, number[]>();
  for (const row of await db.selectFrom('dedup_cluster_members').select(['cluster_id', 'question_id']).where('cluster_id', 'in', clusterIds).execute()) {
    let list = byCluster.get(row.cluster_id);
    if (!list) byCluster.set(row.cluster_id, (list = []));
    list.push(row.question_id);
  }
  return byCluster;
}

export interface ReviewCounts {
  reviewed: number;
  confirmed: number;
  dismissed: number;
}

/** A group's stored clusters by review state: along dedup_clusters_group_review, the reviewed ones only. */
export async function groupReviewCounts(db: Db, groupId: number): Promise<ReviewCounts> {
  const rows = await db
    .selectFrom('dedup_clusters')
    .select(['review_state', (eb) => eb.fn.countAll<number>().as('count')])
    .where('group_id', '=', groupId)
    .where('review_state', '!=', 'unreviewed')
    .groupBy('review_state')
    .execute();
  const counts: ReviewCounts = { reviewed: 0, confirmed: 0, dismissed: 0 };
  for (const row of rows) {
    const count = Number(row.count);
    counts.reviewed += count;
    if (row.review_state === 'confirmed') counts.confirmed += count;
    if (row.review_state === 'dismissed') counts.dismissed += count;
  }
  return counts;
}
