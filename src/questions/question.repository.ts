import { sql, SqliteAdapter, type CompiledQuery, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database, NewQuestionRow, QuestionRow } from '../db/schema.ts';
import type { Question, QuestionInput } from './question.schema.ts';
import { nextTurn } from '../pace.ts';
import { decodeTextFields } from './packed-rows.ts';
import { isLegacyRowHash, legacyRowHash, toStoredFields, type StoredQuestion } from './stored-question.ts';

type Db = Kysely<Database>;

export interface GroupFilter {
  type_name?: string;
  subject_name?: string;
  channel_code?: string;
  q?: string;
  /** active: not resolved as a duplicate; duplicate: resolved (src/review/). */
  status?: 'active' | 'duplicate';
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
    duplicate_of: row.duplicate_of ?? null,
  };
}

const keyOf = (channel: string, externalId: string) => `${channel}\u0000${externalId}`;

/** SQLite allows 32,766 bound parameters; PostgreSQL 65,535. Stay well below both. */
const INSERT_CHUNK = 500;
const LOOKUP_CHUNK = 500;
/** Updated rows between two turns of the event loop (an indexed row's update re-indexes its text: ~0.1-0.3 ms). */
const UPDATES_PER_TURN = 100;

/** The stored columns in the order `StoredQuestion` plus the timestamps fill them. */
const INSERT_COLUMNS = ['external_id', 'type_name', 'subject_name', 'channel_code', 'content', 'options', 'answer', 'analysis', 'row_hash', 'created_at', 'updated_at'] as const;

/**
 * Bulk statements compiled once per database and row count, then run with fresh parameters.
 * Building and compiling a 500-row INSERT (5,500 values) through Kysely cost about as much
 * main-thread time as SQLite's own work on it. Each template is compiled with marker values
 * and kept only if its parameters come out exactly in the order the caller fills them, so a
 * dialect that orders or inlines them differently just takes the ordinary path.
 */
const templates = new WeakMap<Db, Map<string, CompiledQuery | null>>();

function template(db: Db, key: string, markerCount: number, build: (markers: string[]) => CompiledQuery): CompiledQuery | null {
  let cache = templates.get(db);
  if (!cache) templates.set(db, (cache = new Map()));
  let compiled = cache.get(key);
  if (compiled === undefined) {
    const markers = Array.from({ length: markerCount }, (_, i) => `\u0000marker:${i}`);
    const candidate = build(markers);
    const same = candidate.parameters.length === markers.length && candidate.parameters.every((value, i) => value === markers[i]);
    cache.set(key, (compiled = same ? candidate : null));
  }
  return compiled;
}

/** The columns a StoredText fills: a string, or UTF-8 bytes from the parsing thread. */
const TEXT_COLUMNS: ReadonlySet<string> = new Set(['content', 'options', 'answer', 'analysis']);

/**
 * SQLite stores UTF-8 bytes bound as a blob as the very same text through `cast(? as text)`
 * (the database encoding is UTF-8), and a string through the cast unchanged. PostgreSQL
 * would turn bytes into bytea's hex text, so it is given strings.
 */
const bindsUtf8Bytes = (db: Db) => db.getExecutor().adapter instanceof SqliteAdapter;

function insertTemplate(db: Db, rowCount: number): CompiledQuery | null {
  const castBytes = bindsUtf8Bytes(db);
  return template(db, `insert:${rowCount}`, rowCount * INSERT_COLUMNS.length, (markers) => {
    const rows = Array.from({ length: rowCount }, (_, r) => {
      const row: Record<string, unknown> = {};
      INSERT_COLUMNS.forEach((column, c) => {
        const marker = markers[r * INSERT_COLUMNS.length + c]!;
        row[column] = castBytes && TEXT_COLUMNS.has(column) ? sql`cast(${marker} as text)` : marker;
      });
      return row as unknown as NewQuestionRow;
    });
    return db.insertInto('questions').values(rows).compile();
  });
}

type PendingInsert = StoredQuestion & Pick<NewQuestionRow, 'created_at' | 'updated_at'>;

async function insertRows(db: Db, trx: Db, rows: PendingInsert[]) {
  const compiled = insertTemplate(db, rows.length);
  if (!compiled || !bindsUtf8Bytes(db)) for (const row of rows) decodeTextFields(row);
  if (!compiled) {
    await trx.insertInto('questions').values(rows as NewQuestionRow[]).execute();
    return;
  }
  const parameters: unknown[] = new Array(rows.length * INSERT_COLUMNS.length);
  let k = 0;
  for (const row of rows) for (const column of INSERT_COLUMNS) parameters[k++] = row[column] ?? null;
  await trx.executeQuery({ ...compiled, parameters });
}

/** A row stored before hashes were versioned is unchanged if its old hash matches this row's. */
function sameAsLegacyHash(stored: string, row: StoredQuestion): boolean {
  if (!isLegacyRowHash(stored)) return false;
  decodeTextFields(row);
  return stored === legacyRowHash(row);
}

/** Validated questions, stored as `upsertStoredQuestions` does. */
export function upsertQuestions(db: Db, batch: QuestionInput[], now: string): Promise<ImportCounts> {
  return upsertStoredQuestions(db, batch.map(toStoredFields), now);
}

/**
 * Inserts or updates one batch in one transaction. A row with an `external_id` already
 * stored for its channel is updated in place (or left alone when nothing changed),
 * which makes re-importing a file idempotent.
 */
export async function upsertStoredQuestions(db: Db, rows: StoredQuestion[], now: string): Promise<ImportCounts> {
  const counts: ImportCounts = { inserted: 0, updated: 0, unchanged: 0 };
  await db.transaction().execute(async (trx) => {
    const stored = await findByExternalIds(db, trx, rows);
    const pendingInserts = new Map<string, PendingInsert>();
    const inserts: PendingInsert[] = [];
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
        if (existing.row_hash === row.row_hash || sameAsLegacyHash(existing.row_hash, row)) {
          counts.unchanged++;
          continue;
        }
        counts.updated++;
        // Each update is its own statement (with trigger work: prints backlog, search index): turn the loop now and then.
        if (counts.updated % UPDATES_PER_TURN === 0) await nextTurn();
        decodeTextFields(row);
        existing.row_hash = row.row_hash;
        // A new row_hash makes the stored print stale; a trigger puts the row on the print backlog.
        await trx.updateTable('questions').set({ ...row, updated_at: now }).where('id', '=', existing.id).execute();
      } else {
        const insert: PendingInsert = { ...row, created_at: now, updated_at: now };
        inserts.push(insert);
        if (key !== null) pendingInserts.set(key, insert);
        counts.inserted++;
      }
    }
    await insertNewRows(db, trx, inserts);
  });
  return counts;
}

/**
 * The batch's new rows, in INSERTs of INSERT_CHUNK rows. On SQLite the group counts are then
 * brought up to date for all of them at once, in the same transaction (migration 012 dropped
 * the per-row INSERT triggers; PostgreSQL's statement-level triggers still do it): this is the
 * one path that inserts questions, and any other must do the same. New rows are exactly those
 * above the largest id before the first INSERT (ids only grow, AUTOINCREMENT, and this
 * transaction is the only writer). They are not put on the print backlog: on SQLite new rows
 * wait above its mark (migration 014, src/dedup/print-queue.ts), which saves the import ~3 µs
 * a short row and a third of its commit's pages.
 */
async function insertNewRows(db: Db, trx: Db, inserts: PendingInsert[]) {
  if (inserts.length === 0) return;
  const setBased = bindsUtf8Bytes(db);
  const lastId = setBased ? ((await sql<{ id: number | null }>`SELECT max(id) AS id FROM questions`.execute(trx)).rows[0]?.id ?? 0) : 0;
  for (let start = 0; start < inserts.length; start += INSERT_CHUNK) {
    // Other queries wait for this transaction's connection, but timers, sockets and requests run.
    if (start > 0) await nextTurn();
    await insertRows(db, trx, inserts.slice(start, start + INSERT_CHUNK));
  }
  if (!setBased) return;
  await nextTurn();
  // NOT INDEXED: the new rows by their rowid range, never a walk over an index of the whole bank.
  await sql`INSERT INTO question_group_counts (type_name, subject_name, channel_code, question_count)
    SELECT type_name, subject_name, channel_code, count(*) FROM questions NOT INDEXED WHERE id > ${lastId} GROUP BY type_name, subject_name, channel_code
    ON CONFLICT (type_name, subject_name, channel_code) DO UPDATE SET question_count = question_count + excluded.question_count`.execute(trx);
  // The commit comes next, a stretch of its own: it writes every page the batch dirtied into the
  // WAL (~3,000 pages, 20-40 ms of main-thread CPU for 10,000 short rows over 2,000 groups).
  await nextTurn();
}

function lookupTemplate(db: Db, idCount: number): CompiledQuery | null {
  return template(db, `lookup:${idCount}`, idCount + 1, (markers) =>
    db.selectFrom('questions').select(['id', 'external_id', 'row_hash']).where('channel_code', '=', markers[0]!).where('external_id', 'in', markers.slice(1)).compile(),
  );
}

async function findByExternalIds(db: Db, trx: Db, rows: { channel_code: string; external_id: string | null }[]) {
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
      // A 10,000-row batch is 20 lookups: the event loop turns between them, as between the INSERTs.
      if (start > 0) await nextTurn();
      const chunk = ids.slice(start, start + LOOKUP_CHUNK);
      const compiled = lookupTemplate(db, chunk.length);
      const found = compiled
        ? ((await trx.executeQuery({ ...compiled, parameters: [channel, ...chunk] })).rows as { id: number; external_id: string | null; row_hash: string }[])
        : await trx.selectFrom('questions').select(['id', 'external_id', 'row_hash']).where('channel_code', '=', channel).where('external_id', 'in', chunk).execute();
      for (const row of found) stored.set(keyOf(channel, row.external_id!), { id: row.id, row_hash: row.row_hash });
    }
  }
  return stored;
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** The filters other than text search (`q`, which question-listing.ts turns into an index lookup per dialect). */
export function applyFilter<O>(query: SelectQueryBuilder<Database, 'questions', O>, filter: Omit<GroupFilter, 'q'>) {
  let filtered = query;
  if (filter.type_name) filtered = filtered.where('type_name', '=', filter.type_name);
  if (filter.subject_name) filtered = filtered.where('subject_name', '=', filter.subject_name);
  if (filter.channel_code) filtered = filtered.where('channel_code', '=', filter.channel_code);
  if (filter.status) filtered = filtered.where('duplicate_of', filter.status === 'active' ? 'is' : 'is not', null);
  return filtered;
}

export async function findQuestion(db: Db, id: number): Promise<Question | undefined> {
  const row = await db.selectFrom('questions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToQuestion(row);
}

export async function deleteQuestion(db: Db, id: number): Promise<Question | undefined> {
  const row = await db.deleteFrom('questions').where('id', '=', id).returningAll().executeTakeFirst();
  return row && rowToQuestion(row);
}
