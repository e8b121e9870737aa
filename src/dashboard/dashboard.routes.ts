import { Hono } from 'hono';
import { DASHBOARD_HTML } from './page.ts';
import { reviewScreenRoutes } from './review.routes.ts';

const ENTRY = new URL('./client/main.ts', import.meta.url);

/** The tab's icon: three lines, two of them alike. Browsers ask for one with every page, and a 404 is a console error. */
const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f6fed"/><path d="M8 10h16M8 16h16M8 22h10" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>';

/** Bundles the client with Bun; no build step to remember, and a stale bundle cannot be served. */
export async function bundleDashboard(entry: URL = ENTRY): Promise<string> {
  const result = await Bun.build({ entrypoints: [Bun.fileURLToPath(entry)], target: 'browser', minify: true });
  if (!result.success) throw new Error(`dashboard bundle failed: ${result.logs.map(String).join('\n')}`);
  return result.outputs[0]!.text();
}

/** `/`, `/dashboard.js` and the icon (`/favicon.svg`, also at `/favicon.ico` where browsers look unasked); the bundle is built on the first request and kept for this app's life. */
export function dashboardRoutes() {
  const app = new Hono();
  let bundle: Promise<string> | undefined;

  app.get('/', (c) => c.html(DASHBOARD_HTML));
  for (const path of ['/favicon.svg', '/favicon.ico']) {
    app.get(path, (c) => {
      c.header('Content-Type', 'image/svg+xml');
      c.header('Cache-Control', 'public, max-age=86400');
      return c.body(FAVICON_SVG);
    });
  }
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
