import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliAgainst } from '../support/cli.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { REVIEW_BANK } from './bank.ts';
import { clusters, idsByExternal, runTask, type BankIds } from './support.ts';

setDefaultTimeout(60_000);

describe('dedup CLI: resolve and resolutions', () => {
  const folder = mkdtempSync(join(tmpdir(), 'dedup-review-cli-'));
  let service: TestService;
  let taskId: number;
  let ids: BankIds;

  const cli = (...args: string[]) => runCliAgainst(service.url, ...args);

  beforeAll(async () => {
    // The real worker slowed per group: a started run is still running when the CLI asks to resolve.
    service = await startTestService({}, { workerFile: new URL('../fixtures/delayed-worker.ts', import.meta.url) });
    await service.api('POST', '/api/questions', REVIEW_BANK);
    ids = await idsByExternal(service);
    taskId = (await runTask(service)).id;
    for (const cluster of (await clusters(service, taskId, '&type_name=单选题')).items) {
      await service.api('POST', `/api/dedup/tasks/${taskId}/clusters/${cluster.cluster_id}/review`, { action: 'confirm' });
    }
  });
  afterAll(async () => {
    await service.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it("resolves a task's confirmed clusters, named by --reviewer, and writes every resolution to a file", async () => {
    const resolved = await cli('resolve', String(taskId), '--reviewer', '李老师');
    expect(resolved).toMatchObject({ code: 0, stdout: `task ${taskId}: 1 questions resolved as duplicates from 1 confirmed clusters\n` });

    const csv = join(folder, 'resolutions.csv');
    const written = await cli('resolutions', '--out', csv);
    expect(written.code).toBe(0);
    expect(written.stderr).toContain(`to ${csv}`);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('question_id,external_id,channel_code,duplicate_of,duplicate_of_external_id,decided_by,resolved_at');
    expect(lines[1]).toStartWith(`${ids.p2},p2,c1,${ids.p1},p1,李老师,`);

    const ndjson = join(folder, 'resolutions.ndjson');
    expect((await cli('resolutions', '--format', 'ndjson', '--out', ndjson)).code).toBe(0);
    expect(JSON.parse(readFileSync(ndjson, 'utf8').trim())).toMatchObject({ question_id: ids.p2, duplicate_of: ids.p1, decided_by: '李老师' });

    const toStdout = await cli('resolutions', '--format', 'ndjson');
    expect(toStdout.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('names what went wrong and exits non-zero', async () => {
    expect(await cli('resolve', '424242')).toMatchObject({ code: 1, stderr: expect.stringContaining('HTTP 404') });
    expect(await cli('resolve', 'x')).toMatchObject({ code: 2, stderr: expect.stringContaining('positive integer') });
    expect(await cli('resolutions', '--format', 'xml')).toMatchObject({ code: 2, stderr: expect.stringContaining('csv or ndjson') });
    await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
    const busy = await cli('resolve', String(taskId));
    expect(busy).toMatchObject({ code: 1, stderr: expect.stringContaining('HTTP 409') });
  });
});
