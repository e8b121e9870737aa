import { Hono } from 'hono';
import { docsPage } from './docs.page.ts';
import { buildOpenApi } from './openapi.ts';

/** `/api/openapi.json` and `/api/docs`; built once per app, open even when tokens are required. */
export function docsRoutes(version: string) {
  const app = new Hono();
  const doc = buildOpenApi(version);
  const page = docsPage(doc);
  app.get('/openapi.json', (c) => c.json(doc));
  app.get('/docs', (c) => c.html(page));
  return app;
}
