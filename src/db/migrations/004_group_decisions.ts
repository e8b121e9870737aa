import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * Each group's latest decisions (the worker's opaque snapshot: rows, content hashes,
 * clusters), so the task's next run verifies only pairs that involve a new or changed
 * question. Keyed by the group triple, not by the group row: a new run replaces the rows.
 */
export function groupDecisionsMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('dedup_group_decisions')
        .addColumn('task_id', 'integer', (c) => c.notNull().references('dedup_tasks.id').onDelete('cascade'))
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('subject_name', 'text', (c) => c.notNull())
        .addColumn('channel_code', 'text', (c) => c.notNull())
        .addColumn('decisions', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint('dedup_group_decisions_pk', ['task_id', 'type_name', 'subject_name', 'channel_code'])
        .execute();
    },
  };
}
