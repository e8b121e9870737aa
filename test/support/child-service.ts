/**
 * Real service child processes for the reliability tests: spawn, find the port in the
 * JSON logs, talk REST and Socket.IO over loopback, kill or stop, read the SQLite file.
 */
import { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';

const BUN = './node_modules/.bin/bun';
const FIXTURE_ENTRY = 'test/support/child-main.ts';

export interface SpawnOptions {
  /** The SQLite file; a fresh one in a temp folder by default. */
  dbFile?: string;
  /** A fixture worker under test/fixtures (e.g. 'chaos-worker.ts'); the real worker and src/main.ts otherwise. */
  worker?: string;
  port?: number;
  env?: Record<string, string>;
}

export interface ChildService {
  url: string;
  port: number;
  dbFile: string;
  proc: ReturnType<typeof Bun.spawn>;
  /** Every stdout and stderr line so far. */
  output: string[];
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  exited: Promise<number>;
  /** Resolves with the first log line for which `match` is true. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): void;
}

export function tempDir(prefix = 'dedup-rel-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port nobody listens on right now (for restarts that must come back on the same port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
  }
  if (pending) onLine(pending);
}

export async function spawnService(options: SpawnOptions = {}): Promise<ChildService> {
  // A database folder of our own making goes away with the process; a caller's stays.
  const ownTemp = options.dbFile === undefined ? tempDir() : undefined;
  const dbFile = options.dbFile ?? join(ownTemp!.dir, 'dedup.sqlite');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    DATABASE_URL: `sqlite:${dbFile}`,
    WORKERS: '2',
    LOG_LEVEL: 'info',
    PROGRESS_INTERVAL_MS: '20',
    ...(options.worker ? { TEST_WORKER: `../fixtures/${options.worker}` } : {}),
    ...options.env,
  };
  const entry = options.worker ? FIXTURE_ENTRY : 'src/main.ts';
  const proc = Bun.spawn([BUN, entry], { env, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const output: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<{ match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }>();
  const onLine = (line: string) => {
    output.push(line);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    logs.push(parsed);
    for (const waiter of waiters) {
      if (waiter.match(parsed)) {
        waiters.delete(waiter);
        waiter.resolve(parsed);
      }
    }
  };
  const drained = Promise.all([pump(proc.stdout as ReadableStream<Uint8Array>, onLine), pump(proc.stderr as ReadableStream<Uint8Array>, onLine)]);
  const exited = proc.exited.then(async (code) => {
    await drained.catch(() => undefined);
    ownTemp?.remove();
    return code;
  });

  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = logs.find(match);
      if (seen) return resolve(seen);
      const waiter = { match, resolve };
      waiters.add(waiter);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${output.slice(-30).join('\n')}`));
      }, timeoutMs);
      exited.then(() => {
        if (!waiters.has(waiter)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        reject(new Error(`service exited before the log line; output:\n${output.slice(-30).join('\n')}`));
      });
      const resolveOnce = waiter.resolve;
      waiter.resolve = (line) => {
        clearTimeout(timer);
        resolveOnce(line);
      };
    });

  const listening = await waitForLog((line) => line.msg === 'service listening');
  const port = Number(listening.port);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dbFile,
    proc,
    output,
    logs,
    exited,
    waitForLog,
    kill: (signal = 'SIGKILL') => proc.kill(signal),
  };
}

export interface ApiAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // non-JSON bodies (exports) stay text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

export interface SeedQuestion {
  type_name: string;
  subject_name: string;
  channel_code?: string;
  content: string;
  external_id?: string;
}

export async function importQuestions(base: string, questions: SeedQuestion[], headers: Record<string, string> = {}) {
  for (let start = 0; start < questions.length; start += 2000) {
    const answer = await api(base, 'POST', '/api/questions', questions.slice(start, start + 2000), headers);
    if (answer.status !== 201 || answer.body.data.rejected_count > 0) {
      throw new Error(`import failed: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    }
  }
}

/**
 * `groups` groups of `perGroup` questions; every third question of a group repeats the
 * group's first one (with other spacing and case), so each group has exactly one cluster.
 */
export function duplicateBank(groups: number, perGroup: number, subjectPrefix = 'subject'): SeedQuestion[] {
  const questions: SeedQuestion[] = [];
  for (let g = 0; g < groups; g++) {
    for (let q = 0; q < perGroup; q++) {
      const content = q % 3 === 0 && q > 0 ? `  QUESTION ${g}-0   about x^2+${g} ` : `question ${g}-${q} about x^2+${g}`;
      questions.push({ type_name: '单选题', subject_name: `${subjectPrefix}-${String(g).padStart(4, '0')}`, channel_code: 'default', content, external_id: `${subjectPrefix}-${g}-${q}` });
    }
  }
  return questions;
}

export type Client = Socket;

/** A socket.io-client connected to the service (resolves on `connect`, rejects on `connect_error`). */
export function connectClient(base: string, options: Partial<ManagerOptions & SocketOptions> = {}): Promise<Client> {
  const socket = io(base, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await Bun.sleep(everyMs);
  }
}

export async function getTask(base: string, id: number, headers: Record<string, string> = {}) {
  const answer = await api(base, 'GET', `/api/dedup/tasks/${id}`, undefined, headers);
  if (answer.status !== 200) throw new Error(`GET task ${id}: ${answer.status}`);
  return answer.body.data;
}

/** Every cluster of a task, as sorted member-id lists (comparable across runs). */
export async function clusterSets(base: string, taskId: number, headers: Record<string, string> = {}): Promise<string[]> {
  const sets: string[] = [];
  for (let page = 1; ; page++) {
    const answer = await api(base, 'GET', `/api/dedup/tasks/${taskId}/clusters?page=${page}&page_size=500`, undefined, headers);
    if (answer.status !== 200) throw new Error(`clusters: ${answer.status}`);
    for (const cluster of answer.body.data.items) {
      const ids = cluster.members.map((member: { question_id: number }) => member.question_id).sort((a: number, b: number) => a - b);
      sets.push(`${cluster.canonical_question_id}:${ids.join(',')}`);
    }
    if (answer.body.data.items.length < 500) break;
  }
  return sets.sort();
}

/** Reads the service's SQLite file (WAL lets a reader in while the service writes). */
export function readDb<T>(file: string, read: (db: Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}
