import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { REVIEW_HTML } from './review-page.ts';

const ENTRY = new URL('./client/review-main.ts', import.meta.url);

/** KaTeX's stylesheet and fonts, served from the installed package (no CDN; the version is the bundled one's). */
const KATEX_DIST = dirname(Bun.resolveSync('katex/dist/katex.min.css', import.meta.dir));
const KATEX_FONT = /^KaTeX_[A-Za-z0-9-]+\.(woff2|woff|ttf)$/;
const FONT_TYPES = { woff2: 'font/woff2', woff: 'font/woff', ttf: 'font/ttf' } as const;

/**
 * `/review`, `/review.js` and KaTeX's files under `/katex/`; the bundle is built on its first request
 * and kept for this app's life, by the dashboard's own bundler (given, so the two route files do not import each other).
 */
export function reviewScreenRoutes(bundleClient: (entry: URL) => Promise<string>) {
  const app = new Hono();
  let bundle: Promise<string> | undefined;

  app.get('/review', (c) => c.html(REVIEW_HTML));
  app.get('/review.js', async (c) => {
    bundle ??= bundleClient(ENTRY).catch((error: unknown) => {
      bundle = undefined; // let the next request try again
      throw error;
    });
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body(await bundle);
  });
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
