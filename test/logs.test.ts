/**
 * The service as a newcomer starts it (`bun src/main.ts`): readable lines on a terminal, JSON
 * lines otherwise, and a start-up line naming the dashboard's URL. The terminal is a real
 * pseudo-terminal from util-linux's `script`.
 */
import { describe, expect, it, setDefaultTimeout } from 'bun:test';
import { spawn } from 'node:child_process';

setDefaultTimeout(60_000);

const BUN = './node_modules/.bin/bun';
const ENV = { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', WORKERS: '1', LOG_LEVEL: 'info' };

/** Starts the command in a process group of its own, reads its output until `done` says so, then stops the group and waits for it. */
function runUntil(command: string, args: string[], done: (output: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let failure: Error | undefined;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch {}
    };
    let stopping = false;
    const stop = (error?: Error) => {
      if (stopping) return;
      stopping = true;
      failure = error;
      clearTimeout(timer);
      signal('SIGTERM');
      setTimeout(() => signal('SIGKILL'), 10_000).unref();
    };
    const timer = setTimeout(() => stop(new Error(`no start-up line within 30 s; output:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (done(output)) stop();
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('error', stop);
    child.once('close', () => (failure ? reject(failure) : resolve(output)));
  });
}

const dashboardLine = /dashboard at http:\/\/127\.0\.0\.1:(\d+)\/ \(API docs at http:\/\/127\.0\.0\.1:\1\/api\/docs\)/;

describe('start-up logs', () => {
  it('writes one JSON object a line when stdout is not a terminal, naming the dashboard URL', async () => {
    const output = await runUntil(BUN, ['src/main.ts'], (text) => /"check index loaded"/.test(text));
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    const logs = lines.map((line) => JSON.parse(line) as { msg: string; dashboard?: string; service: string });
    expect(logs.every((log) => log.service === 'question-dedup')).toBe(true);
    const line = logs.find((log) => log.dashboard !== undefined)!;
    expect(line.msg).toMatch(dashboardLine);
    expect(line.dashboard).toBe(`http://127.0.0.1:${line.msg.match(dashboardLine)![1]}/`);
  });

  it.skipIf(!Bun.which('script'))('writes readable lines, not JSON, on a terminal', async () => {
    // script(1) runs the service on a pseudo-terminal and copies what it writes there.
    const output = await runUntil('script', ['-qfec', `${BUN} src/main.ts`, '/dev/null'], (text) => /check index loaded/.test(text));
    const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: service listening /m);
    expect(plain).toMatch(new RegExp(`INFO: ${dashboardLine.source}`));
    expect(plain).not.toContain('{"level"');
  });
});

/**
 * Log lines are written asynchronously (src/logger.ts): a line handed to a write of its own just
 * before `process.exit` was lost when the write's thread had no core in time (the service's
 * 'service stopped' under a loaded CI; 14 of 15 runs lost it on a starved core). The exit waits
 * for `drainLogs`. The child runs on one core with two busy loops beside it, when `taskset` is there.
 */
describe('the last lines before exit', () => {
  it('are written even when the core is busy', async () => {
    const pinned = Bun.which('taskset') !== null;
    const pin = (command: string[]) => (pinned ? ['taskset', '-c', '0', ...command] : command);
    const busy = pinned ? [0, 1].map(() => Bun.spawn(pin(['sh', '-c', 'while :; do :; done']), { stdout: 'ignore', stderr: 'ignore' })) : [];
    try {
      for (let run = 0; run < 5; run++) {
        const child = Bun.spawn(pin([BUN, 'test/support/log-then-exit.ts']), { env: { ...process.env, LINES: '10' }, stdout: 'pipe', stderr: 'inherit' });
        const output = await new Response(child.stdout).text();
        expect(await child.exited).toBe(0);
        const messages = output
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => (JSON.parse(line) as { msg: string }).msg);
        expect(messages).toEqual([...Array.from({ length: 10 }, () => 'line'), 'last']);
      }
    } finally {
      for (const loop of busy) loop.kill('SIGKILL');
    }
  });
});
