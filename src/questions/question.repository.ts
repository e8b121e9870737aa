import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database, NewQuestionRow, QuestionRow } from '../db/schema.ts';
import type { Question, QuestionInput } from './question.schema.ts';

type Db = Kysely<Database>;

export interface GroupFilter {
  type_name?: string;
  subject_name?: string;
  channel_code?: string;
  q?: string;
}

export interface ImportCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export function rowToQuestion(row: QuestionRow): Question {
  return {
    id: row.id,
    external_id: row.external_id,
    type_name: row.type_name,
    subject_name: row.subject_name,
    channel_code: row.channel_code,
    content: row.content,
    options: row.options === null ? null : JSON.parse(row.options),
    answer: row.answer === null ? null : JSON.parse(row.answer),
    analysis: row.analysis,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function toStoredFields(input: QuestionInput) {
  const fields = {
    external_id: input.external_id ?? null,
    type_name: input.type_name,
    subject_name: input.subject_name,
    channel_code: input.channel_code,
    content: input.content,
    options: input.options == null ? null : JSON.stringify(input.options),
    answer: input.answer == null ? null : JSON.stringify(input.answer),
    analysis: input.analysis ?? null,
  };
  const rowHash = Bun.hash(JSON.stringify(fields)).toString(36);
  return { ...fields, row_hash: rowHash };
}

const keyOf = (channel: string, externalId: string) => `${channel}\u0000${externalId}`;

/** SQLite allows 32,766 bound parameters; PostgreSQL 65,535. Stay well below both. */
const INSERT_CHUNK = 500;
const LOOKUP_CHUNK = 500;

/**
 * Inserts or updates one batch in one transaction. A row with an `external_id` already
 * stored for its channel is updated in place (or left alone when nothing changed),
 * which makes re-importing a file idempotent.
 */
export async function upsertQuestions(db: Db, batch: QuestionInput[], now: string): Promise<ImportCounts> {
  const counts: ImportCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const rows = batch.map(toStoredFields);
  await db.transaction().execute(async (trx) => {
    const stored = await findByExternalIds(trx, rows);
    const pendingInserts = new Map<string, NewQuestionRow>();
    const inserts: NewQuestionRow[] = [];
    for (const row of rows) {
      const key = row.external_id === null ? null : keyOf(row.channel_code, row.external_id);
      const existing = key === null ? undefined : stored.get(key);
      const pending = key === null ? undefined : pendingInserts.get(key);
      if (pending) {
        // The same key twice in one batch: the later row wins, as if imported afterwards.
        if (pending.row_hash === row.row_hash) counts.unchanged++;
        else counts.updated++;
        Object.assign(pending, row);
      } else if (existing) {
        if (existing.row_hash === row.row_hash) {
          counts.unchanged++;
          continue;
        }
        counts.updated++;
        existing.row_hash = row.row_hash;
        // A new text needs a new print: the fingerprint backfill picks the row up again.
        await trx.updateTable('questions').set({ ...row, fingerprint: null, updated_at: now }).where('id', '=', existing.id).execute();
      } else {
        const insert: NewQuestionRow = { ...row, created_at: now, updated_at: now };
        inserts.push(insert);
        if (key !== null) pendingInserts.set(key, insert);
        counts.inserted++;
      }
    }
    for (let start = 0; start < inserts.length; start += INSERT_CHUNK) {
      await trx.insertInto('questions').values(inserts.slice(start, start + INSERT_CHUNK)).execute();
    }
  });
  return counts;
}

async function findByExternalIds(db: Db, rows: { channel_code: string; external_id: string | null }[]) {
  const idsByChannel = new Map<string, Set<string>>();
  for (const row of rows) {
    if (row.external_id === null) continue;
    let ids = idsByChannel.get(row.channel_code);
    if (!ids) idsByChannel.set(row.channel_code, (ids = new Set()));
    ids.add(row.external_id);
  }
  const stored = new Map<string, { id: number; row_hash: string }>();
  for (const [channel, idSet] of idsByChannel) {
    const ids = [...idSet];
    for (let start = 0; start < ids.length; start += LOOKUP_CHUNK) {
      const found = await db
        .selectFrom('questions')
        .select(['id', 'external_id', 'row_hash'])
        .where('channel_code', '=', channel)
        .where('external_id', 'in', ids.slice(start, start + LOOKUP_CHUNK))
        .execute();
      for (const row of found) stored.set(keyOf(channel, row.external_id!), { id: row.id, row_hash: row.row_hash });
    }
  }
  return stored;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function applyFilter<O>(query: SelectQueryBuilder<Database, 'questions', O>, filter: GroupFilter) {
  let filtered = query;
  if (filter.type_name) filtered = filtered.where('type_name', '=', filter.type_name);
  if (filter.subject_name) filtered = filtered.where('subject_name', '=', filter.subject_name);
  if (filter.channel_code) filtered = filtered.where('channel_code', '=', filter.channel_code);
  if (filter.q) filtered = filtered.where(sql<boolean>`content like ${`%${escapeLike(filter.q)}%`} escape '\\'`);
  return filtered;
}

export async function listQuestions(db: Db, filter: GroupFilter, offset: number, limit: number) {
  const base = applyFilter(db.selectFrom('questions'), filter);
  const [rows, total] = await Promise.all([
    base.selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(rowToQuestion), total: Number(total.count) };
}

export async function findQuestion(db: Db, id: number): Promise<Question | undefined> {
  const row = await db.selectFrom('questions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToQuestion(row);
}

export async function deleteQuestion(db: Db, id: number): Promise<Question | undefined> {
  const row = await db.deleteFrom('questions').where('id', '=', id).returningAll().executeTakeFirst();
  return row && rowToQuestion(row);
}

export async function listGroups(db: Db, filter: GroupFilter) {
  const rows = await applyFilter(db.selectFrom('questions'), filter)
    .select(['type_name', 'subject_name', 'channel_code', (eb) => eb.fn.countAll<number>().as('question_count')])
    .groupBy(['type_name', 'subject_name', 'channel_code'])
    .orderBy('type_name')
    .orderBy('subject_name')
    .orderBy('channel_code')
    .execute();
  return rows.map((row) => ({ ...row, question_count: Number(row.question_count) }));
}
