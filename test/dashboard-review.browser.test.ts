/**
 * The review screen in headless Chromium against a real service (database, worker pool, Socket.IO
 * on a real port): two reviewers, a desktop page and a phone page, review one task of real GAOKAO
 * questions and planted look-alikes; each sees the other's decisions without reloading; keys,
 * buttons, filters and the resolve flow work. Screenshots go to SCREENSHOT_DIR (default: a folder
 * in the system temp dir, printed).
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from './support/browser.ts';
import { reviewBank } from './support/review-fixture.ts';
import { importQuestions, nextEvent, startTestService, type TestService } from './support/service.ts';

setDefaultTimeout(120_000);

/** The phone reviewer's name: not Latin-1, so it tests the X-Reviewer encoding end to end. */
const BOB = '王老师'; // reaches the service only percent-encoded

interface Member { question_id: number; similarity: number; reason?: { stage: string; checks: string[] }; question?: { duplicate_of?: number | null } }
interface Cluster { cluster_id: number; canonical_question_id: number; members: Member[]; review?: { state: string; decided_by: string | null } }

describe.skipIf(!chromiumAvailable('review screen browser test'))('review screen in Chromium', () => {
  let service: TestService;
  let browser: BrowserContext;
  let alice: Page; // desktop
  let bob: Page; // phone, reviewing as BOB
  let taskId: number;
  let firstPage: Cluster[];
  const errors: string[] = [];
  const shots = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'dedup-review-screenshots');

  const clusters = async (query = '') =>
    (await service.api<{ items: Cluster[]; total: number }>('GET', `/api/dedup/tasks/${taskId}/clusters?include=questions&page_size=10${query}`)).body.data;
  const cardOf = (page: Page, id: number) => page.locator(`.cluster[data-cluster-id="${id}"]`);
  const focused = (page: Page) => page.evaluate(() => {
    const member = document.activeElement?.closest<HTMLElement>('.member');
    return member ? [Number(member.closest<HTMLElement>('.cluster')!.dataset.clusterId), Number(member.dataset.questionId)] : null;
  });
  const shoot = async (page: Page, name: string) => {
    const path = join(shots, name);
    await page.screenshot({ path, fullPage: name.includes('full') });
    console.log(`review screenshot: ${path}`);
  };
  /** What a cluster is entered at: its first member that is not the canonical one. */
  const entryOf = (cluster: Cluster) => cluster.members.find((m) => m.question_id !== cluster.canonical_question_id)!.question_id;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    service = await startTestService();
    const imported = await importQuestions(service, reviewBank());
    expect(imported.rejected).toEqual([]);
    const created = await service.api('POST', '/api/dedup/tasks', { task_name: '单选题 review', filters: { type_names: ['单选题'], channel_codes: ['gaokao-新课标'] } });
    taskId = created.body.data.id;
    const watcher = await service.connect();
    watcher.emit('join_task', { task_id: taskId });
    await nextEvent(watcher, 'task_status');
    const done = nextEvent(watcher, 'task_completed', 60_000);
    await service.api('POST', `/api/dedup/tasks/${taskId}/start`);
    await done;
    firstPage = (await clusters()).items;
    expect(firstPage.length).toBe(10);

    browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
    alice = browser.pages()[0] ?? (await browser.newPage());
    bob = await browser.newPage();
    await bob.setViewportSize({ width: 390, height: 844 });
    for (const [name, page] of [['alice', alice], ['bob', bob]] as const) {
      page.on('console', (message) => message.type() === 'error' && errors.push(`${name}: ${message.text()}`));
      page.on('pageerror', (error) => errors.push(`${name}: ${error.message}`));
      page.on('response', (response) => response.status() >= 400 && errors.push(`${name}: HTTP ${response.status()} ${response.url()}`));
    }
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('shows a page of clusters with their questions, typeset math in KaTeX fonts, marked changes and reasons', async () => {
    const fonts: number[] = [];
    alice.on('response', (response) => response.url().includes('/katex/fonts/') && fonts.push(response.status()));
    // The dashboard's task card leads to the review screen.
    await alice.goto(service.url);
    await alice.locator(`.task[data-task-id="${taskId}"] a.review`).click();
    await alice.waitForURL(`${service.url}/review?task=${taskId}`);
    for (const [page, name] of [[alice, 'alice'], [bob, BOB]] as const) {
      await page.goto(`${service.url}/review?task=${taskId}&reviewer=${encodeURIComponent(name)}`);
      await page.waitForSelector('body[data-joined=true]');
      await page.waitForSelector('#clusters .list[data-loaded]');
      // A marker that a reload would wipe: every later check proves the page learnt it live.
      await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    }
    const shown = await alice.locator('.cluster').evaluateAll((cards) => cards.map((card) => Number((card as HTMLElement).dataset.clusterId)));
    expect(shown).toEqual(firstPage.map((c) => c.cluster_id));
    const total = (await clusters()).total;
    expect(await alice.textContent('#review-counts')).toStartWith(`0 of ${total} clusters reviewed`);
    expect(await alice.getAttribute('#review-bar', 'aria-valuenow')).toBe('0');

    // Each member shows its stored question; the canonical comes first and is marked as such.
    const first = firstPage[0]!;
    const card = cardOf(alice, first.cluster_id);
    expect(await card.locator('.member').count()).toBe(first.members.length);
    expect(await card.locator('.member').first().getAttribute('data-question-id')).toBe(String(first.canonical_question_id));
    expect(await card.locator('.member.canonical .content').textContent()).not.toBe('');
    expect(await card.locator('.member .message.error').count()).toBe(0);

    // The planted look-alikes differ in their number and LaTeX spelling: formulas typeset, changes marked.
    expect(await alice.locator('.content .katex').count()).toBeGreaterThan(10);
    expect(await alice.locator('.content .katex-error').count()).toBe(0);
    expect(await alice.locator('.content mark').count()).toBeGreaterThan(0);
    expect(await alice.locator('.content mark .katex').count()).toBeGreaterThan(0); // a formula spelt otherwise is marked whole
    expect(await alice.evaluate(() => document.fonts.ready.then(() => document.fonts.check('20px KaTeX_Main')))).toBe(true);
    expect(fonts.length).toBeGreaterThan(0);
    expect(fonts.every((status) => status === 200)).toBe(true);

    // Every member that carries a reason shows it (the canonical's own is not a comparison).
    const reasons = firstPage.flatMap((c) => c.members.filter((m) => m.reason && m.question_id !== c.canonical_question_id));
    expect(reasons.length).toBeGreaterThan(0);
    expect(await alice.locator('.reason').count()).toBe(reasons.length);
    const [reason] = reasons;
    expect(await alice.locator(`.member[data-question-id="${reason!.question_id}"] .reason`).first().getAttribute('data-stage')).toBe(reason!.reason!.stage);

    // Fits a phone: nothing wider than the screen.
    expect(await bob.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shoot(alice, 'review-desktop.png');
    await shoot(bob, 'review-phone.png');
    await shoot(bob, 'review-phone-full.png');
    expect(errors).toEqual([]);
  });

  it('reviews by keyboard: j/k move through members, y confirms and moves on; the other page sees it live', async () => {
    const [c1, c2] = firstPage;
    await alice.keyboard.press('j');
    expect(await focused(alice)).toEqual([c1!.cluster_id, entryOf(c1!)]);
    await alice.keyboard.press('k');
    expect(await focused(alice)).toEqual([c1!.cluster_id, c1!.canonical_question_id]);
    await alice.keyboard.press('j');
    await alice.keyboard.press('y');

    await cardOf(alice, c1!.cluster_id).and(alice.locator('[data-state=confirmed]')).waitFor();
    expect(await focused(alice)).toEqual([c2!.cluster_id, entryOf(c2!)]);
    const onBob = cardOf(bob, c1!.cluster_id);
    await onBob.and(bob.locator('[data-state=confirmed]')).waitFor();
    expect(await onBob.locator('.review-state').textContent()).toStartWith('confirmed by alice');
    const total = (await clusters()).total;
    await bob.waitForFunction((want) => document.querySelector('#review-bar')?.getAttribute('aria-valuenow') === want, String(Math.round((1 / total) * 10_000) / 100));
    expect(await bob.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    const stored = (await clusters()).items.find((c) => c.cluster_id === c1!.cluster_id)!;
    expect(stored.review).toMatchObject({ state: 'confirmed', decided_by: 'alice' });
  });

  it('rejects a member with x, makes another canonical with c, dismisses with n; the desktop page follows', async () => {
    // The planted clusters hold four questions: one can leave and the cluster still has three.
    const big = firstPage.find((c, i) => i >= 2 && c.members.length >= 4)!;
    const small = firstPage.find((c, i) => i >= 2 && c !== big)!;
    expect(big).toBeDefined();
    await bob.locator(`.cluster[data-cluster-id="${big.cluster_id}"] .member[data-question-id="${entryOf(big)}"]`).click();
    await bob.keyboard.press('x');
    const rejected = entryOf(big);
    const onAlice = cardOf(alice, big.cluster_id);
    await onAlice.and(alice.locator('[data-state=partial]')).waitFor();
    expect(await onAlice.locator(`.member[data-question-id="${rejected}"]`).count()).toBe(0);
    expect(await onAlice.locator('.member').count()).toBe(big.members.length - 1);
    // The focus stays in the cluster, on a member still there; c makes it canonical.
    const spot = (await focused(bob))!;
    const next = spot[1]!;
    expect(spot[0]).toBe(big.cluster_id);
    expect(next).not.toBe(rejected);
    expect(next).not.toBe(big.canonical_question_id);
    await bob.keyboard.press('c');
    await onAlice.locator(`.member.canonical[data-question-id="${next}"]`).waitFor();
    expect(await onAlice.locator('.member').first().getAttribute('data-question-id')).toBe(String(next));

    // The focus stayed on the question, now the canonical one: x on it is refused on the page, nothing
    // is sent, even pressed before the page has the answer to c (decisions on a cluster go in turn).
    expect(await focused(bob)).toEqual([big.cluster_id, next]);
    await bob.keyboard.press('x');
    await bob.locator('#notice', { hasText: `#${next} is already the canonical question` }).waitFor();
    await bob.locator(`.cluster[data-cluster-id="${big.cluster_id}"] .member.canonical[data-question-id="${next}"]`).waitFor();
    expect(await bob.locator(`.cluster[data-cluster-id="${big.cluster_id}"] .member`).count()).toBe(big.members.length - 1);

    const remembered = await service.api<{ items: { question_ids: number[]; verdict: string; decided_by: string }[] }>('GET', `/api/dedup/decisions?question_id=${rejected}`);
    expect(remembered.body.data.items.map((d) => [d.verdict, d.decided_by])).toContainEqual(['distinct', BOB]);

    // A button does what its key does.
    await bob.locator(`.cluster[data-cluster-id="${small.cluster_id}"] button[data-act=dismiss]`).click();
    await cardOf(alice, small.cluster_id).and(alice.locator('[data-state=dismissed]')).waitFor();
    expect(await cardOf(alice, small.cluster_id).locator('.review-state').textContent()).toStartWith(`dismissed by ${BOB}`);
    expect(await alice.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // The button moved the focus on, as y and n do; n dismisses the next cluster.
    const after = firstPage[firstPage.findIndex((c) => c === small) + 1]!;
    expect(await focused(bob)).toEqual([after.cluster_id, entryOf(after)]);
    await bob.keyboard.press('n');
    await cardOf(alice, after.cluster_id).and(alice.locator('[data-state=dismissed]')).waitFor();
    expect(await focused(bob)).not.toEqual([after.cluster_id, entryOf(after)]); // moved on again
    await bob.keyboard.press('K'); // and back
    expect(await focused(bob)).toEqual([after.cluster_id, entryOf(after)]);

    // The other reviewer's decision is also said in a line at the bottom of the screen.
    await alice.locator('#live', { hasText: `${BOB}: cluster ${after.cluster_id} dismissed` }).waitFor();
    await cardOf(alice, small.cluster_id).scrollIntoViewIfNeeded();
    await shoot(alice, 'review-desktop-decided.png');
    await shoot(bob, 'review-phone-decided.png');
  });

  it('filters by review state and similarity band, as the service answers them', async () => {
    await alice.selectOption('#filters select[name=review]', 'confirmed');
    await alice.waitForURL(/review=confirmed/);
    await alice.waitForFunction(() => document.querySelectorAll('.cluster').length > 0 && [...document.querySelectorAll<HTMLElement>('.cluster')].every((c) => c.dataset.state === 'confirmed'));
    const confirmed = (await clusters('&review=confirmed')).items.map((c) => String(c.cluster_id));
    expect(await alice.locator('.cluster').evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.clusterId))).toEqual(confirmed);

    await alice.selectOption('#filters select[name=review]', 'unreviewed');
    await alice.fill('#filters input[name=max_similarity]', '0.99');
    await alice.press('#filters input[name=max_similarity]', 'Enter');
    await alice.locator('#filters input[name=max_similarity]').blur();
    await alice.waitForURL(/max_similarity=0.99/);
    const band = (await clusters('&review=unreviewed&max_similarity=0.99')).items.map((c) => String(c.cluster_id));
    await alice.waitForFunction((ids) => [...document.querySelectorAll<HTMLElement>('.cluster')].map((c) => c.dataset.clusterId).join() === ids.join(), band);

    // The address keeps the filters: a reload shows the same selection.
    await alice.reload();
    await alice.waitForSelector('#clusters .list[data-loaded]');
    expect(await alice.inputValue('#filters select[name=review]')).toBe('unreviewed');
    expect(await alice.inputValue('#filters input[name=max_similarity]')).toBe('0.99');
    await alice.goto(`${service.url}/review?task=${taskId}&reviewer=alice`);
    await alice.waitForSelector('body[data-joined=true]');
    await alice.waitForSelector('#clusters .list[data-loaded]');
  });

  it('resolves the confirmed clusters after a confirmation step; the other page hears of it', async () => {
    const confirmed = (await clusters('&review=confirmed')).items;
    expect(confirmed.length).toBeGreaterThan(0);
    const duplicates = confirmed.flatMap((c) => c.members.filter((m) => m.question_id !== c.canonical_question_id).map((m) => [m.question_id, c.canonical_question_id]));

    await alice.click('#resolve');
    await alice.waitForSelector('#resolve-dialog[open]');
    await shoot(alice, 'review-resolve-dialog.png');
    await alice.click('#resolve-dialog button[value=cancel]');
    expect(await alice.locator('#resolve-dialog[open]').count()).toBe(0);
    const untouched = await service.api('GET', `/api/questions/${duplicates[0]![0]}`);
    expect(untouched.body.data.duplicate_of ?? null).toBeNull();

    await alice.click('#resolve');
    await alice.click('#resolve-dialog button[value=resolve]');
    await alice.locator('#resolve-result', { hasText: `${duplicates.length} questions resolved in ${confirmed.length} clusters` }).waitFor();
    await bob.locator('#resolve-result', { hasText: `${duplicates.length} questions resolved` }).waitFor();
    for (const [question, canonical] of duplicates) {
      expect((await service.api('GET', `/api/questions/${question}`)).body.data.duplicate_of).toBe(canonical);
    }
    expect(await bob.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // Both pages load their clusters again: each resolved question says what it duplicates.
    await alice.waitForFunction((n) => document.querySelectorAll('.member .resolved').length === n, duplicates.length);
    await bob.waitForFunction((n) => document.querySelectorAll('.member .resolved').length === n, duplicates.length);
    expect(await alice.locator(`.member[data-question-id="${duplicates[0]![0]}"] .resolved`).textContent()).toBe(`resolved: duplicate of #${duplicates[0]![1]}`);
    await bob.evaluate(() => window.scrollTo(0, 0));
    await shoot(bob, 'review-phone-resolved.png');
    expect(errors).toEqual([]);
  });
});
