import { afterAll, expect, it } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { api, getTask, importQuestions, duplicateBank, spawnService, tempDir, waitFor, type ChildService } from '../support/child-service.ts';

/**
 * The real dedup worker threads lower their own scheduling priority, the main thread keeps
 * its own: when cores are short, requests and events run before group computation.
 * (Linux: reads /proc/<pid>/task/<tid>/stat.)
 */
const temp = tempDir();
let service: ChildService | undefined;
afterAll(async () => {
  service?.kill('SIGKILL');
  await service?.exited;
  temp.remove();
});

/** Field 19 of /proc/<pid>/task/<tid>/stat is the nice value (after the parenthesised name). */
function niceOf(pid: number, tid: string): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

it.skipIf(!existsSync('/proc/thread-self'))('runs dedup workers at nice 10 and the main thread at 0', async () => {
  service = await spawnService({ dbFile: `${temp.dir}/priority.sqlite`, env: { WORKERS: '2' } });
  await importQuestions(service.url, duplicateBank(8, 4));
  const taskId = (await api(service.url, 'POST', '/api/dedup/tasks', { task_name: 'priority' })).body.data.id as number;
  await api(service.url, 'POST', `/api/dedup/tasks/${taskId}/start`);
  await waitFor(async () => (await getTask(service!.url, taskId)).status === 'completed');

  const pid = service.proc.pid;
  const threads = readdirSync(`/proc/${pid}/task`).map((tid) => ({ tid, nice: niceOf(pid, tid) }));
  expect(threads.find((thread) => thread.tid === String(pid))!.nice).toBe(0);
  expect(threads.filter((thread) => thread.nice === 10).length).toBeGreaterThanOrEqual(1);
});
