import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * Each question's print (64 bytes: SimHash, exact hash, sketch keys…), cached so a re-run
 * does not fingerprint unchanged questions again and the check index loads at start-up.
 * Null until computed; an import that changes the text resets it.
 */
export function questionFingerprintsMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('questions')
        .addColumn('fingerprint', dialect === 'postgres' ? 'bytea' : 'blob')
        .execute();
      // Finds the questions still waiting for a print, per group, without scanning the group.
      await db.schema
        .createIndex('questions_unprinted')
        .on('questions')
        .columns(['type_name', 'subject_name', 'channel_code', 'id'])
        .where(sql.ref('fingerprint'), 'is', null)
        .execute();
    },
  };
}
