import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * Prints grow from 64 to 96 bytes: a MinHash (workers/dedup/minhash.ts) lets a check read back
 * only the candidates that could reach the similarity asked for. A print stored before stays
 * valid (its MinHash reads as zeros, which drops no candidate), so checks keep finding every
 * question meanwhile; its question goes on the print backlog, and the background backfill (or
 * the next task of its group) prints it again with the MinHash.
 */
export function minhashPrintsMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      const length = dialect === 'postgres' ? sql`octet_length(p.print)` : sql`length(p.print)`;
      await sql`INSERT INTO question_backlog (type_name, subject_name, channel_code, question_id)
        SELECT q.type_name, q.subject_name, q.channel_code, q.id
        FROM question_prints p JOIN questions q ON q.id = p.question_id AND q.row_hash = p.row_hash
        WHERE ${length} = 64
        ON CONFLICT DO NOTHING`.execute(db);
    },
  };
}
