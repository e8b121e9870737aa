import { serve, type ServerType } from '@hono/node-server';
import { createAdapter } from '@socket.io/postgres-adapter';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import packageJson from '../package.json' with { type: 'json' };
import { createApp } from './app.ts';
import { BankIndex } from './dedup/bank-index.ts';
import { checkOnPool } from './dedup/check.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { connectDatabase, migrateToLatest, redactUrl } from './db/connect.ts';
import { createLogger, drainLogs } from './logger.ts';
import { openPostgresPool } from './db/postgres.ts';
import { PostgresSearchIndexer } from './db/postgres-search-indexer.ts';
import { createClusterProgress, shareBankChanges, shareTaskStarts } from './realtime/cluster.ts';
import type { ClientToServerEvents, ServerToClientEvents } from './realtime/events.ts';
import { createServiceMetrics } from './metrics/service-metrics.ts';
import { NdjsonParser } from './questions/ndjson-parser.ts';
import { createProgressSink } from './realtime/progress.ts';
import { registerSocketHandlers } from './realtime/socket.ts';
import { createReviewEvents } from './review/review.events.ts';
import { TaskRunner } from './tasks/task.runner.ts';
import { InteractiveWork } from './tasks/interactive-work.ts';

export interface RunningService {
  url: string;
  port: number;
  runner: TaskRunner;
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
  /** The pool's worker file; tests swap in failing or slow fixtures. */
  workerFile?: URL;
  /** The NDJSON parsing thread's file; tests swap in a failing fixture. */
  ndjsonParserFile?: URL;
}

const DEFAULT_WORKER = new URL('../workers/dedup.worker.ts', import.meta.url);
/** Prints alone, for the check index and the fingerprint cache; run on the same pool. */
const PRINT_WORKER = new URL('../workers/print.worker.ts', import.meta.url);
/** POST /api/dedup/check's print and verification, on a pool of their own. */
const CHECK_WORKER = new URL('../workers/check.worker.ts', import.meta.url);

/**
 * The composition root: opens the database, builds the pool, the runner, the HTTP app and
 * Socket.IO on one port, resumes interrupted tasks, and owns the order of shutdown.
 */
export async function startService(config: Readonly<Config>, options: ServiceOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? (await createLogger(config.logLevel, { terminal: false }));
  const now = () => new Date().toISOString();
  const database = await connectDatabase(config.databaseUrl, { maxConnections: config.dbPoolSize });
  await migrateToLatest(database);
  const { db } = database;
  // On PostgreSQL, instances may share the database, its tasks and their rooms; SQLite has one instance.
  const shared = database.dialect === 'postgres';
  const instanceId = config.instanceId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  // Checks in flight go first: a task's next group read or save, and a search-index batch, wait for them (bounded).
  const interactive = new InteractiveWork();
  // PostgreSQL: new rows enter the trigram search index in the background (SQLite's openSqlite starts its own).
  const searchIndexer = database.dialect === 'postgres' ? new PostgresSearchIndexer(db, undefined, interactive) : undefined;

  const pool = new Piscina({
    filename: (options.workerFile ?? DEFAULT_WORKER).href,
    minThreads: 1,
    maxThreads: config.workers,
    // Piscina's default (0) ends a thread above minThreads the moment it is idle, as between two
    // groups while the main thread reads the next one; respawning it (and loading the worker
    // module again) cost four times the CPU of the work itself with WORKERS=2 (test/bench/scale-out.ts).
    idleTimeout: 60_000,
    // Kill and replace a worker that blows its heap instead of taking the process down.
    resourceLimits: { maxOldGenerationSizeMb: 2048 },
  });
  // Checks on threads of their own at normal priority: a check is a request someone waits for, so
  // it must neither queue behind a task's groups on the task pool nor hold the main thread (100
  // concurrent checks of questions with hundreds of near copies were seconds of it). Small:
  // checks are short, and every thread here takes a core from the task.
  const checkPool = new Piscina({
    filename: CHECK_WORKER.href,
    minThreads: 1,
    maxThreads: Math.max(1, Math.min(4, Math.floor(config.workers / 2))),
    idleTimeout: 60_000,
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });
  // Read at scrape time; `io` is defined below, long before the first scrape.
  const metrics = createServiceMetrics({ db, pool, sockets: () => io.of('/').sockets.size });

  const io = new Server<ClientToServerEvents, ServerToClientEvents>({
    path: '/socket.io/',
    transports: ['polling', 'websocket'],
    cors: { origin: config.corsOrigins === '*' ? true : [...config.corsOrigins], credentials: true },
    // Not when shared: the PostgreSQL adapter cannot restore sessions, and with recovery on, every
    // socket.emit would go through a NOTIFY round trip and arrive after its acknowledgement.
    // A client that reconnects re-joins its room and gets the current state through task_status.
    ...(shared ? {} : { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false } }),
    // `cors` only covers polling; browsers send Origin on WebSocket upgrades too but do not
    // enforce anything there, so the allow-list is checked here for both transports.
    // Clients that send no Origin (servers, scripts) are not browsers and pass.
    allowRequest: (request, callback) => {
      const origin = request.headers.origin;
      callback(null, config.corsOrigins === '*' || origin === undefined || config.corsOrigins.includes(origin));
    },
  });
  // Rooms across instances: the adapter relays broadcasts and server-side events over LISTEN/NOTIFY
  // on its own few connections (one of them held for LISTEN), apart from the query pool.
  const adapterPool = shared ? openPostgresPool(config.databaseUrl, 3) : undefined;
  if (adapterPool) {
    io.adapter(createAdapter(adapterPool, { errorHandler: (error) => logger.warn({ err: error }, 'socket.io adapter error') }));
  }
  const localProgress = createProgressSink((room, event, payload) => {
    // Shared: every instance hears every group's progress (see cluster.ts) and tells only its own clients.
    // The sink's RoomEmitter is already typed per event; Socket.IO's overloads cannot follow a generic key.
    const target: { emit(event: string, payload: unknown): boolean } = shared ? io.local.to(room) : io.to(room);
    target.emit(event, payload);
  }, config.progressIntervalMs);
  const progress = shared ? createClusterProgress(io as unknown as Server, localProgress, logger) : localProgress;
  // Shared: every instance's check index follows the prints the others store or drop.
  const bankChanged = shared ? shareBankChanges(io as unknown as Server, (change) => bank.follow(change), logger) : undefined;
  // While a task runs, its workers compute and store the prints of its questions anyway: the
  // backfill waits rather than compete for the pool and the main thread.
  const bank = new BankIndex({ db, pool, logger, printWorker: PRINT_WORKER, checks: checkOnPool(checkPool), onChanged: bankChanged, busy: () => runner.busy });
  const runner = new TaskRunner({
    db,
    pool,
    bank,
    progress: metrics.instrument(progress),
    logger,
    now,
    // One group read ahead beyond the busy threads keeps them fed; more only holds big groups' texts in memory.
    maxInFlight: config.workers + 1,
    poolThreads: config.workers,
    groupTimeoutMs: config.groupTimeoutMs,
    memoryLimitMb: config.memoryLimitMb,
    questionsInFlight: config.questionsInFlight,
    instanceId,
    leaseMs: config.leaseMs,
    exclusive: !shared,
    discoveryMs: shared ? config.taskPollMs : 0,
    lockRows: shared,
    onStarted: (task) => announceStart?.(task.id),
    interactive,
  });
  const announceStart = shared ? shareTaskStarts(io as unknown as Server, () => runner.discover(), logger) : undefined;
  registerSocketHandlers(io, { db, logger, authTokens: config.authTokens });
  const ndjsonParser = new NdjsonParser(options.ndjsonParserFile);

  const app = createApp({
    db,
    runner,
    bank,
    interactive,
    ndjsonParser,
    metrics,
    version: packageJson.version,
    logger,
    now,
    corsOrigins: config.corsOrigins,
    authTokens: config.authTokens,
    tokenNames: config.tokenNames,
    // io.to(room) goes through the adapter when shared: reviewers on every instance hear each decision.
    reviewEvents: createReviewEvents((room, event, payload) => {
      const target: { emit(event: string, payload: unknown): boolean } = io.to(room);
      target.emit(event, payload);
    }),
    maxBodyMb: config.maxBodyMb,
    health: async () => {
      const base = { db: database.dialect, workers: config.workers, version: packageJson.version };
      // Shared: this instance's id and how many instances its adapter hears (itself included).
      return shared ? { ...base, instance: instanceId, instances: await io.of('/').adapter.serverCount() } : base;
    },
  });

  const server = await new Promise<ServerType>((resolve, reject) => {
    // No limit on receiving a whole request: an NDJSON import streams any size (a million rows on a
    // busy machine ran past node:http's default 300 s and was cut off with a 408).
    const listening = serve({ fetch: app.fetch, port: config.port, hostname: config.host, serverOptions: { requestTimeout: 0 } }, () => resolve(listening));
    listening.once('error', reject);
  });
  io.attach(server as Parameters<typeof io.attach>[0]);
  const port = (server.address() as AddressInfo).port;
  const host = config.host === undefined || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info({ port, host: config.host, db: redactUrl(config.databaseUrl), workers: config.workers, instance: instanceId }, 'service listening');
  // The first thing a newcomer needs: where to point the browser.
  logger.info({ dashboard: `${url}/` }, `dashboard at ${url}/ (API docs at ${url}/api/docs)`);
  await bank.load();
  await runner.resumeInterrupted();
  // Only once started: a start that fails (a port in use) leaves nothing querying the database.
  searchIndexer?.start();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop taking requests first, let in-flight groups finish and persist, then close the rest.
      logger.info({ graceMs: config.shutdownGraceMs }, 'service stopping');
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await runner.stop(config.shutdownGraceMs);
      await searchIndexer?.stop();
      await ndjsonParser.close();
      await bank.close();
      await pool.close({ force: true });
      await checkPool.close({ force: true });
      progress.close();
      metrics.close();
      await io.close();
      await httpClosed;
      await adapterPool?.end();
      await db.destroy();
      logger.info('service stopped');
    })());

  return { url, port, runner, io, close };
}

/**
 * Runs the service as a process: reads the environment, starts, and closes gracefully on
 * SIGINT/SIGTERM. Tests start real child processes through this with a fixture worker.
 */
export async function main(env: Record<string, string | undefined>, options: ServiceOptions = {}): Promise<RunningService> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`configuration error: ${error.message}`);
    process.exit(1);
  }
  // Pretty lines for a person at a terminal, JSON for everything else.
  const logger = options.logger ?? (await createLogger(config.logLevel, { terminal: process.stdout.isTTY === true }));
  const service = await startService(config, { ...options, logger }).catch(async (error: Error) => {
    console.error(`failed to start: ${error.message}`);
    await drainLogs(logger);
    process.exit(1);
  });
  closeOnSignals(service, logger);
  return service;
}

/** On SIGINT/SIGTERM: closes the service, waits for its last log lines, and exits (1 if closing failed). */
export function closeOnSignals(service: RunningService, logger: Logger): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const exit = (code: number) => drainLogs(logger).then(() => process.exit(code));
      service.close().then(
        () => exit(0),
        () => exit(1),
      );
    });
  }
}

if (import.meta.main) await main(process.env);
