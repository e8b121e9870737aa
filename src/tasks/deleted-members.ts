import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

type Db = Kysely<Database>;

/**
 * Ids per lookup statement: 100 take ~0.4 ms on a 1,000,000-question bank, 500 took 2-6 ms
 * alone and up to 60 ms beside the search indexer's writes, one statement the pacing cannot cut.
 */
const LOOKUP_CHUNK = 100;

interface ClusterLike {
  canonical_question_id: number;
  members: { question_id: number }[];
}

/**
 * A task's clusters are a snapshot of the bank when it ran; a question deleted since stays
 * listed. Marks every member `deleted: true|false`, so a frontend never follows one into a
 * 404 unwarned, and when the canonical question itself is gone names the earliest live
 * member instead (the canonical rule of the engine: the earliest question of the cluster),
 * moved first. The deleted ones stay listed, marked. Distances and similarities stay those
 * the run measured against the canonical question of its time.
 */
export async function markDeletedMembers<C extends ClusterLike>(db: Db, clusters: C[]): Promise<C[]> {
  const ids = [...new Set(clusters.flatMap((cluster) => cluster.members.map((member) => member.question_id)))];
  const live = new Set<number>();
  for (let start = 0; start < ids.length; start += LOOKUP_CHUNK) {
    const rows = await db.selectFrom('questions').select('id').where('id', 'in', ids.slice(start, start + LOOKUP_CHUNK)).execute();
    for (const row of rows) live.add(Number(row.id));
  }
  for (const cluster of clusters) {
    for (const member of cluster.members) (member as { deleted?: boolean }).deleted = !live.has(member.question_id);
    if (live.has(cluster.canonical_question_id)) continue;
    const alive = cluster.members.filter((member) => live.has(member.question_id));
    if (alive.length === 0) continue;
    const canonical = alive.reduce((earliest, member) => (member.question_id < earliest.question_id ? member : earliest));
    cluster.canonical_question_id = canonical.question_id;
    cluster.members.sort((a, b) => Number(b === canonical) - Number(a === canonical));
  }
  return clusters;
}
