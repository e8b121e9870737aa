/**
 * `npm run demo`: starts the service with its defaults (port 5000, SQLite in ./data), loads
 * the generated sample bank, prints the dashboard URL (and opens it when there is a desktop),
 * then starts a dedup task as soon as a dashboard connects (or after a short wait), so the
 * task can be watched finishing in the browser. Ctrl-C stops everything.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { closeOnSignals, startService } from './main.ts';
import { generateSampleBank, toNdjson } from './sample/generate.ts';

const SAMPLE = { count: 12_000, seed: 42, channels: 6 };
const WAIT_FOR_DASHBOARD_MS = 8_000;

function openBrowser(url: string, env: Record<string, string | undefined>) {
  const command =
    process.platform === 'darwin' ? 'open'
    : process.platform === 'win32' ? 'explorer'
    : (env.DISPLAY || env.WAYLAND_DISPLAY) && existsSync('/usr/bin/xdg-open') ? 'xdg-open'
    : undefined;
  if (!command || env.CI || env.DEMO_NO_OPEN) return;
  spawn(command, [url], { detached: true, stdio: 'ignore' }).on('error', () => {}).unref();
}

async function api<T>(base: string, path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${base}${path}`, init);
  const body = (await response.json()) as { message: string; data: T };
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: HTTP ${response.status} ${body.message}`);
  return body.data;
}

async function main(env: Record<string, string | undefined>) {
  const config = loadConfig({ LOG_LEVEL: 'warn', ...env });
  // As the service's own entry: pretty lines at a terminal, and the last ones written before exit.
  const logger = await createLogger(config.logLevel, { terminal: process.stdout.isTTY === true });
  const service = await startService(config, { logger }).catch((error: NodeJS.ErrnoException) => {
    const hint = error.code === 'EADDRINUSE' ? `; port ${config.port} is busy, try: PORT=5050 npm run demo` : '';
    throw new Error(`could not start the service: ${error.message}${hint}`);
  });
  closeOnSignals(service, logger);
  const log = (text: string) => console.log(`[demo] ${text}`);
  log(`service on ${service.url} (database ${config.databaseUrl})`);

  const bank = generateSampleBank(SAMPLE);
  const imported = await api<{ inserted: number; updated: number; unchanged: number }>(service.url, '/api/questions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson' },
    body: toNdjson(bank),
  });
  log(`sample bank: ${bank.length} questions (${imported.inserted} new, ${imported.unchanged + imported.updated} already there)`);

  const task = await api<{ id: number }>(service.url, '/api/dedup/tasks', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ task_name: `Demo ${new Date().toLocaleTimeString()}` }),
  });
  console.log(`\n  Dashboard: ${service.url}/\n  API docs:  ${service.url}/api/docs\n  Metrics:   ${service.url}/metrics\n`);
  openBrowser(`${service.url}/`, env);

  // Start when someone is watching, so the bar is seen moving; don't wait forever for a browser.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, WAIT_FOR_DASHBOARD_MS);
    service.io.once('connection', () => {
      clearTimeout(timer);
      setTimeout(resolve, 1_000); // let the page join the task's room
    });
  });
  await api(service.url, `/api/dedup/tasks/${task.id}/start`, { method: 'POST' });
  log(`task ${task.id} started; watch it in the dashboard, or: npm run cli -- watch ${task.id}`);
  log('Ctrl-C to stop');
}

if (import.meta.main) {
  main(process.env).catch((error: Error) => {
    console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : `demo failed: ${error.message}`);
    process.exit(1);
  });
}
