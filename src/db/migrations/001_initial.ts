import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/** The five tables of the service: questions, tasks, the tasks' groups, clusters and their members. */
export function initialMigration(dialect: DialectName): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  const idColumn = (column: any) => (dialect === 'postgres' ? column.primaryKey() : column.primaryKey().autoIncrement());
  const realType = dialect === 'postgres' ? 'double precision' : 'real';
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('questions')
        .addColumn('id', idType, idColumn)
        .addColumn('external_id', 'text')
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('subject_name', 'text', (c) => c.notNull())
        .addColumn('channel_code', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('options', 'text')
        .addColumn('answer', 'text')
        .addColumn('analysis', 'text')
        .addColumn('row_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('questions_channel_external_id')
        .on('questions')
        .columns(['channel_code', 'external_id'])
        .unique()
        .where(sql.ref('external_id'), 'is not', null)
        .execute();
      await db.schema
        .createIndex('questions_group')
        .on('questions')
        .columns(['type_name', 'subject_name', 'channel_code', 'id'])
        .execute();

      await db.schema
        .createTable('dedup_tasks')
        .addColumn('id', idType, idColumn)
        .addColumn('task_name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('filters', 'text', (c) => c.notNull())
        .addColumn('max_distance', 'integer', (c) => c.notNull())
        .addColumn('min_similarity', realType, (c) => c.notNull())
        .addColumn('total_groups', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('processed_groups', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('total_questions', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('processed_questions', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('duplicate_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('cluster_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('run_number', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('dedup_tasks_status').on('dedup_tasks').columns(['status', 'id']).execute();

      await db.schema
        .createTable('dedup_task_groups')
        .addColumn('id', idType, idColumn)
        .addColumn('task_id', 'integer', (c) => c.notNull().references('dedup_tasks.id').onDelete('cascade'))
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('subject_name', 'text', (c) => c.notNull())
        .addColumn('channel_code', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('question_count', 'integer', (c) => c.notNull())
        .addColumn('duplicate_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('cluster_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('elapsed_ms', 'integer')
        .addColumn('error', 'text')
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema
        .createIndex('dedup_task_groups_task_group')
        .on('dedup_task_groups')
        .columns(['task_id', 'type_name', 'subject_name', 'channel_code'])
        .unique()
        .execute();
      await db.schema.createIndex('dedup_task_groups_task_status').on('dedup_task_groups').columns(['task_id', 'status']).execute();

      await db.schema
        .createTable('dedup_clusters')
        .addColumn('id', idType, idColumn)
        .addColumn('task_id', 'integer', (c) => c.notNull().references('dedup_tasks.id').onDelete('cascade'))
        .addColumn('group_id', 'integer', (c) => c.notNull().references('dedup_task_groups.id').onDelete('cascade'))
        .addColumn('canonical_question_id', 'integer', (c) => c.notNull())
        .addColumn('member_count', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dedup_clusters_task').on('dedup_clusters').columns(['task_id', 'id']).execute();
      await db.schema.createIndex('dedup_clusters_group').on('dedup_clusters').columns(['group_id']).execute();

      await db.schema
        .createTable('dedup_cluster_members')
        .addColumn('cluster_id', 'integer', (c) => c.notNull().references('dedup_clusters.id').onDelete('cascade'))
        .addColumn('task_id', 'integer', (c) => c.notNull())
        .addColumn('question_id', 'integer', (c) => c.notNull())
        .addColumn('distance', 'integer', (c) => c.notNull())
        .addColumn('similarity', realType, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dedup_cluster_members_cluster').on('dedup_cluster_members').columns(['cluster_id']).execute();
    },
  };
}
