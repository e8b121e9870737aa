import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { ok } from '../http/errors.ts';
import { offsetOf, paginationQuery } from '../http/pagination.ts';
import { parseId, parseQuery, readBody } from '../http/validate.ts';
import { exportResponse } from './export.ts';
import { duplicatePairs, listClusters } from './result.repository.ts';
import { deleteTask, getTaskRow, insertTask, listTaskGroups, listTasks, rowToTask } from './task.repository.ts';
import { createTaskBody, listTasksQuery } from './task.schema.ts';
import { clusterReviewQuery } from '../review/review.schema.ts';
import { withQuestions } from '../review/review.routes.ts';

const groupName = z.string().trim().min(1).max(100).optional();
export const clustersQuery = z.object({ type_name: groupName, subject_name: groupName, channel_code: groupName, ...clusterReviewQuery, ...paginationQuery });
export const exportQuery = z.object({ format: z.enum(['csv', 'ndjson']).default('csv') });

export function taskRoutes({ db, runner, now }: AppDeps) {
  const app = new Hono();

  app.post('/', async (c) => {
    const body = await readBody(c, createTaskBody);
    return ok(c, rowToTask(await insertTask(db, body, now())), 201);
  });

  app.get('/', async (c) => {
    const query = parseQuery(c, listTasksQuery);
    const { items, total } = await listTasks(db, query.status, offsetOf(query), query.page_size);
    return ok(c, { items, total, page: query.page, page_size: query.page_size });
  });

  app.get('/:id', async (c) => ok(c, rowToTask(await getTaskRow(db, parseId(c)))));

  app.post('/:id/start', async (c) => ok(c, await runner.start(parseId(c))));

  app.post('/:id/cancel', async (c) => ok(c, await runner.cancel(parseId(c))));

  app.delete('/:id', async (c) => {
    // deleteTask refuses a running task (409) inside its own transaction.
    return ok(c, rowToTask(await deleteTask(db, parseId(c))));
  });

  app.get('/:id/groups', async (c) => {
    const task = await getTaskRow(db, parseId(c));
    return ok(c, await listTaskGroups(db, task.id));
  });

  app.get('/:id/clusters', async (c) => {
    const id = parseId(c);
    const query = parseQuery(c, clustersQuery);
    await getTaskRow(db, id);
    const { items, total } = await listClusters(db, id, query, offsetOf(query), query.page_size);
    const shown = query.include === 'questions' ? await withQuestions(db, items) : items;
    return ok(c, { items: shown, total, page: query.page, page_size: query.page_size });
  });

  app.get('/:id/export', async (c) => {
    const id = parseId(c);
    const { format } = parseQuery(c, exportQuery);
    await getTaskRow(db, id);
    return exportResponse(duplicatePairs(db, id), format, `task-${id}-duplicates`);
  });

  return app;
}
