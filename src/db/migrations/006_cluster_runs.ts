import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Clusters outlive a run: each carries the run that last confirmed it. A re-run keeps a
 * group's clusters the worker found unchanged (whole, same members and numbers) by moving them
 * to the new run, and writes only the rest, instead of deleting and rewriting every cluster
 * and member of the task. Readers show the clusters of the task's current run.
 */
export function clusterRunsMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('dedup_clusters').addColumn('run_number', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await sql`UPDATE dedup_clusters SET run_number = (SELECT run_number FROM dedup_tasks WHERE dedup_tasks.id = dedup_clusters.task_id)`.execute(db);
      // A group's clusters by canonical question: how a kept cluster is found again.
      await db.schema.dropIndex('dedup_clusters_group').execute();
      await db.schema.createIndex('dedup_clusters_group').on('dedup_clusters').columns(['group_id', 'canonical_question_id']).execute();
    },
  };
}
