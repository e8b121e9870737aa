import { readFileSync } from 'node:fs';
import { io as connectClient, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { loadConfig } from '../../src/config.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/realtime/events.ts';
import { startService, type RunningService, type ServiceOptions } from '../../src/main.ts';
import { createTestDatabase, testDatabaseServer } from './database.ts';

export type TestClient = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestService extends RunningService {
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  connect(options?: Partial<ManagerOptions & SocketOptions>): Promise<TestClient>;
  /** Closes every client this service handed out, then the service. */
  stop(): Promise<void>;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: { code: number; message: string; data: T; errors?: { path: string; message: string }[] };
}

/**
 * A real service on a free port, with a real worker pool and a database of its own: in-memory
 * SQLite, or a fresh PostgreSQL database when TEST_DATABASE_URL is set (dropped by `stop()`).
 */
export async function startTestService(env: Record<string, string> = {}, options: ServiceOptions = {}): Promise<TestService> {
  const database = env.DATABASE_URL === undefined && testDatabaseServer() ? await createTestDatabase('service') : undefined;
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database?.url ?? 'sqlite::memory:', LOG_LEVEL: 'silent', WORKERS: '2', ...env });
  const service = await startService(config, options).catch(async (error) => {
    await database?.drop();
    throw error;
  });
  const clients: TestClient[] = [];
  return {
    ...service,
    async api(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${service.url}${path}`, init);
      return { status: response.status, headers: response.headers, body: (await response.json()) as any };
    },
    async connect(options = {}) {
      const client: TestClient = connectClient(service.url, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('connect_error', reject);
      });
      return client;
    },
    async stop() {
      for (const client of clients) client.close();
      try {
        await service.close();
      } finally {
        await database?.drop();
      }
    },
  };
}

/** Resolves with the next `event` payload, or rejects after `ms`. */
export function nextEvent<E extends keyof ServerToClientEvents>(client: TestClient, event: E, ms = 10_000): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    (client as Socket).once(event as string, (payload: any) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Collects every payload of `event` into an array that grows as events arrive. */
export function collect<E extends keyof ServerToClientEvents>(client: TestClient, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: any[] = [];
  (client as Socket).on(event as string, (payload: any) => seen.push(payload));
  return seen;
}

/** The committed GAOKAO-Bench subset (1,194 real questions); tests never read outside the repository. */
export const GAOKAO_FILE = new URL('../fixtures/gaokao/questions.ndjson', import.meta.url);

/** The real gaokao questions of the fixture, in the import format. */
export function sampleQuestions(): Record<string, unknown>[] {
  return readFileSync(GAOKAO_FILE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

export async function importQuestions(service: TestService, questions: Record<string, unknown>[]) {
  const body = questions.map((question) => JSON.stringify(question)).join('\n');
  const response = await service.api('POST', '/api/questions', body, { 'content-type': 'application/x-ndjson' });
  if (response.status >= 300) throw new Error(`import failed: ${JSON.stringify(response.body)}`);
  return response.body.data as { inserted: number; updated: number; unchanged: number; rejected: unknown[] };
}
