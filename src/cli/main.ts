#!/usr/bin/env bun
/**
 * `dedup` (npm bin) / `bun run cli`: import files, manage and watch tasks, export results.
 * Exit codes: 0 done, 1 failed (service error, task failed or cancelled), 2 usage mistake.
 */
import { parseArgs } from 'node:util';
import type { Task } from '../tasks/task.schema.ts';
import { call, CliError, type Target } from './client.ts';
import { describeTask, exportTask, importFile, listTasks, watchTask, type Io } from './commands.ts';
import { exportResolutions, resolveTask } from './review-commands.ts';

export const USAGE = `usage: dedup <command> [options]

commands:
  import <file> [--format ndjson|json|csv]     import questions, with an upload progress bar
  tasks list [--status <status>]               list tasks
  tasks create <name> [--scope channel|subject] [--max-distance N] [--min-similarity X]
               [--types a,b] [--subjects a,b] [--channels a,b] [--start]
  tasks start <id>                             start (or re-run) a task
  tasks cancel <id>                            cancel a running task
  watch <id> [--timeout <seconds>]             live progress bar until the task ends
  export <id> [--format csv|ndjson] [--out <file>]
  resolve <id>                                 mark the task's confirmed clusters' duplicates (duplicate_of)
  resolutions [--format csv|ndjson] [--out <file>]
                                               every resolved question, for your own records

options:
  --url <url>      the service (env DEDUP_URL, default http://localhost:5000)
  --token <token>  bearer token when the service has AUTH_TOKENS (env DEDUP_TOKEN)
  --reviewer <name> who resolves, when the token has no name (env DEDUP_REVIEWER)
`;

function positiveId(raw: string | undefined, what = 'task id'): number {
  if (raw === undefined || !/^[1-9]\d{0,15}$/.test(raw)) throw new CliError(`${what} must be a positive integer, got ${raw ?? 'nothing'}\n\n${USAGE}`, 2);
  return Number(raw);
}

const list = (raw: string) => raw.split(',').map((item) => item.trim()).filter((item) => item !== '');

function numberOption(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new CliError(`--${name} must be a number, got ${raw}`, 2);
  return value;
}

/** Runs one command; returns the exit code. Errors are printed here, never thrown. */
export async function runCli(argv: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        status: { type: 'string' },
        scope: { type: 'string' },
        'max-distance': { type: 'string' },
        'min-similarity': { type: 'string' },
        types: { type: 'string' },
        subjects: { type: 'string' },
        channels: { type: 'string' },
        start: { type: 'boolean' },
        timeout: { type: 'string' },
        reviewer: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || !command) {
      io.stdout.write(USAGE);
      return command || values.help ? 0 : 2;
    }
    const target: Target = {
      url: values.url ?? env.DEDUP_URL ?? 'http://localhost:5000',
      token: values.token ?? env.DEDUP_TOKEN,
      reviewer: values.reviewer ?? env.DEDUP_REVIEWER,
    };
    if (!/^https?:\/\//.test(target.url)) throw new CliError(`--url must start with http:// or https://, got ${target.url}`, 2);

    switch (command) {
      case 'import': {
        if (!rest[0]) throw new CliError(`import needs a file\n\n${USAGE}`, 2);
        return await importFile(target, rest[0], values.format, io);
      }
      case 'watch': {
        const seconds = numberOption(values.timeout, 'timeout') ?? 0;
        return await watchTask(target, positiveId(rest[0]), io, seconds * 1000);
      }
      case 'export':
        return await exportTask(target, positiveId(rest[0]), values.format ?? 'csv', values.out, io);
      case 'resolve':
        return await resolveTask(target, positiveId(rest[0]), io);
      case 'resolutions':
        return await exportResolutions(target, values.format ?? 'csv', values.out, io);
      case 'tasks': {
        const [action, arg] = rest;
        if (action === 'list') return await listTasks(target, values.status, io.stdout);
        if (action === 'create') {
          if (!arg) throw new CliError(`tasks create needs a name\n\n${USAGE}`, 2);
          let task = await call<Task>(target, 'POST', '/api/dedup/tasks', {
            task_name: arg,
            filters: {
              ...(values.types ? { type_names: list(values.types) } : {}),
              ...(values.subjects ? { subject_names: list(values.subjects) } : {}),
              ...(values.channels ? { channel_codes: list(values.channels) } : {}),
            },
            ...(values.scope ? { scope: values.scope } : {}),
            ...(values['max-distance'] ? { max_distance: numberOption(values['max-distance'], 'max-distance') } : {}),
            ...(values['min-similarity'] ? { min_similarity: numberOption(values['min-similarity'], 'min-similarity') } : {}),
          });
          if (values.start) task = await call<Task>(target, 'POST', `/api/dedup/tasks/${task.id}/start`);
          io.stdout.write(describeTask(task));
          return 0;
        }
        if (action === 'start' || action === 'cancel') {
          io.stdout.write(describeTask(await call<Task>(target, 'POST', `/api/dedup/tasks/${positiveId(arg)}/${action}`)));
          return 0;
        }
        throw new CliError(`unknown tasks action: ${action ?? '(none)'}\n\n${USAGE}`, 2);
      }
      default:
        throw new CliError(`unknown command: ${command}\n\n${USAGE}`, 2);
    }
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`error: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`error: ${(error as Error).message}\n`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2), process.env, {
    stdout: { write: (text) => void process.stdout.write(text) },
    stderr: { write: (text) => void process.stderr.write(text), isTTY: process.stderr.isTTY },
  });
  // Let stdout drain (an export may be large) rather than cutting it off with process.exit().
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
}
