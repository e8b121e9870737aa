import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * `pair_decisions.lapsed` (1: either question no longer has the content, or the group, it had
 * when the decision was made), kept by a trigger on the questions' row_hash and group columns,
 * and indexed with the id: `GET /api/dedup/decisions?lapsed=…` pages along an index instead of
 * checking every decision against its two questions (240 ms on 100,000 decisions, issue 13).
 * A decision is written with its questions' current versions, so a new one holds (0).
 * An integer on both databases, so one query reads it either way.
 */
export function decisionLapsedMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('pair_decisions').addColumn('lapsed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await sql`UPDATE pair_decisions SET lapsed = ${sql.raw(LAPSED)}`.execute(db);
      await db.schema.createIndex('pair_decisions_lapsed').on('pair_decisions').columns(['lapsed', 'id']).execute();
      for (const statement of dialect === 'postgres' ? postgresTriggers : sqliteTriggers) await sql.raw(statement).execute(db);
    },
  };
}

/** Whether the decision in the row being updated (pair_decisions, unaliased) has lapsed: 1 or 0. */
const holds = (id: string, channel: string, hash: string) =>
  `EXISTS (SELECT 1 FROM questions q WHERE q.id = pair_decisions.${id} AND q.row_hash = pair_decisions.${hash}
     AND q.type_name = pair_decisions.type_name AND q.subject_name = pair_decisions.subject_name AND q.channel_code = pair_decisions.${channel})`;
const LAPSED = `CASE WHEN ${holds('question_a', 'channel_a', 'row_hash_a')} AND ${holds('question_b', 'channel_b', 'row_hash_b')} THEN 0 ELSE 1 END`;

/** A question whose version or group changed: its decisions (as either question) are checked again; a change back makes them hold again. */
const sqliteTriggers = [
  `CREATE TRIGGER questions_decisions_lapse AFTER UPDATE OF row_hash, type_name, subject_name, channel_code ON questions
   WHEN old.row_hash IS NOT new.row_hash OR old.type_name IS NOT new.type_name OR old.subject_name IS NOT new.subject_name OR old.channel_code IS NOT new.channel_code BEGIN
     UPDATE pair_decisions SET lapsed = ${LAPSED} WHERE question_a = new.id;
     UPDATE pair_decisions SET lapsed = ${LAPSED} WHERE question_b = new.id;
   END`,
];

const postgresTriggers = [
  `CREATE FUNCTION pair_decisions_lapse() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     UPDATE pair_decisions SET lapsed = ${LAPSED} WHERE question_a = NEW.id;
     UPDATE pair_decisions SET lapsed = ${LAPSED} WHERE question_b = NEW.id;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER questions_decisions_lapse AFTER UPDATE ON questions FOR EACH ROW
     WHEN (OLD.row_hash IS DISTINCT FROM NEW.row_hash OR OLD.type_name IS DISTINCT FROM NEW.type_name
       OR OLD.subject_name IS DISTINCT FROM NEW.subject_name OR OLD.channel_code IS DISTINCT FROM NEW.channel_code)
     EXECUTE FUNCTION pair_decisions_lapse()`,
];
