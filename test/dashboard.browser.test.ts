/**
 * The dashboard in headless Chromium (Debian's package, driven by playwright-core): import a
 * file, create and start a task, watch its bar reach 100%, open a cluster; cancel a run. Skips only when
 * Chromium is missing outside CI; in CI a missing browser fails the run.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../src/config.ts';
import { startService, type RunningService } from '../src/main.ts';
import { generateSampleBank, toNdjson } from '../src/sample/generate.ts';
import { chromiumAvailable, launchChromium } from './support/browser.ts';

// Real servers, pools and browsers: bun's 5 s default is too short on a loaded CI machine (bunfig's [test] timeout is not read).
setDefaultTimeout(60_000);

describe.skipIf(!chromiumAvailable('dashboard browser test'))('dashboard in Chromium', () => {
  let service: RunningService;
  let browser: BrowserContext;
  let page: Page;
  const folder = mkdtempSync(join(tmpdir(), 'dedup-dashboard-'));

  beforeAll(async () => {
    service = await startService(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', WORKERS: '2' }));
    browser = await launchChromium({ viewport: { width: 390, height: 844 } }); // a phone
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('loads with no console error, its icon included', async () => {
    const errors: string[] = [];
    const onConsole = (message: { type(): string; text(): string }) => void (message.type() === 'error' && errors.push(message.text()));
    const onPageError = (error: Error) => void errors.push(error.message);
    page.on('console', onConsole);
    page.on('pageerror', onPageError);
    try {
      const icon = page.waitForResponse((response) => new URL(response.url()).pathname === '/favicon.svg');
      await page.goto(service.url);
      await page.waitForSelector('#connection[data-state=connected]');
      expect((await icon).status()).toBe(200);
      expect((await icon).headers()['content-type']).toBe('image/svg+xml');
      // Where browsers look unasked (the API docs page has no icon link of its own).
      expect((await fetch(`${service.url}/favicon.ico`)).status).toBe(200);
      await page.goto(`${service.url}/api/docs`);
      await page.waitForLoadState('load');
      expect(errors).toEqual([]);
    } finally {
      page.off('console', onConsole);
      page.off('pageerror', onPageError);
    }
  });

  it('imports a file, runs a task to 100% live, and shows a cluster side by side', async () => {
    const file = join(folder, 'sample.ndjson');
    writeFileSync(file, toNdjson(generateSampleBank({ count: 300, seed: 7 })));

    await page.goto(service.url);
    await page.waitForSelector('#connection[data-state=connected]');

    await page.setInputFiles('#import-file', file);
    await page.click('#import button[type=submit]');
    await page.waitForSelector('#import-result[data-done=true]');
    expect(await page.textContent('#import-result')).toContain('300 inserted');
    expect(await page.getAttribute('#import-bar', 'aria-valuenow')).toBe('100');

    // The bank panel counts what arrived, and finds questions by their text.
    await page.locator('#bank .bank-summary', { hasText: '300 questions' }).waitFor();
    await page.fill('#search input[name=q]', '电功率');
    await page.click('#search button[type=submit]');
    await page.locator('#bank .bank-results li').first().waitFor();
    const hits = await page.locator('#bank .bank-results li .content').allTextContents();
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((text) => text.includes('电功率'))).toBe(true);

    // A CSV file goes up as text/csv; its bad row is named and the good one still lands.
    const csv = join(folder, 'extra.csv');
    writeFileSync(csv, 'external_id,type_name,subject_name,content\ncsv-1,单选题,数学,"CSV 导入的题目, 带逗号"\ncsv-2,单选题,,缺少学科\n');
    await page.setInputFiles('#import-file', csv);
    await page.click('#import button[type=submit]');
    await page.waitForSelector('#import-result[data-done=true]'); // cleared when an upload starts
    const csvResult = await page.textContent('#import-result');
    expect(csvResult).toContain('1 inserted');
    expect(csvResult).toContain('1 rejected (row 1: subject_name');

    // Every value the task's bar takes, recorded in the page as the socket events arrive.
    await page.evaluate(() => {
      const seen: number[] = ((window as unknown as { barValues: number[] }).barValues = []);
      new MutationObserver((records) => {
        for (const record of records) {
          const target = record.target as Element;
          if (target.matches('.task .bar')) seen.push(Number(target.getAttribute('aria-valuenow')));
        }
      }).observe(document.querySelector('#tasks')!, { attributes: true, subtree: true, attributeFilter: ['aria-valuenow'] });
    });
    await page.fill('#create input[name=task_name]', 'browser run');
    await page.click('#create button[type=submit]');

    const card = page.locator('.task', { hasText: 'browser run' });
    await card.locator('.status', { hasText: 'completed' }).waitFor({ timeout: 30_000 });
    expect(await card.locator('.bar').getAttribute('aria-valuenow')).toBe('100');
    expect(await card.locator('.pct').textContent()).toBe('100.00%');
    const groups = (await card.locator('.groups').textContent())!;
    expect(groups).toMatch(/^(\d+) \/ \1$/);
    expect(Number(groups.split(' ')[0])).toBeGreaterThan(1);
    expect(await card.locator('.current').textContent()).not.toBe('—');
    await card.locator('.task-groups summary').click();
    const groupRows = card.locator('.task-groups tr[data-status]');
    await groupRows.first().waitFor();
    expect(await groupRows.count()).toBe(Number(groups.split(' ')[0]));
    expect(await card.locator('.task-groups tr[data-status=done]').count()).toBe(await groupRows.count());
    const values = await page.evaluate(() => (window as unknown as { barValues: number[] }).barValues);
    expect(values.at(-1)).toBe(100);
    expect(values).toEqual([...values].sort((a, b) => a - b)); // never moves backwards

    await card.locator('[data-action=clusters]').click();
    const cluster = page.locator('.cluster').first();
    await cluster.waitFor();
    expect(await cluster.locator('.member').count()).toBeGreaterThanOrEqual(2);
    expect(await cluster.locator('.member.canonical .content').textContent()).not.toBe('');
    // Planted duplicates differ in a question number, a score note or punctuation: some of it is marked.
    expect(await page.locator('#clusters mark').count()).toBeGreaterThan(0);

    // Fits a phone: nothing wider than the viewport.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const shot = join(folder, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
  });

  it('works behind AUTH_TOKENS with the token given once in the URL, export included', async () => {
    const locked = await startService(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', WORKERS: '1', AUTH_TOKENS: 's3cret' }));
    try {
      await page.goto(`${locked.url}/?token=s3cret`);
      await page.waitForSelector('#connection[data-state=connected]');
      expect(page.url()).toBe(`${locked.url}/`); // the token left the address bar
      await page.uncheck('#create input[name=start_now]');
      await page.fill('#create input[name=task_name]', 'locked');
      await page.click('#create button[type=submit]');
      const card = page.locator('.task', { hasText: 'locked' });
      await card.locator('.status', { hasText: 'pending' }).waitFor();
      const download = page.waitForEvent('download');
      await card.locator('a.export').click();
      const file = join(folder, 'export.csv');
      await (await download).saveAs(file);
      expect(readFileSync(file, 'utf8')).toStartWith('cluster_id,');
      // Kept for the next visit; without it the same page is refused and says so.
      await page.goto(locked.url);
      await page.waitForSelector('#connection[data-state=connected]');
      await page.evaluate(() => localStorage.clear());
      await page.goto(locked.url);
      await page.waitForSelector('#connection[data-state=error]');
      expect(await page.textContent('#notice')).toContain('unauthorized');
    } finally {
      await page.evaluate(() => localStorage.clear());
      await locked.close();
    }
  });

  it('shows the connection dropping and coming back, and re-joins its tasks after a restart', async () => {
    const dbFile = join(folder, 'restart.sqlite');
    const config = (port: string) => loadConfig({ PORT: port, HOST: '127.0.0.1', DATABASE_URL: `sqlite:${dbFile}`, LOG_LEVEL: 'silent', WORKERS: '1' });
    const first = await startService(config('0'));
    const port = String(first.port);
    let second: RunningService | undefined;
    try {
      await page.goto(first.url);
      await page.waitForSelector('#connection[data-state=connected]');
      await page.uncheck('#create input[name=start_now]');
      await page.fill('#create input[name=task_name]', 'survives a restart');
      await page.click('#create button[type=submit]');
      const card = page.locator('.task', { hasText: 'survives a restart' });
      await card.locator('.status', { hasText: 'pending' }).waitFor();

      await first.close();
      await page.waitForSelector('#connection[data-state=disconnected], #connection[data-state=error]');

      // Meanwhile the task is started by someone else; the page learns it only by re-joining.
      second = await startService(config(port));
      const started = await fetch(`${second.url}/api/dedup/tasks/1/start`, { method: 'POST' });
      expect(started.status).toBe(200);
      await page.waitForSelector('#connection[data-state=connected]', { timeout: 8_000 });
      // Well inside the page's 10 s list refresh, so only the re-join can have told it.
      await card.locator('.status', { hasText: 'completed' }).waitFor({ timeout: 5_000 });
    } finally {
      await second?.close();
    }
  });

  it('cancels a running task from its card', async () => {
    // The slow fixture holds each group 150 ms, so there is time to press Cancel mid-run.
    const slow = await startService(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', WORKERS: '1' }), {
      workerFile: new URL('./fixtures/slow-worker.ts', import.meta.url),
    });
    try {
      const body = toNdjson(generateSampleBank({ count: 100, seed: 3 }));
      await fetch(`${slow.url}/api/questions`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      await page.goto(slow.url);
      await page.waitForSelector('#connection[data-state=connected]');
      await page.fill('#create input[name=task_name]', 'to cancel');
      await page.click('#create button[type=submit]');
      const card = page.locator('.task', { hasText: 'to cancel' });
      await card.locator('.status', { hasText: 'running' }).waitFor();
      await page.waitForFunction(() => Number(document.querySelector('.task .bar')?.getAttribute('aria-valuenow')) > 0);
      await card.locator('[data-action=cancel]').click();
      await card.locator('.status', { hasText: 'cancelled' }).waitFor();
      expect(await card.locator('.message').textContent()).toBe('cancelled');
      expect(Number(await card.locator('.bar').getAttribute('aria-valuenow'))).toBeLessThan(100);
      expect(await card.locator('[data-action=start]').isEnabled()).toBe(true);
      expect(await card.locator('[data-action=cancel]').isEnabled()).toBe(false);
      const task = (await (await fetch(`${slow.url}/api/dedup/tasks/1`)).json()) as { data: { status: string } };
      expect(task.data.status).toBe('cancelled');
    } finally {
      await slow.close();
    }
  });
});
