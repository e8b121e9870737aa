import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { GroupJob } from '../../workers/protocol.ts';
import { rowOf } from '../../workers/dedup/verdicts.ts';
import { dialectOf } from '../db/connect.ts';
import type { Database, GroupRow, Verdict } from '../db/schema.ts';
import { ALL_CHANNELS } from '../tasks/task.schema.ts';
import { AppError } from '../http/errors.ts';
import { nextTurn } from '../pace.ts';
import type { DecisionView } from './review.schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** Decisions written per statement (14 parameters a row). */
const UPSERT_CHUNK = 200;

export interface PairVerdict {
  /** Either order; stored with the smaller id first. */
  a: number;
  b: number;
  verdict: Verdict;
}

/**
 * Remembers verdicts on pairs of questions, each with both questions' current row_hash and
 * group key; a pair decided before is decided again (the later decision wins). A pair whose
 * question is gone from the bank is skipped: there is nothing left to decide about.
 */
export async function rememberVerdicts(db: Db, verdicts: readonly PairVerdict[], decidedBy: string, decidedAt: string, note: string | null): Promise<number> {
  if (verdicts.length === 0) return 0;
  const ids = [...new Set(verdicts.flatMap((pair) => [pair.a, pair.b]))];
  const questions = new Map<number, { row_hash: string; type_name: string; subject_name: string; channel_code: string }>();
  for (let start = 0; start < ids.length; start += 500) {
    const rows = await db
      .selectFrom('questions')
      .select(['id', 'row_hash', 'type_name', 'subject_name', 'channel_code'])
      .where('id', 'in', ids.slice(start, start + 500))
      .execute();
    for (const row of rows) questions.set(row.id, row);
  }
  const rows: Insertable<Database['pair_decisions']>[] = [];
  for (const pair of verdicts) {
    const [a, b] = pair.a < pair.b ? [pair.a, pair.b] : [pair.b, pair.a];
    const qa = questions.get(a);
    const qb = questions.get(b);
    if (a === b || !qa || !qb) continue;
    rows.push({
      question_a: a,
      question_b: b,
      verdict: pair.verdict,
      row_hash_a: qa.row_hash,
      row_hash_b: qb.row_hash,
      // A pair across types or subjects is never in one run's group; the smaller id's key files it.
      type_name: qa.type_name,
      subject_name: qa.subject_name,
      channel_a: qa.channel_code,
      channel_b: qb.channel_code,
      decided_by: decidedBy,
      decided_at: decidedAt,
      note,
    });
  }
  for (let start = 0; start < rows.length; start += UPSERT_CHUNK) {
    await db
      .insertInto('pair_decisions')
      .values(rows.slice(start, start + UPSERT_CHUNK))
      .onConflict((oc) =>
        oc.columns(['question_a', 'question_b']).doUpdateSet((eb) => ({
          verdict: eb.ref('excluded.verdict'),
          row_hash_a: eb.ref('excluded.row_hash_a'),
          row_hash_b: eb.ref('excluded.row_hash_b'),
          type_name: eb.ref('excluded.type_name'),
          subject_name: eb.ref('excluded.subject_name'),
          channel_a: eb.ref('excluded.channel_a'),
          channel_b: eb.ref('excluded.channel_b'),
          decided_by: eb.ref('excluded.decided_by'),
          decided_at: eb.ref('excluded.decided_at'),
          note: eb.ref('excluded.note'),
          // Made with both questions' current versions: it holds.
          lapsed: 0,
        })),
      )
      .execute();
  }
  return rows.length;
}

const DECISION_COLUMNS = ['d.id', 'd.question_a', 'd.question_b', 'd.verdict', 'd.decided_by', 'd.decided_at', 'd.note', 'd.lapsed'] as const;

interface DecisionRow {
  id: number;
  question_a: number;
  question_b: number;
  verdict: Verdict;
  decided_by: string;
  decided_at: string;
  note: string | null;
  lapsed: number;
}

const toView = (row: DecisionRow): DecisionView => ({
  id: row.id,
  question_ids: [row.question_a, row.question_b],
  verdict: row.verdict,
  decided_by: row.decided_by,
  decided_at: row.decided_at,
  note: row.note,
  lapsed: Boolean(row.lapsed),
});

export interface DecisionFilter {
  question_id?: number;
  verdict?: Verdict;
  lapsed?: boolean;
}

/**
 * A page of decisions, newest first. Every decision's questions exist (they cascade), so the
 * count needs no join; `lapsed` is the column a trigger keeps (migration 013), so its filter
 * pages along pair_decisions_lapsed instead of checking every decision's two questions.
 */
export async function listDecisions(db: Db, filter: DecisionFilter, offset: number, limit: number) {
  let query = db.selectFrom('pair_decisions as d');
  if (filter.question_id !== undefined) {
    const id = filter.question_id;
    query = query.where((eb) => eb.or([eb('d.question_a', '=', id), eb('d.question_b', '=', id)]));
  }
  if (filter.verdict) query = query.where('d.verdict', '=', filter.verdict);
  if (filter.lapsed !== undefined) query = query.where('d.lapsed', '=', filter.lapsed ? 1 : 0);
  const [rows, total] = await Promise.all([
    query.select(DECISION_COLUMNS).orderBy('d.id', 'desc').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toView), total: Number(total.count) };
}

/** Forgets one decision (later runs no longer honour it); 404 when there is none. */
export async function deleteDecision(db: Kysely<Database>, id: number): Promise<DecisionView> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('pair_decisions as d').select(DECISION_COLUMNS).where('d.id', '=', id).executeTakeFirst();
    if (!row) throw new AppError(404, `decision ${id} not found`);
    await trx.deleteFrom('pair_decisions').where('id', '=', id).execute();
    return toView(row);
  });
}

/** Decisions read per page when a run gathers its group's. */
const VERDICT_PAGE = 5000;

export interface GroupVerdicts {
  /** Flattened question-id pairs `[a0, b0, a1, b1, …]` (GroupJob.verdicts). */
  distinct: Int32Array;
  duplicate: Int32Array;
  /** Who confirmed each duplicate pair and when, by pairKey: a re-formed cluster's review names them. */
  confirmedBy: Map<string, { by: string; at: string }>;
}

/** One key per unordered pair of question ids. */
export const pairKey = (a: number, b: number) => (a < b ? `${a}:${b}` : `${b}:${a}`);

export interface VerdictScope {
  type_name: string;
  subject_name: string;
  /** One channel, or undefined for every channel of the type and subject. */
  channel_code?: string;
  /** Resolved duplicates count only when the run takes them in (the job's ids say which are in). */
  includeResolved: boolean;
}

interface VerdictRow {
  id: number;
  channel_a: string;
  channel_b: string;
  question_a: number;
  question_b: number;
  verdict: Verdict;
  decided_by: string;
  decided_at: string;
}

/**
 * The decisions that hold for a group about to run: filed under its key (an index range of
 * pair_decisions, never a scan of every decision), not lapsed (the flag a trigger keeps,
 * migration 013), both questions in the job (`ids`, ascending), paged by keyset with a turn of
 * the event loop between pages.
 *
 * No question is read: the job's ids are the group's questions as the run reads them (resolved
 * duplicates left out unless the task takes them in), so "both in the job" also says "both
 * active". Joining each decision to its two questions along questions_group to compare row_hash
 * (as before migration 013) was most of this lookup: 616 ms of every group's lookup on the 1M
 * bench with 100,000 decisions.
 */
export async function loadGroupVerdicts(db: Kysely<Database>, scope: VerdictScope, ids: Float64Array): Promise<GroupVerdicts> {
  const distinct: number[] = [];
  const duplicate: number[] = [];
  const confirmedBy = new Map<string, { by: string; at: string }>();
  // SQLite's planner takes pair_decisions_lapsed (lapsed = 0 AND id > ?) for a one-channel group, which walks every
  // holding decision of the bank for each group: it is told to take the group's range.
  const indexed = dialectOf(db) === 'sqlite' ? sql.raw(' INDEXED BY pair_decisions_group') : sql.raw('');
  let after: [string, string, number] = ['', '', 0];
  for (;;) {
    const range =
      scope.channel_code !== undefined
        ? sql`d.channel_a = ${scope.channel_code} AND d.channel_b = ${scope.channel_code} AND d.id > ${after[2]}`
        : sql`(d.channel_a, d.channel_b, d.id) > (${after[0]}, ${after[1]}, ${after[2]})`;
    const { rows: page } = await sql<VerdictRow>`
      SELECT d.id, d.channel_a, d.channel_b, d.question_a, d.question_b, d.verdict, d.decided_by, d.decided_at
      FROM pair_decisions d${indexed}
      WHERE d.type_name = ${scope.type_name} AND d.subject_name = ${scope.subject_name} AND ${range} AND d.lapsed = 0
      ORDER BY d.channel_a, d.channel_b, d.id
      LIMIT ${VERDICT_PAGE}`.execute(db);
    for (const row of page) {
      if (rowOf(ids, row.question_a) < 0 || rowOf(ids, row.question_b) < 0) continue;
      if (row.verdict === 'distinct') distinct.push(row.question_a, row.question_b);
      else {
        duplicate.push(row.question_a, row.question_b);
        confirmedBy.set(pairKey(row.question_a, row.question_b), { by: row.decided_by, at: row.decided_at });
      }
    }
    if (page.length < VERDICT_PAGE) break;
    const last = page[page.length - 1]!;
    after = [last.channel_a, last.channel_b, last.id];
    await nextTurn();
  }
  return { distinct: Int32Array.from(distinct), duplicate: Int32Array.from(duplicate), confirmedBy };
}

/** Where a task group's decisions are filed (ALL_CHANNELS: every channel of its type and subject). */
export function verdictScope(group: Pick<GroupRow, 'type_name' | 'subject_name' | 'channel_code'>, includeResolved: boolean): VerdictScope {
  return {
    type_name: group.type_name,
    subject_name: group.subject_name,
    channel_code: group.channel_code === ALL_CHANNELS ? undefined : group.channel_code,
    includeResolved,
  };
}

/**
 * Hands the verdicts to the job (GroupJob.verdicts), only when there are any. Copies: the job's
 * arrays are moved to the worker, and the save still reads these (reviewFromVerdicts).
 */
export function withVerdicts(job: GroupJob, verdicts: GroupVerdicts): void {
  if (verdicts.distinct.length === 0 && verdicts.duplicate.length === 0) return;
  job.verdicts = { distinct: verdicts.distinct.slice(), duplicate: verdicts.duplicate.slice() };
}

