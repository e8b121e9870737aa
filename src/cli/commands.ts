import { createWriteStream, existsSync, statSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../realtime/events.ts';
import type { Page } from '../http/pagination.ts';
import type { Task } from '../tasks/task.schema.ts';
import { call, CliError, send, unwrap, type Target } from './client.ts';
import { progressLine, type Output } from './progress-bar.ts';

export interface Io {
  stdout: Output;
  stderr: Output;
}

const MEDIA_TYPES: Record<string, string> = { ndjson: 'application/x-ndjson', jsonl: 'application/x-ndjson', json: 'application/json', csv: 'text/csv' };

export function importMediaType(file: string, format?: string): string {
  const key = (format ?? file.split('.').pop() ?? '').toLowerCase();
  const type = MEDIA_TYPES[key];
  if (!type) throw new CliError(`cannot tell the format of ${file}; pass --format ndjson|json|csv`, 2);
  return type;
}

interface ImportResult {
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: { index: number; message: string }[];
  rejected_count?: number;
}

/** Streams the file to POST /api/questions, drawing how much of it has been sent. */
export async function importFile(target: Target, file: string, format: string | undefined, { stdout, stderr }: Io): Promise<number> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new CliError(`no such file: ${file}`);
  const contentType = importMediaType(file, format);
  const total = statSync(file).size;
  const bar = progressLine(stderr);
  let sent = 0;
  const counted = Bun.file(file).stream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        bar.update(total === 0 ? 1 : sent / total, `${file}: ${(sent / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MB sent`);
        controller.enqueue(chunk);
      },
    }),
  );
  const result = await unwrap<ImportResult>(await send(target, 'POST', '/api/questions', { body: counted, contentType }));
  bar.update(1, `${file}: sent`);
  bar.done();
  const rejected = result.rejected_count ?? result.rejected.length;
  stdout.write(`inserted ${result.inserted}, updated ${result.updated}, unchanged ${result.unchanged}, rejected ${rejected}\n`);
  for (const row of result.rejected.slice(0, 20)) stderr.write(`  row ${row.index}: ${row.message}\n`);
  if (result.rejected.length > 20) stderr.write(`  … and ${rejected - 20} more\n`);
  return rejected > 0 && result.inserted + result.updated + result.unchanged === 0 ? 1 : 0;
}

const pad = (text: string | number, width: number) => String(text).padEnd(width);

export function formatTasks(tasks: Task[]): string {
  const header = `${pad('ID', 6)}${pad('STATUS', 11)}${pad('PROGRESS', 10)}${pad('GROUPS', 12)}${pad('DUPLICATES', 12)}NAME`;
  const rows = tasks.map(
    (t) =>
      `${pad(t.id, 6)}${pad(t.status, 11)}${pad(`${t.progress_percentage.toFixed(1)}%`, 10)}${pad(`${t.processed_groups}/${t.total_groups}`, 12)}${pad(t.duplicate_count, 12)}${t.task_name}`,
  );
  return [header, ...rows].join('\n') + '\n';
}

export const listTasks = async (target: Target, status: string | undefined, out: Output) => {
  const page = await call<Page<Task>>(target, 'GET', `/api/dedup/tasks?page_size=100${status ? `&status=${encodeURIComponent(status)}` : ''}`);
  out.write(formatTasks(page.items));
  if (page.total > page.items.length) out.write(`(${page.items.length} of ${page.total} shown)\n`);
  return 0;
};

export const describeTask = (t: Task) =>
  `task ${t.id} "${t.task_name}": ${t.status}, ${t.processed_groups}/${t.total_groups} groups, ${t.duplicate_count} duplicates in ${t.cluster_count} clusters${t.error ? `, error: ${t.error}` : ''}\n`;

const taskFinished = (t: Task) => t.status === 'completed' || t.status === 'failed' || t.status === 'cancelled';
const exitFor = (t: Task) => (t.status === 'completed' ? 0 : 1);

/** Follows a task's room until it completes (exit 0), fails or is cancelled (exit 1). */
export function watchTask(target: Target, taskId: number, { stdout, stderr }: Io, timeoutMs = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(target.url, {
      transports: ['websocket', 'polling'],
      auth: target.token ? { token: target.token } : {},
      reconnectionAttempts: 5,
    });
    const bar = progressLine(stderr);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (code: number, line?: string, error?: CliError) => {
      clearTimeout(timer);
      bar.done();
      socket.close();
      if (line) stdout.write(line);
      if (error) reject(error);
      else resolve(code);
    };
    if (timeoutMs > 0) timer = setTimeout(() => finish(1, undefined, new CliError(`task ${taskId} did not finish within ${timeoutMs / 1000}s`)), timeoutMs);

    socket.on('connect', () => socket.emit('join_task', { task_id: taskId }));
    socket.on('connect_error', (error) => {
      if (!socket.active) finish(1, undefined, new CliError(`cannot connect to ${target.url}: ${error.message}`));
    });
    socket.on('error', ({ message }) => finish(1, undefined, new CliError(message)));
    socket.io.on('reconnect_failed', () => finish(1, undefined, new CliError(`lost the connection to ${target.url} and could not reconnect`)));
    socket.on('task_status', ({ data }) => {
      if (taskFinished(data)) {
        bar.update(data.progress_percentage / 100, `${data.processed_groups}/${data.total_groups} groups · ${data.status}`);
        return finish(exitFor(data), describeTask(data));
      }
      bar.update(data.progress_percentage / 100, `${data.processed_groups}/${data.total_groups} groups · ${data.status}`);
    });
    socket.on('task_progress', (p) => {
      const group = p.current_group ? ` · ${p.current_group.type_name} - ${p.current_group.subject_name}` : '';
      const eta = p.eta_seconds === null ? '' : ` · ETA ${p.eta_seconds}s`;
      bar.update(p.progress_percentage / 100, `${p.processed_groups}/${p.total_groups} groups${group}${eta}`);
    });
    socket.on('task_completed', ({ data }) => {
      bar.update(1, `${data.processed_groups}/${data.total_groups} groups · completed`);
      finish(0, describeTask(data));
    });
    socket.on('task_error', ({ error }) => {
      // The row has the final counts; the event only says why it stopped.
      call<Task>(target, 'GET', `/api/dedup/tasks/${taskId}`).then(
        (task) => finish(1, describeTask(task)),
        () => finish(1, `task ${taskId} stopped: ${error}\n`),
      );
    });
  });
}

/** Streams the duplicate pairs to a file or stdout. */
export async function exportTask(target: Target, taskId: number, format: string, outFile: string | undefined, { stdout, stderr }: Io): Promise<number> {
  if (format !== 'csv' && format !== 'ndjson') throw new CliError(`--format must be csv or ndjson, got ${format}`, 2);
  return download(await send(target, 'GET', `/api/dedup/tasks/${taskId}/export?format=${format}`), outFile, { stdout, stderr });
}

/** Streams a download (an export) to a file, or to stdout without one. */
export async function download(response: Response, outFile: string | undefined, { stdout, stderr }: Io): Promise<number> {
  if (!response.ok || !response.body) await unwrap(response); // throws with the service's message
  let bytes = 0;
  if (outFile) {
    const file = createWriteStream(outFile);
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      if (!file.write(chunk)) await new Promise((resolve) => file.once('drain', resolve));
    }
    await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
    stderr.write(`wrote ${bytes} bytes to ${outFile}\n`);
  } else {
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) stdout.write(decoder.decode(chunk, { stream: true }));
  }
  return 0;
}
