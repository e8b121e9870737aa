import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createApp, type AppDeps } from '../src/app.ts';
import { createTaskBody } from '../src/tasks/task.schema.ts';
import { startTestService, type TestService } from './support/service.ts';

describe('API docs', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ AUTH_TOKENS: 'secret' });
  });
  afterAll(() => service.stop());

  const get = (path: string) => fetch(`${service.url}${path}`);

  it('serves an OpenAPI 3 document and a docs page without a token, while the API needs one', async () => {
    expect((await get('/api/dedup/tasks')).status).toBe(401);
    const response = await get('/api/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.schemas.CreateTask.required).toEqual(['task_name']);
    const page = await get('/api/docs');
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    for (const path of Object.keys(doc.paths)) expect(html).toContain(path);
    for (const event of ['join_task', 'leave_task', 'connected', 'task_status', 'task_progress', 'task_completed', 'task_error', 'error', 'left']) {
      expect(html).toContain(`<code>${event}</code>`);
    }
  });

  it('is a valid OpenAPI 3.1 document, $refs resolved (checked by swagger-parser)', async () => {
    const doc = (await (await get('/api/openapi.json')).json()) as any;
    const parsed = (await SwaggerParser.validate(doc)) as any;
    expect(parsed.paths['/api/dedup/tasks'].post.requestBody.content['application/json'].schema.properties.task_name.type).toBe('string');
  });

  it('documents exactly the routes the app serves', async () => {
    const doc = (await (await get('/api/openapi.json')).json()) as any;
    const documented = Object.entries(doc.paths)
      .flatMap(([path, methods]) => Object.keys(methods as object).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    // createApp does no I/O, so its route table can be read without a database behind it.
    const app = createApp({ authTokens: [], corsOrigins: '*', maxBodyMb: 1, version: 'test', metrics: { render: async () => '', recordRequest() {} } } as unknown as AppDeps);
    const served = [...new Set(app.routes.filter((r) => ['GET', 'POST', 'DELETE'].includes(r.method)).map((r) => `${r.method} ${r.path.replace(/\/$/, '')}`))]
      .filter((route) => route.includes('/api/') && !/\/api\/(openapi\.json|docs)$/.test(route))
      .sort();
    expect(documented).toEqual(served);
  });

  it('derives request schemas from the validators themselves', async () => {
    const doc = (await (await get('/api/openapi.json')).json()) as any;
    const maxDistance = doc.components.schemas.CreateTask.properties.max_distance;
    expect(createTaskBody.safeParse({ task_name: 'x', max_distance: maxDistance.maximum }).success).toBe(true);
    expect(createTaskBody.safeParse({ task_name: 'x', max_distance: maxDistance.maximum + 1 }).success).toBe(false);
    const params = doc.paths['/api/dedup/tasks'].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(['status', 'page', 'page_size']);
  });
});
