import { expect, it, setDefaultTimeout } from 'bun:test';
import { join } from 'node:path';
import { io } from 'socket.io-client';

// Real servers, pools and browsers: bun's 5 s default is too short on a loaded CI machine (bunfig's [test] timeout is not read).
setDefaultTimeout(60_000);

it('npm run demo serves the dashboard, loads the sample and runs a task once a browser connects', async () => {
  const child = Bun.spawn([process.execPath, 'run', 'demo'], {
    cwd: join(import.meta.dir, '..'),
    env: { ...process.env, PORT: '0', DATABASE_URL: 'sqlite::memory:', WORKERS: '2', CI: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  try {
    let output = '';
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout as unknown as AsyncIterable<Uint8Array>) {
      output += decoder.decode(chunk);
      if (/Dashboard: \S+/.test(output)) break;
    }
    const url = /Dashboard: (\S+)\//.exec(output)?.[1];
    expect(url).toBeDefined();
    expect(output).toContain('sample bank: 12000 questions (12000 new');
    expect((await fetch(`${url}/`)).headers.get('content-type')).toContain('text/html');

    // Connecting is what the dashboard does; the demo then starts its task.
    const socket = io(url!, { transports: ['websocket'], reconnection: false });
    const completed = new Promise<{ status: string; processed_groups: number; total_groups: number; duplicate_count: number }>((resolve) => {
      socket.on('task_completed', ({ data }) => resolve(data));
    });
    socket.on('connect', () => socket.emit('join_task', { task_id: 1 }));
    const task = await completed;
    socket.close();
    expect(task.status).toBe('completed');
    expect(task.processed_groups).toBe(task.total_groups);
    expect(task.total_groups).toBe(54);
    expect(task.duplicate_count).toBeGreaterThan(1000);
  } finally {
    child.kill();
    await child.exited;
  }
});
