import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { DASHBOARD_HTML } from './page.ts';
import { REVIEW_HTML } from './review-page.ts';

const ENTRIES = {
  'dashboard.js': new URL('./client/main.ts', import.meta.url),
  'review.js': new URL('./client/review-main.ts', import.meta.url),
};

/** KaTeX's stylesheet and fonts, served from the installed package (no CDN; the version is the bundled one's). */
const KATEX_DIST = dirname(Bun.resolveSync('katex/dist/katex.min.css', import.meta.dir));
const KATEX_FONT = /^KaTeX_[A-Za-z0-9-]+\.(woff2|woff|ttf)$/;
const FONT_TYPES = { woff2: 'font/woff2', woff: 'font/woff', ttf: 'font/ttf' } as const;

/** Bundles a client entry with Bun; no build step to remember, and a stale bundle cannot be served. */
export async function bundleDashboard(entry: URL = ENTRIES['dashboard.js']): Promise<string> {
  const result = await Bun.build({ entrypoints: [Bun.fileURLToPath(entry)], target: 'browser', minify: true });
  if (!result.success) throw new Error(`dashboard bundle failed: ${result.logs.map(String).join('\n')}`);
  return result.outputs[0]!.text();
}

/** `/`, `/review`, their scripts and KaTeX's files; each bundle is built on its first request and kept for this app's life. */
export function dashboardRoutes() {
  const app = new Hono();
  const bundles = new Map<string, Promise<string>>();

  app.get('/', (c) => c.html(DASHBOARD_HTML));
  app.get('/review', (c) => c.html(REVIEW_HTML));
  for (const [name, entry] of Object.entries(ENTRIES)) {
    app.get(`/${name}`, async (c) => {
      let bundle = bundles.get(name);
      if (!bundle) {
        bundle = bundleDashboard(entry).catch((error: unknown) => {
          bundles.delete(name); // let the next request try again
          throw error;
        });
        bundles.set(name, bundle);
      }
      c.header('Content-Type', 'text/javascript; charset=utf-8');
      c.header('Cache-Control', 'no-cache');
      return c.body(await bundle);
    });
  }
  app.get('/katex/katex.min.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(Bun.file(join(KATEX_DIST, 'katex.min.css')).stream());
  });
  // Only KaTeX's own font names: nothing else of the file system is reachable through this route.
  app.get('/katex/fonts/:file', async (c) => {
    const file = c.req.param('file');
    const match = KATEX_FONT.exec(file);
    const font = match && Bun.file(join(KATEX_DIST, 'fonts', file));
    if (!match || !font || !(await font.exists())) return c.notFound();
    c.header('Content-Type', FONT_TYPES[match[1] as keyof typeof FONT_TYPES]);
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(font.stream());
  });
  return app;
}
