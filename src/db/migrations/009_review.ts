import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../connect.ts';

/**
 * Review and resolution (docs/review.md).
 *
 * `pair_decisions`: reviewers' verdicts on two questions, kept in the bank (not in a task), one
 * row per pair (the smaller id first), each with both questions' row_hash when it was made: it
 * holds while both still have them. The group key of both questions is stored with it, so a
 * run finds one group's verdicts along an index range instead of scanning every decision.
 * (Not `dedup_group_decisions`: that is a run's reuse snapshot.)
 *
 * `dedup_clusters` gets its review state, an optional canonical chosen by a reviewer (the
 * engine's canonical stays: a re-run finds kept clusters by it), and the similarity of its
 * weakest member for the similarity-band filter. `dedup_tasks` gets its review counters and
 * `include_resolved`; `questions` gets `duplicate_of` (a resolution).
 */
export function reviewMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      // The type of questions.id (bigserial on PostgreSQL).
      const questionId = dialect === 'postgres' ? 'bigint' : 'integer';
      const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
      await db.schema
        .createTable('pair_decisions')
        .addColumn('id', idType, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('question_a', questionId, (c) => c.notNull().references('questions.id').onDelete('cascade'))
        .addColumn('question_b', questionId, (c) => c.notNull().references('questions.id').onDelete('cascade'))
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('row_hash_a', 'text', (c) => c.notNull())
        .addColumn('row_hash_b', 'text', (c) => c.notNull())
        .addColumn('type_name', 'text', (c) => c.notNull())
        .addColumn('subject_name', 'text', (c) => c.notNull())
        .addColumn('channel_a', 'text', (c) => c.notNull())
        .addColumn('channel_b', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .addCheckConstraint('pair_decisions_ordered', sql`question_a < question_b`)
        .addCheckConstraint('pair_decisions_verdict', sql`verdict in ('duplicate', 'distinct')`)
        .execute();
      // One decision per pair (a later one replaces it); also a question's decisions as the smaller id.
      await db.schema.createIndex('pair_decisions_pair').on('pair_decisions').columns(['question_a', 'question_b']).unique().execute();
      await db.schema.createIndex('pair_decisions_question_b').on('pair_decisions').columns(['question_b']).execute();
      // A group's decisions: one channel (both channels equal) or every channel of a type and subject.
      await db.schema
        .createIndex('pair_decisions_group')
        .on('pair_decisions')
        .columns(['type_name', 'subject_name', 'channel_a', 'channel_b', 'id'])
        .execute();

      await db.schema.alterTable('dedup_clusters').addColumn('review_state', 'text', (c) => c.notNull().defaultTo('unreviewed')).execute();
      await db.schema.alterTable('dedup_clusters').addColumn('reviewed_by', 'text').execute();
      await db.schema.alterTable('dedup_clusters').addColumn('reviewed_at', 'text').execute();
      await db.schema.alterTable('dedup_clusters').addColumn('review_note', 'text').execute();
      await db.schema.alterTable('dedup_clusters').addColumn('canonical_override', questionId).execute();
      // double precision like the members' similarity: PostgreSQL's real would round 0.9 below a filter's 0.9.
      await db.schema.alterTable('dedup_clusters').addColumn('min_similarity', dialect === 'postgres' ? 'double precision' : 'real', (c) => c.notNull().defaultTo(1)).execute();
      await sql`UPDATE dedup_clusters SET min_similarity = COALESCE((
          SELECT MIN(m.similarity) FROM dedup_cluster_members m
          WHERE m.cluster_id = dedup_clusters.id AND m.question_id <> dedup_clusters.canonical_question_id), 1)`.execute(db);
      // The review filter pages in id order; a group's save counts its reviewed clusters.
      await db.schema.createIndex('dedup_clusters_review').on('dedup_clusters').columns(['task_id', 'review_state', 'id']).execute();
      await db.schema.createIndex('dedup_clusters_group_review').on('dedup_clusters').columns(['group_id', 'review_state']).execute();

      for (const column of ['reviewed_cluster_count', 'confirmed_cluster_count', 'dismissed_cluster_count', 'include_resolved']) {
        await db.schema.alterTable('dedup_tasks').addColumn(column, 'integer', (c) => c.notNull().defaultTo(0)).execute();
      }

      await db.schema.alterTable('questions').addColumn('duplicate_of', questionId, (c) => c.references('questions.id').onDelete('set null')).execute();
      await db.schema.alterTable('questions').addColumn('resolved_by', 'text').execute();
      await db.schema.alterTable('questions').addColumn('resolved_at', 'text').execute();
      // Partial: the resolved few, not a million NULLs on every import. The first pages the export
      // and the status filter; the second finds a canonical's duplicates (and serves the foreign key).
      await db.schema.createIndex('questions_resolved').on('questions').column('id').where(sql<boolean>`duplicate_of IS NOT NULL`).execute();
      await db.schema.createIndex('questions_duplicate_of').on('questions').column('duplicate_of').where(sql<boolean>`duplicate_of IS NOT NULL`).execute();
      // A run's group read stays on the index alone when it leaves resolved duplicates out.
      await db.schema.dropIndex('questions_group').execute();
      await db.schema
        .createIndex('questions_group')
        .on('questions')
        .columns(['type_name', 'subject_name', 'channel_code', 'id', 'row_hash', 'duplicate_of'])
        .execute();
    },
  };
}
