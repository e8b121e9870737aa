import type { Subprocess } from 'bun';

/** A service instance running as its own process (test/fixtures/instance.ts), as in a scale-out deployment. */
export interface Instance {
  name: string;
  url: string;
  process: Subprocess<'ignore', 'pipe', 'inherit'>;
  /** Its stdout lines so far (JSON logs), for a failing test to show. */
  output: string[];
}

/**
 * Starts one instance on `databaseUrl` and resolves once it listens. `env` adds settings (WORKERS,
 * LEASE_MS…) and TEST_WORKER, a fixture worker file in test/fixtures (unset: the real worker).
 */
export async function startInstance(name: string, databaseUrl: string, env: Record<string, string> = {}): Promise<Instance> {
  const child = Bun.spawn([process.execPath, new URL('../fixtures/instance.ts', import.meta.url).pathname], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', INSTANCE_ID: name, LOG_LEVEL: 'warn', ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${name} did not start: ${output.join('\n')}`)), 20_000);
    // Keep reading for the process's whole life, or a full pipe would stall it.
    (async () => {
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of child.stdout) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          output.push(line);
          if (line.startsWith('{"ready"')) {
            clearTimeout(timer);
            resolve((JSON.parse(line) as { ready: string }).ready);
          }
        }
      }
    })().catch(reject);
  });
  return { name, url, process: child, output };
}

/** Calls the instance's REST API; throws with the envelope's message on failure. */
export async function api<T>(instance: Instance, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const response = await fetch(`${instance.url}/api${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const envelope = (await response.json()) as { code: number; message: string; data: T };
  if (!response.ok) throw new Error(`${method} ${path} on ${instance.name}: ${response.status} ${envelope.message}`);
  return envelope.data;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** Waits until every instance's Socket.IO adapter hears all `count` instances, so no broadcast is missed. */
export const clusterFormed = (instances: Instance[], count: number) =>
  waitFor('the instances to hear each other', async () => {
    const health = await Promise.all(instances.map((instance) => api<{ instances?: number }>(instance, 'GET', '/health')));
    return health.every((entry) => entry.instances === count);
  });

export async function stopInstances(instances: Instance[]) {
  for (const instance of instances) instance.process.kill();
  await Promise.all(instances.map((instance) => instance.process.exited));
}
