import { call, CliError, send, type Target } from './client.ts';
import { download, type Io } from './commands.ts';

/** `dedup resolve <task>`: the task's confirmed clusters become resolutions (duplicate_of) in the bank. */
export async function resolveTask(target: Target, taskId: number, { stdout }: Io): Promise<number> {
  const outcome = await call<{ resolved_questions: number; clusters: number }>(target, 'POST', `/api/dedup/tasks/${taskId}/resolve`, { clusters: 'confirmed' });
  stdout.write(`task ${taskId}: ${outcome.resolved_questions} questions resolved as duplicates from ${outcome.clusters} confirmed clusters\n`);
  return 0;
}

/** `dedup resolutions`: every resolved question, for a client's own records, to a file or stdout. */
export async function exportResolutions(target: Target, format: string, outFile: string | undefined, io: Io): Promise<number> {
  if (format !== 'csv' && format !== 'ndjson') throw new CliError(`--format must be csv or ndjson, got ${format}`, 2);
  return download(await send(target, 'GET', `/api/dedup/resolutions?format=${format}`), outFile, io);
}
