import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { AppDeps } from '../app.ts';
import type { Database } from '../db/schema.ts';
import { reviewerOf } from '../http/auth.ts';
import { notFound, ok } from '../http/errors.ts';
import { offsetOf } from '../http/pagination.ts';
import { parseId, parseQuery, readBody } from '../http/validate.ts';
import { rowToQuestion } from '../questions/question.repository.ts';
import type { Question } from '../questions/question.schema.ts';
import type { ClusterView } from '../tasks/result.repository.ts';
import { deleteDecision, listDecisions } from './pair-decisions.repository.ts';
import { resolutionPages, resolveTask, restoreQuestion } from './resolution.repository.ts';
import { streamRecords } from './resolution.export.ts';
import { reviewCluster } from './review.repository.ts';
import { decisionsQuery, resolutionsQuery, resolveBody, reviewBody } from './review.schema.ts';

type Deps = Pick<AppDeps, 'db' | 'now' | 'reviewEvents'>;

/** `POST /api/dedup/tasks/:id/clusters/:cluster_id/review` and `POST /api/dedup/tasks/:id/resolve` (mounted beside the task routes). */
export function taskReviewRoutes({ db, now, reviewEvents }: Deps) {
  const app = new Hono();

  app.post('/:id/clusters/:cluster_id/review', async (c) => {
    const taskId = parseId(c);
    const clusterId = parseId(c, 'cluster_id');
    const body = await readBody(c, reviewBody);
    const { cluster, review_progress } = await reviewCluster(db, taskId, clusterId, body, reviewerOf(c), now());
    reviewEvents.clusterReviewed({
      task_id: taskId,
      cluster_id: cluster.cluster_id,
      review: cluster.review,
      canonical_question_id: cluster.canonical_question_id,
      members: cluster.members,
      review_progress,
    });
    return ok(c, cluster);
  });

  app.post('/:id/resolve', async (c) => {
    const taskId = parseId(c);
    await readBody(c, resolveBody, { optional: true });
    const outcome = await resolveTask(db, taskId, reviewerOf(c), now());
    reviewEvents.taskResolved({ task_id: taskId, resolved_questions: outcome.resolved_questions });
    return ok(c, outcome);
  });

  return app;
}

/** `GET /api/dedup/decisions`, `DELETE /api/dedup/decisions/:id`. */
export function decisionRoutes({ db }: Deps) {
  const app = new Hono();
  app.get('/', async (c) => {
    const query = parseQuery(c, decisionsQuery);
    const { items, total } = await listDecisions(db, query, offsetOf(query), query.page_size);
    return ok(c, { items, total, page: query.page, page_size: query.page_size });
  });
  app.delete('/:id', async (c) => ok(c, await deleteDecision(db, parseId(c))));
  return app;
}

/** `GET /api/dedup/resolutions?format=csv|ndjson`: every resolved question, streamed. */
export function resolutionRoutes({ db }: Deps) {
  const app = new Hono();
  app.get('/', (c) => {
    const { format } = parseQuery(c, resolutionsQuery);
    return streamRecords(resolutionPages(db), format, 'resolutions');
  });
  return app;
}

/** `POST /api/questions/:id/restore`: the question is active again. */
export function restoreRoutes({ db }: Deps) {
  const app = new Hono();
  app.post('/:id/restore', async (c) => {
    const question = await restoreQuestion(db, parseId(c));
    if (!question) throw notFound('question');
    return ok(c, question);
  });
  return app;
}

/** `include=questions` on the clusters route: each member's stored question (null when deleted since). */
export async function withQuestions(db: Kysely<Database>, clusters: ClusterView[]): Promise<(ClusterView & { members: (ClusterView['members'][number] & { question: Question | null })[] })[]> {
  const ids = [...new Set(clusters.flatMap((cluster) => cluster.members.map((member) => member.question_id)))];
  const questions = new Map<number, Question>();
  for (let start = 0; start < ids.length; start += 500) {
    const rows = await db.selectFrom('questions').selectAll().where('id', 'in', ids.slice(start, start + 500)).execute();
    for (const row of rows) questions.set(row.id, rowToQuestion(row));
  }
  return clusters.map((cluster) => ({ ...cluster, members: cluster.members.map((member) => ({ ...member, question: questions.get(member.question_id) ?? null })) }));
}
