import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/main.ts';
import { runCliAgainst } from './support/cli.ts';
import { renderBar } from '../src/cli/progress-bar.ts';
import { generateSampleBank, toNdjson } from '../src/sample/generate.ts';
import { startTestService, type TestService } from './support/service.ts';

// Real servers, pools and browsers: bun's 5 s default is too short on a loaded CI machine (bunfig's [test] timeout is not read).
setDefaultTimeout(60_000);

const folder = mkdtempSync(join(tmpdir(), 'dedup-cli-'));

describe('dedup CLI', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => {
    await service.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCliAgainst(service.url, ...args);

  it('imports a file with a progress bar, runs a task, watches it to the end and exports the pairs', async () => {
    const file = join(folder, 'bank.ndjson');
    writeFileSync(file, toNdjson(generateSampleBank({ count: 150, seed: 5 })) + '{"content": "no group"}\n');
    const imported = await cli('import', file);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toBe('inserted 150, updated 0, unchanged 0, rejected 1\n');
    expect(imported.stderr).toContain('100.0%');
    expect(imported.stderr).toContain('row 150: type_name');

    const filtered = await cli('tasks', 'create', 'maths only', '--subjects', '数学', '--types', '单选题,填空题');
    expect(filtered.code).toBe(0);
    const filteredId = Number(/task (\d+)/.exec(filtered.stdout)![1]);
    const stored = await service.api('GET', `/api/dedup/tasks/${filteredId}`);
    expect(stored.body.data.filters).toEqual({ subject_names: ['数学'], type_names: ['单选题', '填空题'] });

    const created = await cli('tasks', 'create', 'from cli', '--max-distance', '4');
    expect(created.code).toBe(0);
    const id = Number(/task (\d+)/.exec(created.stdout)![1]);
    const [watched, started] = await Promise.all([cli('watch', String(id), '--timeout', '30'), cli('tasks', 'start', String(id))]);
    expect(started.code).toBe(0);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(new RegExp(`^task ${id} "from cli": completed, (\\d+)/\\1 groups, [1-9]\\d* duplicates`));
    expect(watched.stderr).toContain('100.0%');

    const list = await cli('tasks', 'list');
    expect(list.stdout).toMatch(new RegExp(`\\n${id}\\s+completed\\s+100\\.0%`));

    const out = join(folder, 'pairs.csv');
    expect((await cli('export', String(id), '--out', out)).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toStartWith('cluster_id,');
    expect(lines.length).toBeGreaterThan(1);
  });

  it('names what went wrong and exits non-zero', async () => {
    expect(await cli('tasks', 'cancel', '424242')).toMatchObject({ code: 1, stderr: expect.stringContaining('HTTP 404') });
    expect(await cli('watch', '424242')).toMatchObject({ code: 1, stderr: expect.stringContaining('not found') });
    expect(await cli('tasks', 'start', 'x')).toMatchObject({ code: 2, stderr: expect.stringContaining('positive integer') });
    expect(await cli('import', join(folder, 'missing.csv'))).toMatchObject({ code: 1, stderr: expect.stringContaining('no such file') });
    expect(await cli('frobnicate')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command') });
    const created = await cli('tasks', 'create', '   ');
    expect(created).toMatchObject({ code: 1, stderr: expect.stringContaining('HTTP 422') });
    const unreachable = await runCli(['tasks', 'list', '--url', 'http://127.0.0.1:9'], {}, { stdout: { write() {} }, stderr: { write() {} } });
    expect(unreachable).toBe(1);
  });

  it('runs as a program: `bun run cli` with exit codes', async () => {
    // Async: the service under test lives in this process and must keep answering.
    const run = async (...args: string[]) => {
      const child = Bun.spawn([process.execPath, 'run', '--silent', 'cli', ...args], {
        env: { ...process.env, DEDUP_URL: service.url },
        cwd: join(import.meta.dir, '..'),
        stdout: 'pipe',
        stderr: 'pipe',
      });
      return { code: await child.exited, stdout: await new Response(child.stdout).text() };
    };
    const ok = await run('tasks', 'list');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toStartWith('ID');
    expect((await run('watch', '0')).code).toBe(2);
  });
});

it('draws a bar of fixed width', () => {
  expect(renderBar(0.5, 10)).toBe('[#####.....]  50.0%');
  expect(renderBar(2, 4)).toBe('[####] 100.0%');
});
