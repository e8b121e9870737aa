import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './db/schema.ts';
import { dashboardRoutes } from './dashboard/dashboard.routes.ts';
import type { BankIndex } from './dedup/bank-index.ts';
import { checkRoutes } from './dedup/check.routes.ts';
import { docsRoutes } from './docs/docs.routes.ts';
import { requireBearer } from './http/auth.ts';
import { requestLog } from './http/request-log.ts';
import { errorBody, handleError, ok } from './http/errors.ts';
import { mediaType } from './http/validate.ts';
import type { ServiceMetrics } from './metrics/service-metrics.ts';
import type { NdjsonParser } from './questions/ndjson-parser.ts';
import { questionRoutes } from './questions/question.routes.ts';
import type { TaskRunner } from './tasks/task.runner.ts';
import { taskRoutes } from './tasks/task.routes.ts';
import type { ReviewEvents } from './review/review.events.ts';
import { decisionRoutes, resolutionRoutes, restoreRoutes, taskReviewRoutes } from './review/review.routes.ts';
import type { InteractiveWork } from './tasks/interactive-work.ts';

export interface AppDeps {
  db: Kysely<Database>;
  runner: TaskRunner;
  /** The thread that parses NDJSON imports; created by main.ts. */
  ndjsonParser: Pick<NdjsonParser, 'open'>;
  /** Checks are counted here while they run: a task's main-thread steps wait for them (main.ts, interactive-work.ts). */
  interactive?: Pick<InteractiveWork, 'during'>;
  /** Prints of the whole bank: answers checks, learns of imports and deletes. */
  bank: Pick<BankIndex, 'check' | 'forget' | 'scheduleBackfill'>;
  logger: Logger;
  now: () => string;
  corsOrigins: '*' | readonly string[];
  authTokens: readonly string[];
  /** Token → name, for `name:token` entries of AUTH_TOKENS (review decisions record the name). */
  tokenNames?: Readonly<Record<string, string>>;
  maxBodyMb: number;
  health: () => Promise<{ db: string; workers: number; version: string }>;
  /** Shown in the OpenAPI document. */
  version: string;
  /** Where review and resolution are announced to the task's room (main.ts: Socket.IO). */
  reviewEvents: ReviewEvents;
  /** Created by main.ts; rendered at `/metrics`, fed by the request log. */
  metrics: Pick<ServiceMetrics, 'render' | 'recordRequest'>;
}

/** Builds the HTTP API; no I/O happens here, so tests can build it with their own deps. */
export function createApp(deps: AppDeps) {
  const app = new Hono();
  const { corsOrigins, authTokens, maxBodyMb } = deps;

  app.use('*', requestLog(deps.logger, deps.metrics.recordRequest));
  app.use(
    '*',
    cors({
      origin: corsOrigins === '*' ? (origin) => origin || '*' : [...corsOrigins],
      credentials: true,
      allowHeaders: ['Content-Type', 'Authorization', 'X-Request-Id', 'X-Reviewer'],
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['Content-Disposition', 'X-Request-Id'],
    }),
  );

  app.get('/api/health', async (c) => ok(c, { status: 'ok', ...(await deps.health()) }));
  // The API's description is public even when the API itself needs a token.
  app.route('/api', docsRoutes(deps.version));

  if (authTokens.length > 0) app.use('/api/*', requireBearer(authTokens, deps.tokenNames));

  // NDJSON and CSV imports stream record by record and may be any size; every other body is bounded.
  const streamed = new Set(['application/x-ndjson', 'text/csv']);
  const limitBody = bodyLimit({
    maxSize: maxBodyMb * 1024 * 1024,
    onError: (c) => {
      // The rest of the body is never read, so this connection cannot carry another request:
      // say so, or a keep-alive client sends its next request into the unread bytes and gets a reset.
      c.header('Connection', 'close');
      return c.json(errorBody(413, `request body is larger than ${maxBodyMb} MB`), 413);
    },
  });
  app.use('/api/*', (c, next) => (streamed.has(mediaType(c)) ? next() : limitBody(c, next)));

  app.route('/api', questionRoutes(deps));
  app.route('/api/dedup/tasks', taskRoutes(deps));
  app.route('/api/dedup/tasks', taskReviewRoutes(deps));
  app.route('/api/dedup/decisions', decisionRoutes(deps));
  app.route('/api/dedup/resolutions', resolutionRoutes(deps));
  app.route('/api/questions', restoreRoutes(deps));
  app.route('/api/dedup/check', checkRoutes(deps));

  app.route('/', dashboardRoutes());
  // Prometheus scrapes without a token, like /api/health; keep the port internal if that matters.
  app.get('/metrics', async (c) => c.text(await deps.metrics.render(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }));

  app.notFound((c) => c.json(errorBody(404, `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError(handleError(deps.logger));
  return app;
}
