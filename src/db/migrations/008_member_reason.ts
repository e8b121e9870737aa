import type { Kysely, Migration } from 'kysely';

/**
 * Why a member is in its cluster (workers/dedup/reason.ts): the stage code that joined it and
 * the bitmask of checks that agreed with the canonical question, stored as the worker sends
 * them. Null for members stored before: their runs did not say, and a re-run rewrites them
 * (the algorithm version changed with this, so no earlier decision is reused).
 */
export function memberReasonMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      await db.schema.alterTable('dedup_cluster_members').addColumn('reason_stage', 'smallint').execute();
      await db.schema.alterTable('dedup_cluster_members').addColumn('reason_checks', 'integer').execute();
    },
  };
}
