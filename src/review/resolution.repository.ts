import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { CheckHit } from '../dedup/check.ts';
import { nextTurn } from '../pace.ts';
import { rowToQuestion } from '../questions/question.repository.ts';
import type { Question } from '../questions/question.schema.ts';
import { displayedCanonical, storedMemberIds } from './cluster-review.ts';
import { lockIdleTask } from './review.repository.ts';

type Db = Kysely<Database>;

/** Confirmed clusters read per page while resolving. */
const RESOLVE_PAGE = 500;

export interface ResolveOutcome {
  resolved_questions: number;
  clusters: number;
}

/**
 * Marks every non-canonical member of the task's confirmed clusters (of its current run) as a
 * duplicate of the cluster's canonical question, in one transaction. Resolutions stay flat: a
 * canonical question that is itself a resolved duplicate hands its own canonical on, and the
 * questions already resolved to a newly resolved member move to its canonical too, so
 * `duplicate_of` always names an active question. Members already resolved that way are not
 * counted again.
 */
export async function resolveTask(db: Db, taskId: number, resolvedBy: string, now: string): Promise<ResolveOutcome> {
  return db.transaction().execute(async (trx) => {
    await lockIdleTask(trx, taskId, 'resolve it');
    let resolved = 0;
    let clusters = 0;
    let afterId = 0;
    for (;;) {
      const page = await trx
        .selectFrom('dedup_clusters as c')
        .innerJoin('dedup_task_groups as g', 'g.id', 'c.group_id')
        .select(['c.id', displayedCanonical.as('canonical')])
        .where('c.task_id', '=', taskId)
        .where('c.review_state', '=', 'confirmed')
        .where('g.status', '=', 'done')
        .where('c.id', '>', afterId)
        .orderBy('c.id')
        .limit(RESOLVE_PAGE)
        .execute();
      if (page.length === 0) break;
      const byCluster = await storedMemberIds(trx, page.map((row) => row.id));
      for (const cluster of page) {
        clusters++;
        // Read now: an earlier cluster may just have resolved this canonical question.
        const current = await trx.selectFrom('questions').select('duplicate_of').where('id', '=', cluster.canonical).executeTakeFirst();
        // A canonical question deleted from the bank leaves nothing to point at.
        if (!current) continue;
        const target = current.duplicate_of ?? cluster.canonical;
        const duplicates = (byCluster.get(cluster.id) ?? []).filter((id) => id !== cluster.canonical && id !== target);
        if (duplicates.length === 0) continue;
        const changed = await trx
          .updateTable('questions')
          .set({ duplicate_of: target, resolved_by: resolvedBy, resolved_at: now })
          .where('id', 'in', duplicates)
          .where((eb) => eb.or([eb('duplicate_of', 'is', null), eb('duplicate_of', '!=', target)]))
          .returning('id')
          .execute();
        resolved += changed.length;
        // Keep resolutions one step deep.
        await trx.updateTable('questions').set({ duplicate_of: target }).where('duplicate_of', 'in', duplicates).execute();
      }
      afterId = page[page.length - 1]!.id;
      await nextTurn();
    }
    return { resolved_questions: resolved, clusters };
  });
}

/** Makes a resolved question active again; undefined when there is no such question. */
export async function restoreQuestion(db: Db, id: number): Promise<Question | undefined> {
  const row = await db.updateTable('questions').set({ duplicate_of: null, resolved_by: null, resolved_at: null }).where('id', '=', id).returningAll().executeTakeFirst();
  return row && rowToQuestion(row);
}

export interface Resolution {
  question_id: number;
  external_id: string | null;
  channel_code: string;
  duplicate_of: number;
  duplicate_of_external_id: string | null;
  decided_by: string | null;
  resolved_at: string | null;
}

/** Resolved questions read per page of an export. */
const EXPORT_PAGE = 1000;

/**
 * Every resolved question, in id order, a page at a time along the partial index of resolved
 * questions (keyset, never OFFSET), with a turn of the event loop between pages.
 */
export async function* resolutionPages(db: Db, pageSize = EXPORT_PAGE): AsyncGenerator<Resolution[]> {
  let afterId = 0;
  for (;;) {
    const rows = await db
      .selectFrom('questions as q')
      .leftJoin('questions as canon', 'canon.id', 'q.duplicate_of')
      .select([
        'q.id as question_id',
        'q.external_id',
        'q.channel_code',
        'q.duplicate_of',
        'canon.external_id as duplicate_of_external_id',
        'q.resolved_by as decided_by',
        'q.resolved_at',
      ])
      .where('q.duplicate_of', 'is not', null)
      .where('q.id', '>', afterId)
      .orderBy('q.id')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) return;
    yield rows as Resolution[];
    if (rows.length < pageSize) return;
    afterId = rows[rows.length - 1]!.question_id;
    await nextTurn();
  }
}

/** The canonical question of each of `ids` that is a resolved duplicate; active questions are left out. */
export async function canonicalsOfResolved(db: Db, ids: number[]): Promise<Map<number, number>> {
  const rows = await db.selectFrom('questions').select(['id', 'duplicate_of']).where('id', 'in', ids).where('duplicate_of', 'is not', null).execute();
  return new Map(rows.map((row) => [row.id, row.duplicate_of!]));
}

export interface MappedHit extends CheckHit {
  /** Set when the bank's match was a resolved duplicate: that question's id (question_id names its canonical). */
  resolved_duplicate_id?: number;
}

/**
 * The check answers with active questions only: a hit on a resolved duplicate names its
 * canonical question instead (and the duplicate it matched), once, at the rank of its best hit.
 * The check index keeps every print, resolved or not, so it needs no change when a question is
 * resolved or restored: the mapping is read here, one indexed lookup of the hits' ids
 * (`canonicalOf`: canonicalsOfResolved, through the check route's CoalescedReads).
 */
export async function mapResolvedHits(hits: CheckHit[], canonicalOf: (ids: number[]) => Promise<Map<number, number>>): Promise<MappedHit[]> {
  if (hits.length === 0) return hits;
  const resolved = await canonicalOf(hits.map((hit) => hit.question_id));
  if (resolved.size === 0) return hits;
  const seen = new Set<number>();
  const mapped: MappedHit[] = [];
  for (const hit of hits) {
    const canonical = resolved.get(hit.question_id);
    const shown: MappedHit = canonical === undefined ? hit : { ...hit, question_id: canonical, resolved_duplicate_id: hit.question_id };
    if (seen.has(shown.question_id)) continue;
    seen.add(shown.question_id);
    mapped.push(shown);
  }
  return mapped;
}
