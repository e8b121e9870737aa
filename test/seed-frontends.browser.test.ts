/**
 * The seed document's Vue 3 and React examples, byte for byte, compiled with their own tools
 * (vue/compiler-sfc, Bun's TSX) and run in Chromium against the service. The examples dial
 * `http://localhost:5000`; Chromium maps that address to the test's free port, so the code
 * stays unchanged and the test never needs port 5000.
 */
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { compileScript, parse } from 'vue/compiler-sfc';
import { generateSampleBank } from '../src/sample/generate.ts';
import { chromiumAvailable, launchChromium } from './support/browser.ts';
import { importQuestions, startTestService, type TestService } from './support/service.ts';

// Real servers, pools and browsers: bun's 5 s default is too short on a loaded CI machine (bunfig's [test] timeout is not read).
setDefaultTimeout(60_000);

const SEED = join(import.meta.dir, 'fixtures', 'seed', 'realtime-progress-api.zh.md');
const BUILD = join(import.meta.dir, '.seed-frontends');

/** The seed document's one fenced block in `lang`, byte for byte. */
function seedBlock(lang: 'vue' | 'tsx'): string {
  const blocks = [...readFileSync(SEED, 'utf8').matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);
  if (blocks.length !== 1) throw new Error(`expected one ${lang} block in ${SEED}, found ${blocks.length}`);
  return blocks[0]!;
}

it("finds the seed document's Vue single-file component and React component", () => {
  expect(seedBlock('vue')).toContain('<script setup lang="ts">');
  expect(seedBlock('tsx')).toContain('export default');
});

/** Bundles one entry for the browser; it must live inside the project so `vue`/`react` resolve. */
async function bundle(entry: string): Promise<string> {
  const result = await Bun.build({
    entrypoints: [entry],
    target: 'browser',
    define: {
      'process.env.NODE_ENV': '"production"',
      __VUE_OPTIONS_API__: 'true',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
  });
  if (!result.success) throw new Error(result.logs.map(String).join('\n'));
  return result.outputs[0]!.text();
}

async function buildFrontends(): Promise<{ vue: string; react: string }> {
  rmSync(BUILD, { recursive: true, force: true });
  mkdirSync(BUILD, { recursive: true });
  const { descriptor } = parse(seedBlock('vue'), { filename: 'TaskProgress.vue' });
  const script = compileScript(descriptor, { id: 'seed-vue', inlineTemplate: true });
  writeFileSync(join(BUILD, 'TaskProgress.vue.ts'), script.content);
  writeFileSync(join(BUILD, 'vue-entry.ts'), "import { createApp } from 'vue';\nimport TaskProgress from './TaskProgress.vue.ts';\ncreateApp(TaskProgress).mount('#app');\n");
  writeFileSync(join(BUILD, 'TaskProgressComponent.tsx'), seedBlock('tsx'));
  writeFileSync(
    join(BUILD, 'react-entry.tsx'),
    "import { createRoot } from 'react-dom/client';\nimport TaskProgressComponent from './TaskProgressComponent.tsx';\n" +
      "const taskId = Number(new URLSearchParams(location.search).get('task'));\n" +
      "createRoot(document.getElementById('app')!).render(<TaskProgressComponent taskId={taskId} />);\n",
  );
  return { vue: await bundle(join(BUILD, 'vue-entry.ts')), react: await bundle(join(BUILD, 'react-entry.tsx')) };
}

describe.skipIf(!chromiumAvailable('seed Vue/React browser test'))("the seed's Vue 3 and React examples in Chromium", () => {
  let service: TestService;
  let browser: BrowserContext;
  let scripts: { vue: string; react: string };
  let pages: Server;
  let pagesOrigin: string;

  beforeAll(async () => {
    service = await startTestService();
    await importQuestions(service, generateSampleBank({ count: 200, seed: 9 }) as Record<string, unknown>[]);
    scripts = await buildFrontends();
    browser = await launchChromium({ args: [`--host-resolver-rules=MAP localhost:5000 127.0.0.1:${service.port}`] });
    // The examples' own page, served from another local origin, as a frontend dev server would.
    // (node:http, since @hono/node-server swaps the global Response that Bun.serve would need.)
    pages = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      const which = path.includes('vue') ? 'vue' : 'react';
      if (path.endsWith('.js')) {
        response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(scripts[which]);
      } else {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        response.end(`<!doctype html><meta charset="utf-8"><div id="app"></div><script src="/${which}.js"></script>`);
      }
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    pagesOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (pages ? pages.close(resolve) : resolve(undefined)));
    await service?.stop();
    rmSync(BUILD, { recursive: true, force: true });
  });

  /** Opens an example on a task, starts the task, and waits for the example's completion alert. */
  async function runExample(which: 'vue' | 'react', taskId: number): Promise<{ page: Page; alerts: string[] }> {
    const page = await browser.newPage();
    const alerts: string[] = [];
    const completed = new Promise<void>((resolve) => {
      page.on('dialog', (dialog) => {
        alerts.push(dialog.message());
        void dialog.accept().then(resolve);
      });
    });
    await page.goto(`${pagesOrigin}/${which}.html?task=${taskId}`);
    await page.getByText('连接状态: 已连接').waitFor();
    await page.getByText('状态: pending').waitFor(); // task_status arrived: the example joined the room
    expect((await service.api('POST', `/api/dedup/tasks/${taskId}/start`)).status).toBe(200);
    await completed;
    return { page, alerts };
  }

  async function expectFinished(page: Page) {
    await page.getByText('状态: completed').waitFor();
    const text = await page.locator('#app').innerText();
    expect(text).toContain('进度: 100%');
    const processed = /已处理: (\d+) \/ (\d+)/.exec(text);
    expect(processed?.[1]).toBe(processed?.[2]);
    expect(Number(processed?.[1])).toBeGreaterThan(1);
    expect(text).not.toContain('连接状态: 未连接');
  }

  it('the Vue 3 example follows task 1 to completion', async () => {
    const created = await service.api('POST', '/api/dedup/tasks', { task_name: 'vue example' });
    expect(created.body.data.id).toBe(1); // the example hard-codes task 1
    const { page, alerts } = await runExample('vue', 1);
    expect(alerts).toEqual(['任务已完成！']);
    await expectFinished(page);
  });

  it('the React example follows its taskId to completion', async () => {
    const created = await service.api('POST', '/api/dedup/tasks', { task_name: 'react example' });
    const { page, alerts } = await runExample('react', created.body.data.id);
    expect(alerts).toEqual(['任务已完成！']);
    await expectFinished(page);
  });
});
