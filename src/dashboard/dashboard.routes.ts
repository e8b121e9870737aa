import { Hono } from 'hono';
import { DASHBOARD_HTML } from './page.ts';
import { reviewScreenRoutes } from './review.routes.ts';

const ENTRY = new URL('./client/main.ts', import.meta.url);

/** Bundles the client with Bun; no build step to remember, and a stale bundle cannot be served. */
export async function bundleDashboard(entry: URL = ENTRY): Promise<string> {
  const result = await Bun.build({ entrypoints: [Bun.fileURLToPath(entry)], target: 'browser', minify: true });
  if (!result.success) throw new Error(`dashboard bundle failed: ${result.logs.map(String).join('\n')}`);
  return result.outputs[0]!.text();
}

/** `/` and `/dashboard.js`; the bundle is built on the first request and kept for this app's life. */
export function dashboardRoutes() {
  const app = new Hono();
  let bundle: Promise<string> | undefined;

  app.get('/', (c) => c.html(DASHBOARD_HTML));
  app.get('/dashboard.js', async (c) => {
    bundle ??= bundleDashboard().catch((error: unknown) => {
      bundle = undefined; // let the next request try again
      throw error;
    });
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body(await bundle);
  });
  app.route('/', reviewScreenRoutes(bundleDashboard)); // the review screen: /review, its bundle, KaTeX's CSS and fonts
  return app;
}
