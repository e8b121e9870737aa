import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';

export interface WaitingQuestion {
  question_id: number;
  type_name: string;
  subject_name: string;
  channel_code: string;
}

/**
 * Every question waiting for a print, under the group it is listed by: the backlog's entries,
 * and the new rows above its mark without a valid print (migration 014). A question listed
 * under a group it no longer has shows up twice, so tests see a stale entry.
 */
export async function waitingForPrint(db: Kysely<Database>): Promise<WaitingQuestion[]> {
  const result = await sql<WaitingQuestion>`
    SELECT type_name, subject_name, channel_code, question_id FROM question_backlog
    UNION
    SELECT q.type_name, q.subject_name, q.channel_code, q.id AS question_id FROM questions q
    WHERE q.id > (SELECT queued_through FROM question_print_queue WHERE id = 1)
      AND NOT EXISTS (SELECT 1 FROM question_prints p WHERE p.question_id = q.id AND p.row_hash = q.row_hash)
    ORDER BY question_id, type_name, subject_name, channel_code`.execute(db);
  return result.rows.map((row) => ({ ...row, question_id: Number(row.question_id) }));
}
