import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { importQuestions, sampleQuestions, startTestService, type TestService } from './support/service.ts';

/**
 * Runs the TypeScript examples of the user's seed document verbatim against the service on
 * the seed's address (localhost:5000): only the UI callbacks they call are supplied, and the
 * `socket` they create is exported so the test can close it.
 */
/** The user's seed document, committed as a fixture (the Chinese original). */
const SEED = new URL('./fixtures/seed/realtime-progress-api.zh.md', import.meta.url);
const GENERATED = new URL('./.seed/', import.meta.url);

function typescriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```typescript\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

function writeExample(name: string, header: string, code: string, exports: string): URL {
  mkdirSync(GENERATED, { recursive: true });
  const file = new URL(`${name}-${Date.now()}.ts`, GENERATED);
  writeFileSync(file, `${header}\n${code}\nexport { ${exports} };\n`);
  return file;
}

type Recorder = Record<string, unknown[][]>;

function installUiCallbacks(names: string[]): { calls: Recorder; called: (name: string) => Promise<unknown[]> } {
  const calls: Recorder = {};
  const waiters = new Map<string, (args: unknown[]) => void>();
  for (const name of names) {
    calls[name] = [];
    (globalThis as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls[name]!.push(args);
      waiters.get(name)?.(args);
    };
  }
  const called = (name: string) =>
    new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} was never called`)), 30_000);
      waiters.set(name, (args) => {
        clearTimeout(timer);
        resolve(args);
      });
    });
  return { calls, called };
}

describe('the seed document examples, run unchanged', () => {
  let service: TestService;
  let blocks: string[];
  const consoleLog = console.log;
  beforeAll(async () => {
    // The examples log every event; the assertions below say what matters.
    console.log = () => {};
    blocks = typescriptBlocks(readFileSync(SEED, 'utf8'));
    // The seed's address is fixed; the test owns port 5000 for its duration.
    service = await startTestService({ PORT: '5000', HOST: '' });
    await importQuestions(service, sampleQuestions());
  });
  afterAll(async () => {
    console.log = consoleLog;
    await service?.stop();
  });

  it('the complete flow creates a task, follows its progress and sees it complete', async () => {
    const flow = blocks.find((block) => block.includes("/api/dedup/tasks'") && block.includes('task_completed'));
    expect(flow).toBeDefined();
    const { calls, called } = installUiCallbacks(['updateUI', 'showCompletionMessage']);
    const completion = called('showCompletionMessage');
    const file = writeExample('complete-flow', "import { io } from 'socket.io-client';", flow!, 'socket, taskId');
    const example = await import(file.href);
    try {
      await completion;
      const progress = calls.updateUI!.map(([data]) => data as { task_id: number; progress_percentage: number; processed_groups: number });
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.every((data) => data.task_id === example.taskId)).toBe(true);
      expect(progress.at(-1)!.progress_percentage).toBe(100);
      const task = (await service.api('GET', `/api/dedup/tasks/${example.taskId}`)).body.data;
      expect(task.status).toBe('completed');
    } finally {
      example.socket.disconnect();
    }
  });

  it('the full client example initialises from task_status, follows progress and shows completion', async () => {
    const client = blocks.find((block) => block.includes("socket.emit('join_task', { task_id: 1 })"));
    expect(client).toBeDefined();
    const { calls, called } = installUiCallbacks(['updateProgressBar', 'updateStatusText', 'showCompletionMessage', 'showErrorMessage', 'initializeUI']);
    // Task 1 exists (made by the complete flow above, or here on a fresh database); run it again.
    if ((await service.api('GET', '/api/dedup/tasks/1')).status === 404) await service.api('POST', '/api/dedup/tasks', { task_name: '我的去重任务' });
    const initialised = called('initializeUI');
    const file = writeExample('client', '', client!, 'socket, leaveTask, disconnect');
    const example = await import(file.href);
    try {
      const [initial] = await initialised;
      expect(initial).toMatchObject({ id: 1 });
      const completion = called('showCompletionMessage');
      expect((await service.api('POST', '/api/dedup/tasks/1/start')).status).toBe(200);
      await completion;
      const percentages = calls.updateProgressBar!.map(([value]) => value as number);
      expect(percentages.at(-1)).toBe(100);
      expect(percentages).toEqual([...percentages].sort((a, b) => a - b));
      expect(calls.updateStatusText!.at(-1)![0]).toMatch(/^已完成分组: .+ - .+$/);
      expect(calls.showErrorMessage).toHaveLength(0);
    } finally {
      example.leaveTask(1);
      example.disconnect();
    }
  });
});
